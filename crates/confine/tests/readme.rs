//! The README's examples, run as a newcomer would run them.
//!
//! Every ```` ```console ```` block of `README.md` and `examples/README.md` is a transcript: a
//! line `$ CMD` is a command, the lines after it (up to the next `$ ` line or the end of the
//! block) are what it prints. This test runs the commands of each block, in order, in one `sh`
//! (so that `$?`, `&&` and files written by an earlier command work as in a terminal), with:
//!
//! * the working directory a temporary directory that looks like the repository root: a copy of
//!   `examples/` (commands may write there) and a symbolic link to every other top-level entry
//!   but `target` and `.git`;
//! * `confine` on `PATH`: the directory of the binary under test comes first;
//! * standard output and standard error one pipe, in the order written (`exec 2>&1` first; a
//!   command that redirects stderr itself, `2>/dev/null`, does so as written), standard input an
//!   empty pipe, `LC_ALL=C`.
//!
//! The output must equal the lines the README shows, except for these documented rules:
//!
//! * a line that is `...` alone (any indentation) stands for any number of lines, none included;
//! * `…` inside an expected line stands for any text on that line (`…` in the output matches
//!   itself);
//! * a trailing newline, or its absence, is not compared.
//!
//! Markers, HTML comments right before a block (only blank lines or other markers in between),
//! say what cannot be reproduced everywhere; every one is visible in the README:
//!
//! * `<!-- readme-test: skip: REASON -->`: the block is not run; it is counted and REASON printed;
//! * `<!-- readme-test: needs: root, no-apparmor -->`: run only as root / only where the kernel
//!   has no AppArmor (the output shows the note confine prints then); skipped with the reason
//!   otherwise;
//! * `<!-- readme-test: normalize: lsm -->`: the list after `active LSMs: ` (up to `)` or the end
//!   of the line) is replaced by `<LSMs>` in both the README and the output, since it is the
//!   running kernel's.
//!
//! A block without a `$ ` command must be marked `skip` (it is a transcript from elsewhere, such
//! as the AppArmor VM's console). The test prints a table: commands run, matched, skipped with
//! the reasons; `cargo test --test readme -- --nocapture` shows it on success.

use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The markdown files whose console blocks are run, relative to the repository root.
const FILES: &[&str] = &["README.md", "examples/README.md"];

/// How long one block may take before it is killed (a hang is a failure, not a wait).
const BLOCK_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Markers {
    skip: Option<String>,
    needs: Vec<String>,
    normalize: Vec<String>,
}

struct Cmd {
    line: usize,
    text: String,
    expected: Vec<String>,
}

struct Block {
    file: &'static str,
    line: usize,
    markers: Markers,
    commands: Vec<Cmd>,
    /// Lines with a `# ` prompt (only in skipped blocks).
    prompts: usize,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The console blocks of one markdown file, with their markers.
fn parse(file: &'static str, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut pending = Markers::default();
    let mut pending_line: Option<usize> = None;
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let t = line.trim();
        if let Some(body) = t
            .strip_prefix("<!-- readme-test:")
            .and_then(|s| s.strip_suffix("-->"))
        {
            let body = body.trim();
            let (key, value) = body
                .split_once(':')
                .unwrap_or_else(|| panic!("{file}:{}: marker without `key: value`", i + 1));
            let value = value.trim().to_string();
            match key.trim() {
                "skip" => pending.skip = Some(value),
                "needs" => pending
                    .needs
                    .extend(value.split(',').map(|s| s.trim().to_string())),
                "normalize" => pending
                    .normalize
                    .extend(value.split(',').map(|s| s.trim().to_string())),
                k => panic!("{file}:{}: unknown readme-test marker `{k}`", i + 1),
            }
            for n in &pending.needs {
                assert!(
                    n == "root" || n == "no-apparmor",
                    "{file}:{}: unknown need `{n}`",
                    i + 1
                );
            }
            for n in &pending.normalize {
                assert!(n == "lsm", "{file}:{}: unknown normalisation `{n}`", i + 1);
            }
            pending_line.get_or_insert(i + 1);
            continue;
        }
        if t.is_empty() {
            continue;
        }
        if t == "```console" {
            let start = i + 1;
            let mut commands: Vec<Cmd> = Vec::new();
            let mut prompts = 0;
            let mut closed = false;
            for (j, l) in lines.by_ref() {
                if l.trim() == "```" {
                    closed = true;
                    break;
                }
                if let Some(cmd) = l.strip_prefix("$ ") {
                    assert!(
                        pending.skip.is_some() || !cmd.trim_end().ends_with('&'),
                        "{file}:{}: a command left running in the background (`&`) must be in \
                         a block marked skip",
                        j + 1
                    );
                    commands.push(Cmd {
                        line: j + 1,
                        text: cmd.to_string(),
                        expected: Vec::new(),
                    });
                } else if l.starts_with("# ") && pending.skip.is_some() && commands.is_empty() {
                    prompts += 1;
                } else if let Some(c) = commands.last_mut() {
                    c.expected.push(l.to_string());
                } else if pending.skip.is_none() {
                    panic!(
                        "{file}:{}: a console block whose first line is not a `$ ` command must \
                         be marked <!-- readme-test: skip: REASON -->",
                        j + 1
                    );
                }
            }
            assert!(closed, "{file}:{start}: console block not closed");
            blocks.push(Block {
                file,
                line: start,
                markers: std::mem::take(&mut pending),
                commands,
                prompts,
            });
            pending_line = None;
            continue;
        }
        if let Some(l) = pending_line {
            panic!("{file}:{l}: readme-test marker not followed by a console block");
        }
    }
    if let Some(l) = pending_line {
        panic!("{file}:{l}: readme-test marker not followed by a console block");
    }
    blocks
}

