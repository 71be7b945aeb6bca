//! The errors of planning and executing a run. Each says what it concerns (the option, the
//! file, the user); its text is the message `confine run` prints after `confine: `, and the
//! error it wraps (when any) is its [`source`](std::error::Error::source).

use std::path::PathBuf;

/// A run that cannot be planned or executed: the command does not start (exit 125).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option's value is wrong (`--security-opt`, `--env`, `--preserve-fds`, `--workdir`,
    /// the command and its arguments).
    #[error("{message}")]
    Option {
        /// The option concerned.
        option: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A line of an `--env-file`.
    #[error("--env-file {} line {line}: {message}", path.display())]
    EnvFile {
        /// The file.
        path: PathBuf,
        /// Its line, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be read (an env file, /etc/passwd, /etc/group, an AppArmor file).
    #[error("{context}")]
    Read {
        /// What was being read (`--env-file F`, `reading /etc/passwd`).
        context: String,
        /// The file.
        path: PathBuf,
        /// Why it could not be.
        source: confine_input::InputError,
    },
    /// `--user` or `--group-add` cannot be resolved, or an id is out of range.
    #[error("{message}")]
    User {
        /// The user, group or id concerned.
        user: String,
        /// What is wrong.
        message: String,
    },
    /// `--cap-add` / `--cap-drop` name something that is not a capability.
    #[error("--cap-add/--cap-drop")]
    Capabilities(#[source] confine_abi::CapError),
    /// The seccomp profile could not be read, resolved or compiled.
    #[error(transparent)]
    SeccompPipeline(#[from] confine_seccomp::PipelineError),
    /// The seccomp profile cannot be used by `confine run`.
    #[error("{message}")]
    Seccomp {
        /// The profile (its label), when one is concerned.
        profile: Option<String>,
        /// Why not.
        message: String,
    },
    /// The compiled seccomp program is not one the kernel would take.
    #[error("the compiled seccomp program")]
    Program(#[source] confine_bpf::Invalid),
    /// The architecture has no syscall table.
    #[error(transparent)]
    Arch(#[from] confine_abi::ArchError),
    /// The AppArmor profile asked for cannot be had.
    #[error("{message}")]
    AppArmor {
        /// The profile (or file) concerned.
        profile: String,
        /// Why not.
        message: String,
    },
    /// A name cannot go into the docker-default template.
    #[error(transparent)]
    AppArmorName(#[from] confine_apparmor::template::NameError),
    /// The file-and-network policy (its file, or the quick flags) is wrong.
    #[error("{message}")]
    Policy {
        /// The policy file, or `command line`.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The Landlock ruleset could not be built (a path that cannot be opened, a right this
    /// kernel refuses).
    #[error(transparent)]
    Landlock(#[from] confine_kernel::landlock::LandlockError),
    /// What was asked for cannot be had with confine's privilege or on this kernel.
    #[error("{0}")]
    Unavailable(String),
    /// A system call or a read of the host failed while doing `context`.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A system call failed (reading the bounding set, starting the command).
    #[error(transparent)]
    System(#[from] std::io::Error),
    /// A step of the confinement failed in the child: nothing ran.
    #[error("cannot apply the confinement: {} failed: {error}; the command did not run", stage.describe())]
    Apply {
        /// The step.
        stage: confine_kernel::spawn::Stage,
        /// The failure (part of the message, as the kernel crate reports it).
        error: std::io::Error,
    },
    /// Another error, in a context (`loading AppArmor profile docker-default`, `/etc/passwd
    /// entry of USER`).
    #[error("{context}")]
    Context {
        /// What was being done.
        context: String,
        /// The error.
        source: Box<Error>,
    },
}

impl Error {
    pub(crate) fn option(option: &'static str, message: impl Into<String>) -> Error {
        Error::Option {
            option,
            message: message.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    pub(crate) fn context(self, context: impl Into<String>) -> Error {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }
}

/// The result of planning and executing.
pub type Result<T, E = Error> = std::result::Result<T, E>;
