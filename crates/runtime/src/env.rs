//! The command's environment, built from nothing as a container's is: PATH, HOSTNAME, TERM
//! with `-t`, then `--env-file` and `--env` (docker's order and parsing rules), then HOME
//! from the passwd entry when not given. Also the execvp search along the new PATH.

use crate::{Error, Result};
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// Docker's default PATH for a container whose image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An ordered environment; a later value replaces an earlier one in place.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Env {
    vars: Vec<(OsString, OsString)>,
}

impl Env {
    /// Set `k` to `v`.
    pub fn set(&mut self, k: impl Into<OsString>, v: impl Into<OsString>) {
        let (k, v) = (k.into(), v.into());
        match self.vars.iter_mut().find(|(n, _)| *n == k) {
            Some(e) => e.1 = v,
            None => self.vars.push((k, v)),
        }
    }

    /// The value of `k`.
    pub fn get(&self, k: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_os_str())
    }

    /// `KEY=VALUE` sets; `KEY` alone takes confine's own value, or nothing when confine has
    /// none (docker run's `-e KEY`).
    pub fn apply(&mut self, item: &OsStr) -> Result<()> {
        let b = item.as_bytes();
        match b.iter().position(|&c| c == b'=') {
            Some(0) => {
                return Err(Error::option(
                    "--env",
                    format!(
                        "--env `{}`: no variable name before `=`",
                        item.to_string_lossy()
                    ),
                ))
            }
            Some(i) => self.set(
                OsStr::from_bytes(&b[..i]).to_os_string(),
                OsStr::from_bytes(&b[i + 1..]).to_os_string(),
            ),
            None if b.is_empty() => {
                return Err(Error::option("--env", "--env: the value is empty"))
            }
            None => {
                if let Some(v) = std::env::var_os(item) {
                    self.set(item.to_os_string(), v);
                }
            }
        }
        Ok(())
    }

    /// `KEY=VALUE` strings for execve.
    pub fn into_cstrings(self) -> Result<Vec<CString>> {
        self.vars
            .into_iter()
            .map(|(k, v)| {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend(v.into_vec());
                CString::new(kv).map_err(|_| {
                    Error::option("--env", "an environment variable contains a NUL byte")
                })
            })
            .collect()
    }
}

/// The longest line docker's env-file reader takes (Go's bufio.Scanner default).
const MAX_LINE: usize = 64 * 1024;

/// Parse an env file as docker does (`opts.ParseEnvFile`): a UTF-8 BOM at the start is
/// dropped; leading white space is trimmed; empty lines and `#` comments are skipped;
/// `NAME=value` keeps the value untouched; a bare `NAME` takes confine's own value or is
/// dropped; a name with white space in it (`export A=1`, `A = b`) or no name (`=x`) is an
/// error, as is a line that is not UTF-8. Errors name the file and line.
pub fn parse_env_file(file: &Path, bytes: &[u8]) -> Result<Vec<OsString>> {
    let bad = |line: usize, message: String| Error::EnvFile {
        path: file.to_path_buf(),
        line,
        message,
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::new();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for (i, raw) in lines.into_iter().enumerate() {
        let n = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE {
            return Err(bad(n, format!("longer than {MAX_LINE} bytes")));
        }
        let line = std::str::from_utf8(raw).map_err(|e| {
            bad(
                n,
                format!("not UTF-8 (invalid byte at column {})", e.valid_up_to() + 1),
            )
        })?;
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line, None),
        };
        let name = name.trim_start();
        if name.is_empty() {
            return Err(bad(n, format!("no variable name in `{line}`")));
        }
        if name.contains(char::is_whitespace) {
            return Err(bad(n, format!("variable `{name}` contains white space")));
        }
        match value {
            Some(v) => out.push(OsString::from(format!("{name}={v}"))),
            None => {
                if let Some(v) = std::env::var_os(name) {
                    let mut kv = OsString::from(format!("{name}="));
                    kv.push(v);
                    out.push(kv);
                }
            }
        }
    }
    Ok(out)
}

/// The environment of one run.
pub fn build(
    env_files: &[std::path::PathBuf],
    env: &[String],
    tty: bool,
    home: Option<&str>,
) -> Result<Env> {
    let mut e = Env::default();
    e.set("PATH", DEFAULT_PATH);
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        e.set("HOSTNAME", h.trim_end());
    }
    if tty {
        e.set("TERM", "xterm");
    }
    for f in env_files {
        let bytes = crate::read_small_file(f).map_err(|source| Error::Read {
            context: format!("--env-file {}", f.display()),
            path: f.clone(),
            source,
        })?;
        for item in parse_env_file(f, &bytes)? {
            e.apply(&item)?;
        }
    }
    for item in env {
        e.apply(OsStr::new(item))?;
    }
    if e.get("HOME").is_none() {
        e.set("HOME", home.unwrap_or("/"));
    }
    Ok(e)
}

