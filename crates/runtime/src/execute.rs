//! Executing a plan: AppArmor profiles loaded first (the one change before the child), then
//! the command started through `confine_kernel::spawn` and waited for. Where the kernel
//! refuses a user namespace, the isolation is chosen again (a Landlock domain alone) and the
//! command started again: nothing ran the first time.

use crate::note::{Note, Notes};
use crate::plan::{isolate, Plan};
use crate::{apparmor, record, Error, Result};
use confine_kernel::spawn::{self, Command, Confinement, Outcome, SingleThreaded, Stage};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How a run ended, once the command was started (or could not be executed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
    /// execve failed: the command never ran (`docker run` exits 127 when it is not found,
    /// 126 otherwise; the binary's exit module decides).
    NotExecuted {
        /// The command as given.
        command: String,
        /// Why.
        why: Unexecutable,
    },
}

/// Why execve could not start the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unexecutable {
    /// A name without `/` was not found in `$PATH`.
    NotInPath,
    /// A path names nothing.
    NoSuchFile,
    /// A path names a directory.
    IsDirectory,
    /// Not executable, or a directory on the way is not searchable.
    PermissionDenied,
    /// Another execve error, as the kernel reports it.
    Other(String),
}

impl Unexecutable {
    /// Whether the command was not found at all (as opposed to found and not executable).
    pub fn not_found(&self) -> bool {
        matches!(self, Unexecutable::NotInPath | Unexecutable::NoSuchFile)
    }
}

impl std::fmt::Display for Unexecutable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unexecutable::NotInPath => f.write_str("executable file not found in $PATH"),
            Unexecutable::NoSuchFile => f.write_str("no such file or directory"),
            Unexecutable::IsDirectory => f.write_str("is a directory"),
            Unexecutable::PermissionDenied => f.write_str("permission denied"),
            Unexecutable::Other(e) => f.write_str(e),
        }
    }
}

impl Plan {
    /// Load what must be loaded, start the command under the confinement, wait for it.
    pub fn execute(mut self, notes: Notes) -> Result<Ended> {
        apparmor::load(&self.decided.apparmor)?;
        // what the Landlock policy applied, for confine inspect, for as long as the command runs
        let record = self.decided.policy.as_ref().and_then(|p| {
            let l = p.landlock.as_ref().filter(|l| l.ruleset.is_some())?;
            record::of(&p.file, l, self.decided.landlock_abi, notes)
        });
        let mut _guard = None;
        loop {
            if let Some(r) = &record {
                // written again when the isolation is chosen again (the init may be gone)
                drop(_guard.take());
                _guard = record::write(r.clone(), self.confinement.namespace.is_some(), notes);
            }
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
        // confine starts no thread: a second one here is a bug, refused before anything runs
        let one = SingleThreaded::check().map_err(Error::io("cannot start the command"))?;
        Ok(spawn::spawn(&command, c, one)?)
    }

    fn ended(&self, outcome: Outcome) -> Result<Ended> {
        let d = &self.decided;
        match outcome {
            Outcome::Exited(c) => Ok(Ended::Exited(c)),
            Outcome::Signaled(s) => Ok(Ended::Signaled(s)),
            Outcome::Failed(Stage::Exec, e) => {
                let cmd = d.cmd.as_os_str();
                let why = match e.raw_os_error() {
                    Some(libc::ENOENT) if cmd.as_bytes().contains(&b'/') => {
                        Unexecutable::NoSuchFile
                    }
                    Some(libc::ENOENT) => Unexecutable::NotInPath,
                    Some(libc::EACCES) if d.candidates.len() == 1 && Path::new(cmd).is_dir() => {
                        Unexecutable::IsDirectory
                    }
                    Some(libc::EACCES) => Unexecutable::PermissionDenied,
                    _ => Unexecutable::Other(e.to_string()),
                };
                Ok(Ended::NotExecuted {
                    command: cmd.to_string_lossy().into_owned(),
                    why,
                })
            }
            Outcome::Failed(stage, error) => Err(Error::Apply { stage, error }),
        }
    }
}
