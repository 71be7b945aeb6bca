//! The dangerous syscall groups: kernel code a container does not need and that escapes and
//! privilege escalations have gone through. Shared by `lint` (one finding per group that
//! runs) and the exposure score (one item per group).
//!
//! Sources: Docker's seccomp documentation ("Significant syscalls blocked by the default
//! profile", docs.docker.com/engine/security/seccomp/), the kernel's documentation of each
//! call, and the CVEs named per group.

use crate::Severity;

/// One group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// The stable id of its lint finding.
    pub id: &'static str,
    /// What it gives, in a few words.
    pub title: &'static str,
    /// Its calls (names on any ABI; a name an ABI lacks is skipped there).
    pub syscalls: &'static [&'static str],
    /// How serious it is when it runs.
    pub severity: Severity,
    /// Why it matters.
    pub why: &'static str,
    /// Where to read more.
    pub reference: &'static str,
    /// Only on kernels older than this (major, minor): `ptrace` could change the syscall
    /// after seccomp checked it until 4.8.
    pub before: Option<(u8, u8)>,
}

/// Docker's page on its seccomp profile, the first reference of most groups.
pub const DOCKER_SECCOMP: &str = "https://docs.docker.com/engine/security/seccomp/";

/// The kernel attack-surface groups, in the order lint reports them.
pub const GROUPS: &[Group] = &[
    Group {
        id: "kernel-keyring",
        title: "kernel keyring",
        syscalls: &["keyctl", "add_key", "request_key"],
        severity: Severity::High,
        why: "the keyring is not namespaced: keys of the host and of other containers are in reach (CVE-2016-0728)",
        reference: DOCKER_SECCOMP,
        before: None,
    },
    Group {
        id: "bpf",
        title: "eBPF programs and maps",
        syscalls: &["bpf"],
        severity: Severity::High,
        why: "loads programs into the kernel through the verifier, a frequent source of privilege escalations (CVE-2021-3490, CVE-2022-23222)",
        reference: DOCKER_SECCOMP,
        before: None,
    },
    Group {
        id: "perf-events",
        title: "performance events",
        syscalls: &["perf_event_open"],
        severity: Severity::Medium,
        why: "reads kernel and other processes' activity, and its code has had escalations (CVE-2013-2094)",
        reference: DOCKER_SECCOMP,
        before: None,
    },
    Group {
        id: "userfaultfd",
        title: "userfaultfd",
        syscalls: &["userfaultfd"],
        severity: Severity::Medium,
        why: "lets a program stall the kernel's page faults, which widens the race windows exploits need",
        reference: "https://www.kernel.org/doc/html/latest/admin-guide/mm/userfaultfd.html",
        before: None,
    },
    Group {
        id: "io-uring",
        title: "io_uring",
        syscalls: &["io_uring_setup", "io_uring_enter", "io_uring_register"],
        severity: Severity::Medium,
        why: "operations submitted through the ring are not seen by seccomp, and its code has had many escalations (CVE-2022-29582, CVE-2023-2598)",
        reference: "https://security.googleblog.com/2023/06/learnings-from-kctf-vrps-42-linux.html",
        before: None,
    },
    Group {
        id: "kexec",
        title: "loading a new kernel",
        syscalls: &["kexec_load", "kexec_file_load"],
        severity: Severity::High,
        why: "replaces the running kernel",
        reference: DOCKER_SECCOMP,
        before: None,
    },
    Group {
        id: "kernel-modules",
        title: "kernel modules",
        syscalls: &["init_module", "finit_module", "delete_module"],
        severity: Severity::High,
        why: "loads or removes code running in the kernel",
        reference: DOCKER_SECCOMP,
        before: None,
    },
    Group {
        id: "mount",
        title: "mounting",
        syscalls: &[
            "mount",
            "umount",
            "umount2",
            "move_mount",
            "open_tree",
            "open_tree_attr",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "mount_setattr",
            "pivot_root",
        ],
        severity: Severity::High,
        why: "changes what the container sees as its file system, and reaches file-system parsers (CVE-2022-0185 went through fsconfig)",
        reference: DOCKER_SECCOMP,
        before: None,
    },
    Group {
        id: "open-by-handle",
        title: "opening files by handle",
        syscalls: &["open_by_handle_at"],
        severity: Severity::High,
        why: "opens any file of a mounted file system by its handle, past the container's root: the \"Shocker\" escape",
        reference: "https://github.com/gabrtv/shocker",
        before: None,
    },
    Group {
        id: "ptrace-before-4.8",
        title: "ptrace before kernel 4.8",
        syscalls: &["ptrace"],
        severity: Severity::High,
        why: "before 4.8 a tracer could change a syscall after seccomp checked it, and so run any call (Docker allows ptrace only from 4.8)",
        reference: "https://git.kernel.org/linus/93e35efb8de45393cf61ed07f7b407629bf698ea",
        before: Some((4, 8)),
    },
];

/// The group of a stable id.
pub fn group(id: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.id == id)
}
