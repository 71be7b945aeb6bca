//! confine's file-and-network policy (issue 15): SPO's `AppArmorProfile` abstract
//! (`filesystem`, `executable`, `network`, `capability`) plus confine's versioned extensions
//! (`abstract.confine`, `version: 1`: TCP ports, scopes, device ioctl, refer), the located
//! loader for it (YAML or JSON), AppArmor glob handling, and its lowering to a Landlock plan.
//!
//! Everything here is pure data: no system calls, no files. The caller reads the bytes (through
//! `confine-input`), decides what a path is on the host, and applies the plan (through
//! `confine-kernel`). This crate must not depend on `confine-kernel`, `confine-runtime`,
//! `confine-seccomp` or the binary; its only confine dependency is `confine-profile`, for the
//! shared located [`Diagnostic`](confine_profile::diag::Diagnostic).
//!
//! The schema is documented in `docs/policy-schema.md`.
//!
//! ```text
//! bytes ──load──▶ Loaded { policy, diagnostics }
//! Policy ──landlock(abi, compat)──▶ LandlockPlan { handled bits, path rules, ports, scopes,
//!                                                  widenings, dropped, seccomp_sockets }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod glob;
pub mod landlock;
pub mod load;
pub mod model;
mod yaml;

pub use load::{load, Loaded};
pub use model::{Access, Extensions, Mode, Network, PathRule, Policy, PortRule, Scope, Span};
