//! Writing results: standard output or a file, and a closed pipe treated as success.

use crate::Outcome;
use std::io::Write;
use std::path::Path;

/// Write `text` to `path`, or to standard output when `path` is `None`.
pub fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Write `text` to `path` atomically: into a new temporary file beside it (created with
/// a random name and `O_EXCL`, so an existing file or symbolic link is never opened),
/// flushed to disk, then renamed over `path`. A reader sees the old file or the whole new one;
/// on failure the temporary file is removed and `path` is untouched. A character device or a
/// FIFO at `path` (itself, not through a symbolic link: `-o /dev/null`, `-o /dev/stdout`'s
/// target) is written to, never replaced.
pub fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    write_atomic_bytes(path, text.as_bytes())
}

/// [`write_atomic`] for bytes (a compiled program).
pub fn write_atomic_bytes(path: &Path, text: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    if let Ok(m) = std::fs::symlink_metadata(path) {
        let t = m.file_type();
        if t.is_char_device() || t.is_fifo() {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NOCTTY)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            return f
                .write_all(text)
                .with_context(|| format!("cannot write {}", path.display()));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // a random name, created with O_EXCL (tempfile): nothing another user can guess or plant
    let mut f = tempfile::Builder::new()
        .prefix(".confine-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text)
        .and_then(|()| f.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Whether an error is a write to a closed pipe (`confine … | head`), which is not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A command's result as data. The command builds it; [`print()`] renders it as text or JSON,
/// the one place that decides how results reach standard output.
pub trait Report {
    /// The human-readable text, newline-terminated.
    fn text(&self) -> String;
    /// The machine-readable form.
    fn json(&self) -> Json;
    /// What the exit status says about it.
    fn outcome(&self) -> Outcome;
}

/// How a report is serialised under `--json`.
pub enum Json {
    /// One document, pretty-printed.
    Document(serde_json::Value),
    /// One object on one line.
    Line(serde_json::Value),
    /// JSON Lines: one object per line (streams and lists of files).
    Lines(Vec<serde_json::Value>),
}

impl Json {
    /// The serialised text, newline-terminated.
    pub fn render(&self) -> anyhow::Result<String> {
        Ok(match self {
            Json::Document(v) => serde_json::to_string_pretty(v)? + "\n",
            Json::Line(v) => serde_json::to_string(v)? + "\n",
            Json::Lines(vs) => {
                let mut s = String::new();
                for v in vs {
                    s.push_str(&serde_json::to_string(v)?);
                    s.push('\n');
                }
                s
            }
        })
    }
}

/// Write `report` as JSON or text to `path` (standard output when `None`); its outcome.
pub fn print(report: &impl Report, json: bool, path: Option<&Path>) -> anyhow::Result<Outcome> {
    let text = if json {
        report.json().render()?
    } else {
        report.text()
    };
    emit(&text, path)?;
    Ok(report.outcome())
}

/// `s` safe to print on a terminal: every control character (C0, DEL, C1: newlines, escape
/// sequences, carriage returns) and every bidirectional override shown as an escape (`\n`,
/// `\x1b`, `\u{202e}`), so that text a process or a record chose (a command line, a policy
/// name) cannot add lines to a report, move the cursor or hide what follows.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && bad(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if bad(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod visible_tests {
    use super::visible;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped() {
        assert_eq!(visible("plain /p.yaml"), "plain /p.yaml");
        assert_eq!(
            visible("/p.yaml): x\n  seccomp  filter\x1b[8m"),
            "/p.yaml): x\\n  seccomp  filter\\x1b[8m"
        );
        assert_eq!(visible("a\rb\tc\x7f\u{9b}d"), "a\\rb\\tc\\x7f\\u{9b}d");
        assert_eq!(visible("evil\u{202e}txt.sh"), "evil\\u{202e}txt.sh");
        assert_eq!(visible("ünïcode ok"), "ünïcode ok");
    }
}
