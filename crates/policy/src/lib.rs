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
//!
//! ```
//! use confine_policy::landlock::{landlock, Compat, NET_CONNECT_TCP};
//!
//! let text = "filesystem:\n  readOnlyPaths: [/usr/**, /etc/*.conf]\n\
//!             confine:\n  version: 1\n  tcp: {connect: [443]}\n";
//! let loaded = confine_policy::load("policy.yaml", text.as_bytes());
//! assert!(loaded.diagnostics.is_empty());
//! let policy = loaded.policy.unwrap();
//!
//! // Linux 6.2 (ABI 3) has no TCP rules: refused under Require, dropped under BestEffort.
//! assert!(landlock(&policy, 3, Compat::Require).is_err());
//! let plan = landlock(&policy, 3, Compat::BestEffort).unwrap();
//! assert_eq!(plan.dropped.len(), 1);
//!
//! let plan = landlock(&policy, 4, Compat::Require).unwrap();
//! assert_eq!(plan.handled_net, NET_CONNECT_TCP);
//! assert_eq!(plan.paths.len(), 2); // /usr and /etc
//! for w in plan.widening_diagnostics("policy.yaml") {
//!     println!("{w}"); // policy.yaml:2:28: warning: `/etc/*.conf` widened to …
//! }
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
