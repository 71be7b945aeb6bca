//! AppArmor the way Docker uses it: render the docker-default profile from its template
//! ([`template`]), tell whether the running kernel enforces AppArmor and why not ([`detect`](mod@detect)),
//! compile and load profiles through the real `apparmor_parser` without writing them to disk
//! ([`parser`]), read what is loaded and which label a process has ([`kernel`]), and render
//! confine's file-and-network policy as a profile ([`policy`](mod@policy)).
//!
//! Reference: moby/profiles `apparmor/template.go` and `apparmor.go`; libapparmor's
//! `kernel.c` (reading labels); the kernel's `security/apparmor/apparmorfs.c` (securityfs).
//!
//! It must not depend on the seccomp side (profile, bpf, seccomp, kernel): AppArmor is a separate
//! layer, joined only by the runtime. Its one confine dependency besides `confine-input` and
//! `confine-abi` is `confine-policy` (pure data: the policy model it renders).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod detect;
pub mod kernel;
pub mod parser;
pub mod policy;
pub mod template;

pub use detect::{detect, Detection};
pub use kernel::{parse_label, Label};
pub use template::{Params, ABI_3_0};
