//! The builtin `docker-default` seccomp profile.
//!
//! Attribution: these rules are Docker's default seccomp profile as published in moby/profiles
//! `seccomp/v0.2.3` (`default.json`, run by Docker Engine 29.4.3 and later), © Docker, Inc. and
//! the Moby authors, Apache License 2.0. confine expresses the same rules as Rust data; a test
//! proves that it resolves exactly like `crates/testsupport/fixtures/seccomp/docker-default.json` for every
//! supported architecture and several capability sets.

use crate::model::{
    Action, ArchMapEntry, Arg, Filter, Format, KernelVersion, Operator, Profile, Rule,
};
use confine_abi::Arch;

/// The name confine gives this profile.
pub const NAME: &str = "docker-default";

/// Where the builtin's rules come from.
pub const ORIGIN: &str = "moby/profiles seccomp v0.2.3 (Docker Engine 29.4.3+), Apache-2.0";

/// Conditions of one rule: (caps, arches, minKernel).
type Cond = (
    &'static [&'static str],
    &'static [&'static str],
    Option<(u8, u8)>,
);

const NONE: Cond = (&[], &[], None);

struct Spec {
    names: &'static [&'static str],
    action: Action,
    errno: Option<u32>,
    args: &'static [(u32, Operator, u64)],
    comment: Option<&'static str>,
    includes: Cond,
    excludes: Cond,
}

const ARCH_MAP: &[(Arch, &[Arch])] = &[
    (Arch::X86_64, &[Arch::X86, Arch::X32]),
    (Arch::Aarch64, &[Arch::Arm]),
    (Arch::Mips64, &[Arch::Mips, Arch::Mips64N32]),
    (Arch::Mips64N32, &[Arch::Mips, Arch::Mips64]),
    (Arch::Mipsel64, &[Arch::Mipsel, Arch::Mipsel64N32]),
    (Arch::Mipsel64N32, &[Arch::Mipsel, Arch::Mipsel64]),
    (Arch::S390x, &[Arch::S390]),
    (Arch::Riscv64, &[]),
    (Arch::Loongarch64, &[]),
];

