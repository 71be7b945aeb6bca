//! Docker's run semantics for `confine run`, as a library: a [`RunRequest`] (the command line's
//! values, already parsed) becomes a [`Plan`] — every decision taken and every file read
//! before anything changes — which lists what will be applied in runc's order
//! ([`Plan::steps`]) and is then executed ([`Plan::execute`]) through
//! `confine_kernel::spawn`.
//!
//! What lives here: `--security-opt` and its shorthands ([`options`]), users and groups from
//! /etc/passwd and /etc/group as runc resolves them ([`users`]), the command's environment and
//! `--env-file` ([`env`](mod@env)), the execvp search candidates, the choice and compilation of the
//! seccomp program with the builtin profile precompiled at build time ([`seccomp`],
//! [`precompiled`]), the AppArmor host decisions ([`apparmor`]), the isolation chosen from
//! confine's privilege ([`isolation`]), LISTEN_FDS and descriptor reservation
//! ([`descriptors`]). Recording and Landlock policies plug in here.
//!
//! What it must not depend on: clap, `confine-cli` or anyhow. The binary converts its clap
//! arguments into a [`RunRequest`] and maps [`Ended`] and [`Error`] to exit codes; errors here
//! are [`Error`] values that say which file, option or user they concern. Notes meant for the
//! user's terminal are handed to a callback as [`Note`] values, at the moment they arise, so
//! that the binary prints them in the same order as the command's own output.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod apparmor;
pub mod descriptors;
pub mod env;
mod error;
mod execute;
mod fault;
pub mod isolation;
mod note;
pub mod options;
mod plan;
pub mod policy;
pub mod precompiled;
mod record;
mod request;
pub mod seccomp;
pub mod users;

pub use error::{Error, Result};
pub use execute::{Ended, Unexecutable};
pub use note::{Note, Notes};
pub use plan::{plan, plan_for, Etc, HostFacts, Plan, Step};
pub use request::{CgroupRecording, Recording, RunRequest};

/// The largest file `run` reads (env files, /etc/passwd, /etc/group, AppArmor files).
pub const MAX_FILE: u64 = 16 << 20;

/// Read a regular file of at most 16 MiB (confine-input: a FIFO, a device or a larger file is
/// an error naming it, never a hang or an unbounded read).
pub fn read_small_file(
    path: &std::path::Path,
) -> std::result::Result<Vec<u8>, confine_input::InputError> {
    confine_input::read(path, MAX_FILE)
}
