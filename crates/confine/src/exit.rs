//! Every exit code confine returns, decided here and nowhere else (README.md § Exit codes
//! documents the same table).
//!
//! | code | reporting commands | `confine run` (as `docker run`) |
//! |---|---|---|
//! | 0 | success | the command's own status |
//! | 1 | found something: differences, findings, warnings under `--strict` | the command's own status |
//! | 2 | usage error or bad input | the command's own status |
//! | 125 | – | confine's own error, usage included |
//! | 126, 127 | – | the command cannot be executed, is not found |
//! | 128+N | – | the command was killed by signal N |

use confine_runtime::Ended;
use std::process::ExitCode;

/// What a command found, mapped to the exit code by [`code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: the command worked and found something (warnings under --strict, differences).
    Findings,
    /// Bad input, already reported on stderr: exit 2 (125 for `run`).
    BadInput,
    /// A specific status (`confine run` passes the command's own on).
    Code(u8),
}

/// Which exit-code convention a command follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// 0 success, 1 found something, 2 usage error or bad input.
    Report,
    /// `docker run`'s: the command's status, 125 for confine's own errors.
    Runner,
}

impl Convention {
    /// The convention of the subcommand named `name` (`None`: no subcommand was recognised).
    pub fn of(name: Option<&str>) -> Convention {
        match name {
            Some("run" | "record") => Convention::Runner,
            _ => Convention::Report,
        }
    }

    /// The status for bad input or a usage error.
    fn error(self) -> u8 {
        match self {
            Convention::Report => 2,
            Convention::Runner => RUN_ERROR,
        }
    }
}

/// The exit code for a command's result. A write to a closed pipe (`confine … | head`) is
/// not a failure; any other error is printed here.
pub fn code(convention: Convention, result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Ok(Outcome::BadInput) => ExitCode::from(convention.error()),
        Ok(Outcome::Code(c)) => ExitCode::from(c),
        Err(e) if crate::output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            match convention {
                Convention::Report => eprintln!("confine: error: {e:#}"),
                Convention::Runner => eprintln!("confine: {e:#}"),
            }
            ExitCode::from(convention.error())
        }
    }
}

/// The exit code for a command line clap refused (help and version requests are success).
pub fn usage(convention: Convention, e: &clap::Error) -> ExitCode {
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            ExitCode::SUCCESS
        }
        _ => ExitCode::from(convention.error()),
    }
}

/// The exit code `confine run` reports for its own failure before the command ran.
pub const RUN_ERROR: u8 = 125;

/// `confine run`'s status for a command that was started: its own exit status, 128+N when
/// signal N killed it, 127 when it was not found and 126 when it could not be executed (as
/// `docker run`).
pub fn of_run(ended: &Ended) -> u8 {
    match ended {
        // a status is 0..=255 and a signal 1..=64 (SIGRTMAX): both fit
        Ended::Exited(c) => (*c & 0xff) as u8,
        Ended::Signaled(s) => (128 + (*s & 0x7f)) as u8,
        Ended::NotExecuted { why, .. } if why.not_found() => 127,
        Ended::NotExecuted { .. } => 126,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions() {
        assert_eq!(Convention::of(Some("run")), Convention::Runner);
        assert_eq!(Convention::of(Some("seccomp")), Convention::Report);
        assert_eq!(Convention::of(None), Convention::Report);
        assert_eq!(Convention::Runner.error(), RUN_ERROR);
        assert_eq!(Convention::Report.error(), 2);
    }

    #[test]
    fn run_statuses_follow_docker_run() {
        use confine_runtime::Unexecutable as U;
        let not = |why| Ended::NotExecuted {
            command: "x".into(),
            why,
        };
        assert_eq!(of_run(&Ended::Exited(0)), 0);
        assert_eq!(of_run(&Ended::Exited(3)), 3);
        assert_eq!(of_run(&Ended::Exited(255)), 255);
        assert_eq!(of_run(&Ended::Signaled(9)), 137);
        assert_eq!(of_run(&Ended::Signaled(15)), 143);
        assert_eq!(of_run(&not(U::NotInPath)), 127);
        assert_eq!(of_run(&not(U::NoSuchFile)), 127);
        assert_eq!(of_run(&not(U::IsDirectory)), 126);
        assert_eq!(of_run(&not(U::PermissionDenied)), 126);
        assert_eq!(of_run(&not(U::Other("Exec format error".into()))), 126);
    }
}