const RULES: &[Spec] = &[
    Spec {
        names: ALWAYS,
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["process_vm_readv", "process_vm_writev", "ptrace"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&[], &[], Some((4, 8))),
        excludes: NONE,
    },
    Spec {
        names: &["socket"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::LessThan, 38)],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["socket"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::EqualTo, 39)],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["socket"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::GreaterThan, 40)],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["personality"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::EqualTo, 0)],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["personality"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::EqualTo, 8)],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["personality"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::EqualTo, 0x20000)],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["personality"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::EqualTo, 0x20008)],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["personality"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::EqualTo, 0xffffffff)],
        comment: None,
        includes: NONE,
        excludes: NONE,
    },
    Spec {
        names: &["sync_file_range2", "swapcontext"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&[], &["ppc64le"], None),
        excludes: NONE,
    },
    Spec {
        names: &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&[], &["arm", "arm64"], None),
        excludes: NONE,
    },
    Spec {
        names: &["arch_prctl"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&[], &["amd64", "x32"], None),
        excludes: NONE,
    },
    Spec {
        names: &["modify_ldt"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&[], &["amd64", "x32", "x86"], None),
        excludes: NONE,
    },
    Spec {
        names: &[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&[], &["s390", "s390x"], None),
        excludes: NONE,
    },
    Spec {
        names: &["riscv_flush_icache"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&[], &["riscv64"], None),
        excludes: NONE,
    },
    Spec {
        names: &["open_by_handle_at"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_DAC_READ_SEARCH"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "lsm_get_self_attr",
            "lsm_list_modules",
            "lsm_set_self_attr",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_ADMIN"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["clone"],
        action: Action::Allow,
        errno: None,
        args: &[(0, Operator::MaskedEqual, 0x7e020000)],
        comment: None,
        includes: NONE,
        excludes: (&["CAP_SYS_ADMIN"], &["s390", "s390x"], None),
    },
    Spec {
        names: &["clone"],
        action: Action::Allow,
        errno: None,
        args: &[(1, Operator::MaskedEqual, 0x7e020000)],
        comment: Some("s390 parameter ordering for clone is different"),
        includes: (&[], &["s390", "s390x"], None),
        excludes: (&["CAP_SYS_ADMIN"], &[], None),
    },
    Spec {
        names: &["clone3"],
        action: Action::Errno,
        errno: Some(38),
        args: &[],
        comment: None,
        includes: NONE,
        excludes: (&["CAP_SYS_ADMIN"], &[], None),
    },
    Spec {
        names: &["reboot"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_BOOT"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["chroot"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_CHROOT"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["delete_module", "init_module", "finit_module"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_MODULE"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["acct"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_PACCT"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_PTRACE"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["iopl", "ioperm"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_RAWIO"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["settimeofday", "stime", "clock_settime", "clock_settime64"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_TIME"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["vhangup"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_TTY_CONFIG"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYS_NICE"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["syslog"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_SYSLOG"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["bpf"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_BPF"], &[], None),
        excludes: NONE,
    },
    Spec {
        names: &["perf_event_open"],
        action: Action::Allow,
        errno: None,
        args: &[],
        comment: None,
        includes: (&["CAP_PERFMON"], &[], None),
        excludes: NONE,
    },
];

/// The syscalls every container may make (rule 0 of Docker's profile).
#[rustfmt::skip]
const ALWAYS: &[&str] = &[
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
    "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
    "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
    "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
    "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
    "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
    "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
    "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
    "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
    "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
    "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
    "removexattrat", "rename", "renameat", "renameat2", "restart_syscall", "riscv_hwprobe",
    "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
    "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
    "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
    "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
    "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
    "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
    "splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat",
    "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask",
    "uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes",
    "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
];

/// The kernel versions at which the builtin's resolution can change (its `minKernel` values),
/// ascending. Between two of them, and below the first, every kernel resolves alike.
pub fn kernel_thresholds() -> Vec<KernelVersion> {
    let mut v: Vec<KernelVersion> = RULES
        .iter()
        .flat_map(|s| [s.includes.2, s.excludes.2])
        .flatten()
        .map(|(kernel, major)| KernelVersion { kernel, major })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The builtin profile resolved for `host` (it always has a default action and rules).
pub fn resolved_for(host: &crate::Host) -> crate::Resolved {
    match crate::resolve(&docker_default(), host) {
        crate::Resolution::Filter(r) => r,
        crate::Resolution::Unconfined => unreachable!("docker-default has a default action"),
    }
}

/// The builtin profile, as a Docker profile.
pub fn docker_default() -> Profile {
    let cond = |c: &Cond| Filter {
        caps: c.0.iter().map(|s| s.to_string()).collect(),
        arches: c.1.iter().map(|s| s.to_string()).collect(),
        min_kernel: c.2.map(|(kernel, major)| KernelVersion { kernel, major }),
    };
    Profile {
        default_action: Some(Action::Errno),
        default_errno_ret: Some(1),
        architectures: Vec::new(),
        arch_map: ARCH_MAP
            .iter()
            .map(|(arch, subs)| ArchMapEntry {
                arch: *arch,
                sub_arches: subs.to_vec(),
            })
            .collect(),
        flags: None,
        listener_path: None,
        listener_metadata: None,
        syscalls: RULES
            .iter()
            .map(|s| Rule {
                names: s.names.iter().map(|n| n.to_string()).collect(),
                action: s.action,
                errno_ret: s.errno,
                args: s
                    .args
                    .iter()
                    .map(|&(index, op, value)| Arg {
                        index,
                        value,
                        value_two: 0,
                        op,
                    })
                    .collect(),
                comment: s.comment.map(str::to_string),
                includes: cond(&s.includes),
                excludes: cond(&s.excludes),
                at: 0,
            })
            .collect(),
        format: Format::Docker,
    }
}
