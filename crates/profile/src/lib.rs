//! Docker and OCI seccomp profiles: reading them exactly as Docker and runc do, with every
//! error and warning located, and resolving a Docker profile for a host.
//!
//! ```text
//! bytes ──json::parse──▶ Node tree (offsets) ──parse──▶ Profile + Diagnostics
//!                                                         │
//!                                   Host (arch, caps, kernel) ──resolve──▶ Resolved (OCI form)
//! ```
//!
//! It must not depend on BPF, the compiler or the kernel crate: profiles are data, resolved
//! for a described host, never for the running kernel's side effects.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod builtin;
pub mod caps;
pub mod diag;
pub mod emit;
mod failopen;
pub mod json;
pub mod load;
pub mod merge;
pub mod model;
pub mod parse;
pub mod resolve;
pub mod systemd;

pub use diag::{Diagnostic, Severity};
pub use load::{load, LoadError, Source};
pub use merge::{merge, MergeError, Merged};
pub use model::{Action, Arg, Filter, Flag, Format, KernelVersion, Operator, Profile, Rule};
pub use parse::{parse_profile, Parsed};
pub use resolve::{resolve, Host, Resolution, Resolved, ResolvedRule};