/// The paths execvp tries for `cmd` with this PATH: `cmd` itself when it has a slash,
/// otherwise each PATH entry joined with it (an empty entry is the working directory).
pub fn candidates(cmd: &OsStr, path: Option<&OsStr>) -> Result<Vec<CString>> {
    let c = |b: Vec<u8>| {
        CString::new(b).map_err(|_| Error::option("CMD", "the command contains a NUL byte"))
    };
    if cmd.is_empty() {
        return Err(Error::option("CMD", "the command is empty"));
    }
    if cmd.as_bytes().contains(&b'/') {
        return Ok(vec![c(cmd.as_bytes().to_vec())?]);
    }
    let path = path.map_or(DEFAULT_PATH.as_bytes(), OsStr::as_bytes);
    path.split(|&b| b == b':')
        .map(|dir| {
            let mut p = if dir.is_empty() {
                b".".to_vec()
            } else {
                dir.to_vec()
            };
            p.push(b'/');
            p.extend(cmd.as_bytes());
            c(p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Result<Vec<String>> {
        parse_env_file(Path::new("f"), s)
            .map(|v| v.into_iter().map(|x| x.into_string().unwrap()).collect())
    }

    #[test]
    fn env_file_follows_docker() {
        assert_eq!(
            parse(b"\xEF\xBB\xBFA=1\n  B= two \n# c\n\nC=x=y\r\n").unwrap(),
            ["A=1", "B= two ", "C=x=y"]
        );
        let e = parse(b"A=1\n=x\n").unwrap_err();
        assert!(matches!(e, Error::EnvFile { line: 2, .. }), "{e:?}");
        let e = e.to_string();
        assert_eq!(e, "--env-file f line 2: no variable name in `=x`");
        assert!(
            e.contains("line 2") && e.contains("no variable name"),
            "{e}"
        );
        let e = parse(b"export A=1\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("white space"), "{e}");
        assert!(parse(b"A = b\n").is_err());
        let e = parse(b"A=1\nB=\xff\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
        // a bare name without a value in confine's environment is dropped
        assert_eq!(
            parse(b"CONFINE_TEST_SURELY_UNSET_VARIABLE\n").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn search_candidates() {
        let c = candidates(OsStr::new("sh"), Some(OsStr::new("/a::/b"))).unwrap();
        let c: Vec<_> = c.iter().map(|x| x.to_str().unwrap()).collect();
        assert_eq!(c, ["/a/sh", "./sh", "/b/sh"]);
        let c = candidates(OsStr::new("./x"), None).unwrap();
        assert_eq!(c[0].to_str().unwrap(), "./x");
    }
}

#[cfg(test)]
mod build_tests {
    use super::*;

    #[test]
    fn files_then_options_then_home() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("env");
        std::fs::write(&f, "A=file\nB=file\nHOME=/from/file\n").unwrap();
        let e = build(
            std::slice::from_ref(&f),
            &["B=opt".into()],
            true,
            Some("/home/u"),
        )
        .unwrap();
        assert_eq!(e.get("A"), Some(OsStr::new("file")));
        assert_eq!(e.get("B"), Some(OsStr::new("opt")));
        assert_eq!(e.get("TERM"), Some(OsStr::new("xterm")));
        assert_eq!(e.get("HOME"), Some(OsStr::new("/from/file")));
        assert_eq!(e.get("PATH"), Some(OsStr::new(DEFAULT_PATH)));
        let e = build(&[], &[], false, Some("/home/u")).unwrap();
        assert_eq!(e.get("HOME"), Some(OsStr::new("/home/u")));
        assert_eq!(e.get("TERM"), None);
        assert_eq!(
            build(&[], &[], false, None).unwrap().get("HOME"),
            Some(OsStr::new("/"))
        );
        // a missing file names the option and the file
        let missing = dir.path().join("nope");
        let e = build(std::slice::from_ref(&missing), &[], false, None).unwrap_err();
        assert!(
            matches!(&e, Error::Read { path, .. } if *path == missing),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("--env-file "));
        assert!(build(&[], &["=x".into()], false, None).is_err());
    }
}
