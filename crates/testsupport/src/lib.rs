//! What confine's tests share: the upstream fixtures they read, and the small helpers that each
//! test file used to carry its own copy of (running the `confine` binary, reading
//! `/proc/PID/status`, the host the BPF tests resolve for, the argument values they probe, a
//! seeded generator).
//!
//! This crate is a dev-dependency only: it is never published (`publish = false`) and no
//! library or binary of the workspace depends on it. The fixtures live inside it
//! (`fixtures/`, with `fixtures/SOURCE.md` saying where each came from and under which
//! licence), so the tests need nothing outside the repository.
#![deny(missing_docs)]

pub mod fixtures;
pub mod host;
pub mod probe;
pub mod rng;
pub mod run;
pub mod status;
