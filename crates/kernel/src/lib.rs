//! The only place confine talks to the kernel through `unsafe`: installing seccomp filters,
//! `prctl(2)` bits, and raw syscalls for probing. Every `unsafe` block is a thin wrapper with a
//! comment saying why it is sound and a `# References` list; everything else in confine is
//! `#![forbid(unsafe_code)]`.
#![deny(missing_docs)]

pub mod raw;
pub mod seccomp;

pub use seccomp::{install, set_no_new_privs, InstallError, InstallFlags};