/// `active LSMs: X` → `active LSMs: <LSMs>`, X running to `)` or the end of the line.
fn normalize_lsm(line: &str) -> String {
    const KEY: &str = "active LSMs: ";
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(KEY) {
        out.push_str(&rest[..at + KEY.len()]);
        out.push_str("<LSMs>");
        rest = &rest[at + KEY.len()..];
        rest = &rest[rest.find(')').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// Does `text` match `pattern`, where `…` in the pattern matches any run of characters?
fn line_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    if !text.ends_with(last) {
        return false;
    }
    // Greedy leftmost search for the middle parts is exact for this kind of pattern.
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Do the output lines match the expected ones (`...` lines standing for any number of lines)?
fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e.trim() == "..." => {
            (0..=actual.len()).any(|k| lines_match(rest, &actual[k..]))
        }
        Some((e, rest)) => {
            !actual.is_empty() && line_matches(e, &actual[0]) && lines_match(rest, &actual[1..])
        }
    }
}

/// A temporary directory that looks like the repository root: examples/ copied, the rest
/// linked.
fn workdir(root: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // Readable by the other users README commands run as (`setpriv --reuid=65534`).
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let dest = dir.path().join(&name);
        match name.to_str().unwrap() {
            "target" | ".git" => {}
            "examples" => {
                fs::create_dir(&dest).unwrap();
                fs::set_permissions(&dest, fs::Permissions::from_mode(0o755)).unwrap();
                for f in fs::read_dir(entry.path()).unwrap() {
                    let f = f.unwrap();
                    fs::copy(f.path(), dest.join(f.file_name())).unwrap();
                }
            }
            _ => std::os::unix::fs::symlink(entry.path(), &dest).unwrap(),
        }
    }
    dir
}

fn marker(i: usize) -> String {
    format!("@@readme-test-end-{i}@@")
}

