//! One table of file accesses that Landlock (on the host, tests/policy.rs) and AppArmor (in
//! the Debian VM, tests/apparmor_vm.rs) must decide alike for the same policy: the layout of
//! files under a root, the policy over it, the probe's actions and the answers expected.
#![allow(dead_code)]

/// One access and whether the policy allows it.
pub struct Case {
    /// The probe's operation (tests/policy/probe.rs).
    pub op: &'static str,
    /// The path, relative to the root.
    pub path: &'static str,
    /// Allowed by the policy (`ok`), or denied (`EACCES`, from either LSM).
    pub allowed: bool,
}

/// The cases, in the order the probe runs them.
pub const CASES: &[Case] = &[
    Case {
        op: "read",
        path: "ro/f",
        allowed: true,
    },
    Case {
        op: "list",
        path: "ro",
        allowed: true,
    },
    Case {
        op: "read",
        path: "rw/f",
        allowed: true,
    },
    Case {
        op: "read",
        path: "out/f",
        allowed: false,
    },
    Case {
        op: "list",
        path: "out",
        allowed: false,
    },
    Case {
        op: "write",
        path: "ro/f",
        allowed: false,
    },
    Case {
        op: "create",
        path: "ro/new",
        allowed: false,
    },
    Case {
        op: "truncate",
        path: "ro/f",
        allowed: false,
    },
    Case {
        op: "write",
        path: "rw/f",
        allowed: true,
    },
    Case {
        op: "create",
        path: "rw/new",
        allowed: true,
    },
    Case {
        op: "exec",
        path: "bin/ok",
        allowed: true,
    },
    Case {
        op: "exec",
        path: "ro/noexec",
        allowed: false,
    },
];

/// Directories to make under the root.
pub const DIRS: &[&str] = &["ro", "rw", "out", "bin"];
/// Files with content to make under the root.
pub const FILES: &[&str] = &["ro/f", "rw/f", "out/f"];
/// Copies of the probe to make under the root (it exits 0 without arguments).
pub const PROGRAMS: &[&str] = &["bin/ok", "ro/noexec"];

/// The policy over `root`, with the probe itself at `probe` allowed to run.
pub fn policy(root: &str, probe: &str) -> String {
    format!(
        "apiVersion: security-profiles-operator.x-k8s.io/v1
kind: AppArmorProfile
metadata: {{name: policy-table}}
spec:
  abstract:
    filesystem:
      readOnlyPaths: [{root}/ro/]
      readWritePaths: [{root}/rw/]
    executable:
      allowedExecutables: [{probe}, {root}/bin/ok]
      allowedLibraries: [{probe}, {root}/bin/ok]
"
    )
}

/// The probe's arguments for every case.
pub fn actions(root: &str) -> Vec<String> {
    CASES
        .iter()
        .map(|c| format!("{}:{root}/{}", c.op, c.path))
        .collect()
}

/// The answers expected, one per case (the probe prints `OP ANSWER`).
pub fn expected() -> Vec<String> {
    CASES
        .iter()
        .map(|c| format!("{} {}", c.op, if c.allowed { "ok" } else { "EACCES" }))
        .collect()
}
