//! Why a field of a process could not be read. Each error names the process and, where a file
//! was read, the file; the message is what `confine inspect` shows after "unknown (…)" (or
//! alone, for the "none (…)" cases: there is nothing to read).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// A failure to read a process at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// No such process (or it exited while being read).
    #[error("no process {0}")]
    Gone(u32),
    /// status unreadable (or, in a saved copy, not a regular file).
    #[error("cannot read the status of process {pid}: {reason}")]
    Read {
        /// The process.
        pid: u32,
        /// Why (in the message, so not also a `source` that a chain would repeat).
        reason: confine_input::InputError,
    },
}

/// The crate's result.
pub type Result<T, E = InspectError> = std::result::Result<T, E>;

/// Why a file under `/proc/PID` (a link or an attribute) could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// EACCES or EPERM.
    #[error("permission denied")]
    PermissionDenied {
        /// The process.
        pid: u32,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: Arc<io::Error>,
    },
    /// The process went away while it was read (ENOENT or ESRCH on a file that a live
    /// process has).
    #[error("process exited")]
    Exited {
        /// The process.
        pid: u32,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: Arc<io::Error>,
    },
    /// Any other I/O error.
    #[error("{reason}")]
    Io {
        /// The process.
        pid: u32,
        /// The file.
        path: PathBuf,
        /// The error (in the message, so not also a `source` that a chain would repeat).
        reason: Arc<io::Error>,
    },
    /// A saved copy's file that is not a regular file, or too large.
    #[error("{reason}")]
    Input {
        /// The process.
        pid: u32,
        /// Why (it names the file; in the message, so not also a `source`).
        reason: Arc<confine_input::InputError>,
    },
}

impl FileError {
    /// The process.
    pub fn pid(&self) -> u32 {
        match self {
            FileError::PermissionDenied { pid, .. }
            | FileError::Exited { pid, .. }
            | FileError::Io { pid, .. }
            | FileError::Input { pid, .. } => *pid,
        }
    }
}

/// Why the executable of a process is not known.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ExeError {
    /// It was not asked for ([`Options::details`](crate::Options::details) off).
    #[error("not read")]
    NotRead {
        /// The process.
        pid: u32,
    },
    /// A zombie has released its memory, executable included.
    #[error("none (zombie: exited, not yet reaped)")]
    Zombie {
        /// The process.
        pid: u32,
    },
    /// The process is there but has no executable: a kernel thread.
    #[error("none (kernel thread)")]
    KernelThread {
        /// The process.
        pid: u32,
    },
    /// The `exe` link could not be read.
    #[error(transparent)]
    Read(FileError),
}

impl ExeError {
    /// The process has no executable (rather than one that could not be read).
    pub fn is_none(&self) -> bool {
        matches!(
            self,
            ExeError::Zombie { .. } | ExeError::KernelThread { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_words_inspect_shows() {
        let io = |n| Arc::new(io::Error::from_raw_os_error(n));
        let path = PathBuf::from("/proc/7/exe");
        let denied = FileError::PermissionDenied {
            pid: 7,
            path: path.clone(),
            source: io(13),
        };
        assert_eq!(denied.to_string(), "permission denied");
        assert_eq!(denied.pid(), 7);
        assert!(std::error::Error::source(&denied).is_some());
        let other = FileError::Io {
            pid: 7,
            path,
            reason: io(5),
        };
        assert_eq!(
            other.to_string(),
            io::Error::from_raw_os_error(5).to_string()
        );
        assert_eq!(ExeError::Read(denied).to_string(), "permission denied");
        assert_eq!(ExeError::NotRead { pid: 7 }.to_string(), "not read");
        let zombie = ExeError::Zombie { pid: 7 };
        assert!(zombie.is_none());
        assert_eq!(zombie.to_string(), "none (zombie: exited, not yet reaped)");
        assert!(!ExeError::Read(other).is_none());
    }
}