/// Runs the commands of one block in one `sh`; the output of each command, as lines.
fn run_block(block: &Block, cwd: &Path, path: &str) -> Vec<Vec<String>> {
    let mut script = String::from("exec 2>&1\n");
    for (i, c) in block.commands.iter().enumerate() {
        script.push_str(&c.text);
        script.push('\n');
        script.push_str(&format!(
            "__readme_rc=$?; printf '\\n%s\\n' '{}'; (exit $__readme_rc)\n",
            marker(i)
        ));
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(cwd)
        .env("PATH", path)
        .env("LC_ALL", "C")
        .env_remove("LANG")
        .env_remove("LANGUAGE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    // The output ends when every process holding the pipe is gone: the shell and anything it
    // left running. Either both end before the deadline, or the block has failed.
    let deadline = Instant::now() + BLOCK_TIMEOUT;
    let received = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    if received.is_err() {
        // SAFETY: kill(2) on the process group this test started.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    }
    let _ = child.wait();
    let Ok(buf) = received else {
        panic!(
            "{}:{}: the block did not finish within {BLOCK_TIMEOUT:?} (or left a process \
             holding its output)",
            block.file, block.line
        );
    };
    let out = String::from_utf8_lossy(&buf).into_owned();
    let mut rest = out.as_str();
    let mut outputs = Vec::new();
    for i in 0..block.commands.len() {
        let m = format!("\n{}\n", marker(i));
        let Some(at) = rest.find(&m) else {
            panic!(
                "{}:{}: the block's shell stopped before the end of `{}`; output: {rest}",
                block.file, block.commands[i].line, block.commands[i].text
            );
        };
        let text = &rest[..at];
        let text = text.strip_suffix('\n').unwrap_or(text);
        outputs.push(if text.is_empty() {
            Vec::new()
        } else {
            text.split('\n').map(str::to_string).collect()
        });
        rest = &rest[at + m.len()..];
    }
    outputs
}

fn apparmor_enabled() -> bool {
    fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .map(|s| s.trim() == "Y")
        .unwrap_or(false)
}

#[test]
fn readme_console_blocks_reproduce() {
    let root = repo_root();
    let is_root = unsafe { libc::geteuid() } == 0;
    let apparmor = apparmor_enabled();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_confine")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into())
    );
    let dir = workdir(&root);

    let (mut run, mut matched) = (0, 0);
    let mut skipped: Vec<(String, usize, String)> = Vec::new();
    let mut failures = Vec::new();
    for file in FILES {
        let text = fs::read_to_string(root.join(file)).unwrap();
        for block in parse(file, &text) {
            let place = format!("{}:{}", block.file, block.line);
            // A skipped transcript may use `# ` prompts (a root shell elsewhere): count them.
            let n = block.commands.len() + block.prompts;
            if let Some(reason) = &block.markers.skip {
                skipped.push((place, n, reason.clone()));
                continue;
            }
            let unmet: Vec<&str> = block
                .markers
                .needs
                .iter()
                .filter_map(|need| match need.as_str() {
                    "root" if !is_root => Some("needs root"),
                    "no-apparmor" if apparmor => {
                        Some("needs a kernel without AppArmor (its output shows the note)")
                    }
                    _ => None,
                })
                .collect();
            if !unmet.is_empty() {
                skipped.push((place, n, unmet.join("; ")));
                continue;
            }
            let lsm = block.markers.normalize.iter().any(|n| n == "lsm");
            let norm = |lines: &[String]| -> Vec<String> {
                lines
                    .iter()
                    .map(|l| if lsm { normalize_lsm(l) } else { l.clone() })
                    .collect()
            };
            let outputs = run_block(&block, dir.path(), &path);
            for (cmd, out) in block.commands.iter().zip(outputs) {
                run += 1;
                let (expected, actual) = (norm(&cmd.expected), norm(&out));
                if lines_match(&expected, &actual) {
                    matched += 1;
                } else {
                    failures.push(format!(
                        "{}:{}: $ {}\n--- README\n{}\n--- output\n{}\n",
                        block.file,
                        cmd.line,
                        cmd.text,
                        cmd.expected.join("\n"),
                        out.join("\n")
                    ));
                }
            }
        }
    }

    println!("README examples ({}):", FILES.join(", "));
    println!("  commands run  {run}");
    println!("  matched       {matched}");
    let skipped_cmds: usize = skipped.iter().map(|s| s.1).sum();
    println!(
        "  skipped       {skipped_cmds} command(s) in {} block(s)",
        skipped.len()
    );
    for (place, n, reason) in &skipped {
        println!("    {place:<24} {n} command(s): {reason}");
    }
    assert!(
        failures.is_empty(),
        "{} of {run} README command(s) print something else:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(run > 0, "no README command was run");
}

#[test]
fn matching_rules() {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(lines_match(
        &v(&["a", "...", "d"]),
        &v(&["a", "b", "c", "d"])
    ));
    assert!(lines_match(&v(&["a", "...", "b"]), &v(&["a", "b"])));
    assert!(!lines_match(&v(&["a", "...", "d"]), &v(&["a", "b"])));
    assert!(lines_match(&v(&["a", "  ..."]), &v(&["a", "b", "c"])));
    assert!(!lines_match(&v(&["a"]), &v(&["a", "b"])));
    assert!(line_matches("{\"x\":1,…]}", "{\"x\":1,{\"y\":2}]}"));
    assert!(line_matches("brk …", "brk …"));
    assert!(!line_matches("a…b", "ab c"));
    assert!(!line_matches("ab…ba", "aba"));
    assert_eq!(
        normalize_lsm("x (active LSMs: lockdown,capability): y"),
        "x (active LSMs: <LSMs>): y"
    );
    assert_eq!(
        normalize_lsm("active LSMs: lockdown,bpf"),
        "active LSMs: <LSMs>"
    );
}
