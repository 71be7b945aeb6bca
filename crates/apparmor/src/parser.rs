//! The real `apparmor_parser`, fed on standard input so that no profile text is written to
//! disk (Docker ≥ 29.4.3 does the same), run directly (never through a shell).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A failure of the parser or of running it.
#[derive(Debug, thiserror::Error)]
pub enum ParserError {
    /// It could not be started.
    #[error("cannot run {path}: {reason}")]
    Spawn {
        /// The parser's path.
        path: PathBuf,
        /// Why (in the message, so not also a `source` that a chain would repeat).
        reason: std::io::Error,
    },
    /// It ran and refused: its own message (with the line number) is kept verbatim.
    #[error("apparmor_parser {args} failed ({status}): {message}")]
    Failed {
        /// The arguments it was given.
        args: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// Its standard error, trimmed.
        message: String,
    },
}

/// This module's result: an error is a [`ParserError`].
pub type Result<T, E = ParserError> = std::result::Result<T, E>;

/// Options shared by the calls below.
#[derive(Clone, Debug, Default)]
pub struct ParserOptions {
    /// `--base DIR`: where `#include <…>` and `abi <…>` are looked up (default /etc/apparmor.d).
    pub base: Option<PathBuf>,
}

fn run(
    parser: &Path,
    args: &[&std::ffi::OsStr],
    opts: &ParserOptions,
    input: &[u8],
) -> Result<Vec<u8>, ParserError> {
    let mut cmd = Command::new(parser);
    if let Some(b) = &opts.base {
        cmd.arg("--base").arg(b);
    }
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawn_err = |reason| ParserError::Spawn {
        path: parser.to_path_buf(),
        reason,
    };
    let mut child = cmd.spawn().map_err(spawn_err)?;
    // A parser that exits early closes its stdin: its status and message tell why.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output().map_err(spawn_err)?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(ParserError::Failed {
            args: args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            status: out.status,
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Load (or replace) the profiles in `text` into the kernel: `apparmor_parser -Kr`, plus `-C`
/// to force complain mode.
pub fn load(
    parser: &Path,
    text: &str,
    complain: bool,
    opts: &ParserOptions,
) -> Result<(), ParserError> {
    let mut args: Vec<&std::ffi::OsStr> = vec!["-K".as_ref(), "-r".as_ref()];
    if complain {
        args.push("-C".as_ref());
    }
    run(parser, &args, opts, text.as_bytes()).map(|_| ())
}

/// Compile `text` offline against a saved kernel features file into binary policy
/// (`apparmor_parser -Q -K -q -M FEATURES -S`): nothing is loaded.
pub fn compile(
    parser: &Path,
    text: &str,
    features: &Path,
    opts: &ParserOptions,
) -> Result<Vec<u8>, ParserError> {
    let args: [&std::ffi::OsStr; 6] = [
        "-Q".as_ref(),
        "-K".as_ref(),
        "-q".as_ref(),
        "-M".as_ref(),
        features.as_os_str(),
        "-S".as_ref(),
    ];
    run(parser, &args, opts, text.as_bytes())
}

/// The names of the profiles `text` defines (`apparmor_parser -N`).
pub fn profile_names(
    parser: &Path,
    text: &str,
    opts: &ParserOptions,
) -> Result<Vec<String>, ParserError> {
    let out = run(parser, &["-N".as_ref()], opts, text.as_bytes())?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}
