//! Executing a plan: AppArmor profiles loaded first (the one change before the child), then
//! the command started through `confine_kernel::spawn` and waited for. Where the kernel
//! refuses a user namespace, the isolation is chosen again (a Landlock domain alone) and the
//! command started again: nothing ran the first time.

use crate::note::{Note, Notes};
use crate::plan::{isolate, Plan};
use crate::{apparmor, Error, Result};
use confine_kernel::spawn::{self, Command, Confinement, Outcome, Stage};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How a run ended, once the command was started (or could not be executed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
    /// execve failed, as `docker run` reports it: 127 when not found, 126 otherwise.
    NotExecuted {
        /// The command as given.
        command: String,
        /// Why (`executable file not found in $PATH`).
        reason: String,
        /// 126 or 127.
        code: u8,
    },
}

impl Plan {
    /// Load what must be loaded, start the command under the confinement, wait for it.
    pub fn execute(mut self, notes: Notes) -> Result<Ended> {
        apparmor::load(&self.decided.apparmor)?;
        loop {
            let outcome = self.spawn()?;
            if let (Outcome::Failed(stage @ (Stage::Clone | Stage::Namespace), e), true) =
                (&outcome, self.in_userns)
            {
                notes(Note::NoUserNamespace {
                    stage: *stage,
                    error: e.to_string(),
                });
                let (confinement, in_userns) = isolate(&self.decided, true, notes)?;
                self.confinement = confinement;
                self.in_userns = in_userns;
                continue;
            }
            return self.ended(outcome);
        }
    }

    /// The one call into the kernel crate.
    fn spawn(&self) -> Result<Outcome> {
        let d = &self.decided;
        let command = Command {
            candidates: &d.candidates,
            argv: &d.argv,
            envp: &d.envp,
            listen_pid: d.listen > 0,
        };
        let c: &Confinement = &self.confinement;
        Ok(spawn::spawn(&command, c)?)
    }

    fn ended(&self, outcome: Outcome) -> Result<Ended> {
        let d = &self.decided;
        match outcome {
            Outcome::Exited(c) => Ok(Ended::Exited(c)),
            Outcome::Signaled(s) => Ok(Ended::Signaled(s)),
            Outcome::Failed(Stage::Exec, e) => {
                let cmd = d.cmd.as_os_str();
                let (code, reason) = match e.raw_os_error() {
                    Some(libc::ENOENT) if cmd.as_bytes().contains(&b'/') => {
                        (127, "no such file or directory".to_string())
                    }
                    Some(libc::ENOENT) => (127, "executable file not found in $PATH".to_string()),
                    Some(libc::EACCES) if d.candidates.len() == 1 && Path::new(cmd).is_dir() => {
                        (126, "is a directory".to_string())
                    }
                    Some(libc::EACCES) => (126, "permission denied".to_string()),
                    _ => (126, e.to_string()),
                };
                Ok(Ended::NotExecuted {
                    command: cmd.to_string_lossy().into_owned(),
                    reason,
                    code,
                })
            }
            Outcome::Failed(stage, error) => Err(Error::Apply { stage, error }),
        }
    }
}
