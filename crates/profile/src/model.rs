//! The profile model: what a Docker or OCI seccomp profile says, validated, with source offsets.

use confine_abi::Arch;
use std::fmt;

macro_rules! spelled_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The spelling used in profiles.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            /// Parse the exact profile spelling.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

spelled_enum! {
    /// A seccomp action (runtime-spec `LinuxSeccompAction`, 9 values).
    Action {
        /// `SCMP_ACT_KILL`: kills the thread (runc maps it to KILL_THREAD).
        Kill = "SCMP_ACT_KILL",
        /// `SCMP_ACT_KILL_PROCESS`
        KillProcess = "SCMP_ACT_KILL_PROCESS",
        /// `SCMP_ACT_KILL_THREAD`
        KillThread = "SCMP_ACT_KILL_THREAD",
        /// `SCMP_ACT_TRAP`: SIGSYS.
        Trap = "SCMP_ACT_TRAP",
        /// `SCMP_ACT_ERRNO`: fail with `errnoRet` (EPERM when absent).
        Errno = "SCMP_ACT_ERRNO",
        /// `SCMP_ACT_TRACE`: notify a ptrace tracer with `errnoRet` as the message.
        Trace = "SCMP_ACT_TRACE",
        /// `SCMP_ACT_ALLOW`
        Allow = "SCMP_ACT_ALLOW",
        /// `SCMP_ACT_LOG`: allow and log.
        Log = "SCMP_ACT_LOG",
        /// `SCMP_ACT_NOTIFY`: ask a user-space agent (seccomp user notification).
        Notify = "SCMP_ACT_NOTIFY",
    }
}

impl Action {
    /// Whether the action carries `errnoRet` (ERRNO and TRACE do; runc ignores it elsewhere).
    pub fn takes_errno(self) -> bool {
        matches!(self, Action::Errno | Action::Trace)
    }
}

spelled_enum! {
    /// A comparison operator on a syscall argument (7 values).
    Operator {
        /// `!=`
        NotEqual = "SCMP_CMP_NE",
        /// `<`
        LessThan = "SCMP_CMP_LT",
        /// `<=`
        LessEqual = "SCMP_CMP_LE",
        /// `==`
        EqualTo = "SCMP_CMP_EQ",
        /// `>=`
        GreaterEqual = "SCMP_CMP_GE",
        /// `>`
        GreaterThan = "SCMP_CMP_GT",
        /// `(arg & value) == valueTwo`
        MaskedEqual = "SCMP_CMP_MASKED_EQ",
    }
}

spelled_enum! {
    /// A seccomp filter flag (runtime-spec `LinuxSeccompFlag`).
    Flag {
        /// `SECCOMP_FILTER_FLAG_TSYNC`: accepted and ignored by runc.
        Tsync = "SECCOMP_FILTER_FLAG_TSYNC",
        /// `SECCOMP_FILTER_FLAG_LOG`
        Log = "SECCOMP_FILTER_FLAG_LOG",
        /// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`
        SpecAllow = "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`
        WaitKillableRecv = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    }
}

/// A kernel version as `minKernel` and the resolver compare it: major.minor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    /// The first number (`6` in 6.8).
    pub kernel: u8,
    /// The second number (`8` in 6.8).
    pub major: u8,
}

impl KernelVersion {
    /// Parse `"X.Y"` exactly as moby does for `minKernel`: two dot-separated decimals 0–255,
    /// not `0.0`.
    pub fn parse_min(s: &str) -> Result<KernelVersion, String> {
        let parts: Vec<&str> = s.splitn(3, '.').collect();
        if parts.len() != 2 {
            return Err(format!(
                "invalid kernel version `{s}`, expected \"<kernel>.<major>\""
            ));
        }
        let num = |p: &str| -> Result<u8, String> {
            if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!(
                    "invalid kernel version `{s}`: `{p}` is not a number 0-255"
                ));
            }
            p.parse()
                .map_err(|_| format!("invalid kernel version `{s}`: `{p}` is not a number 0-255"))
        };
        let v = KernelVersion {
            kernel: num(parts[0])?,
            major: num(parts[1])?,
        };
        if v.kernel == 0 && v.major == 0 {
            return Err(format!(
                "invalid kernel version `{s}`: version cannot be 0.0"
            ));
        }
        Ok(v)
    }

    /// Parse a `uname -r` release: the first two numbers (`6.18.0-foo` → 6.18), as moby reads
    /// the host version with `%d.%d`.
    pub fn parse_release(s: &str) -> Option<KernelVersion> {
        let mut it = s.trim().split(|c: char| !c.is_ascii_digit());
        let kernel = it.next()?.parse::<u32>().ok()?;
        let major = it.next()?.parse::<u32>().ok()?;
        Some(KernelVersion {
            kernel: kernel.min(255) as u8,
            major: major.min(255) as u8,
        })
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kernel, self.major)
    }
}

/// One argument condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Arg {
    /// Argument index, 0–5.
    pub index: u32,
    /// The operand (the mask, for MASKED_EQ).
    pub value: u64,
    /// The second operand (the expected value, for MASKED_EQ).
    pub value_two: u64,
    /// The comparison.
    pub op: Operator,
}

/// Docker's `includes` / `excludes` conditions. Capability and arch strings are kept as written:
/// Docker compares them as exact strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `caps`: capability names, as written.
    pub caps: Vec<String>,
    /// `arches`: Docker native arch names, as written.
    pub arches: Vec<String>,
    /// `minKernel`.
    pub min_kernel: Option<KernelVersion>,
}

impl Filter {
    /// Whether the filter has no condition.
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// One rule of `syscalls[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Syscall names (from `names`, or the deprecated `name`); shared, not copied, by the
    /// resolved rule.
    pub names: std::sync::Arc<[String]>,
    /// The action.
    pub action: Action,
    /// `errnoRet`, as written (also when the action ignores it).
    pub errno_ret: Option<u32>,
    /// Argument conditions.
    pub args: Vec<Arg>,
    /// `comment` (Docker only).
    pub comment: Option<String>,
    /// `includes` (Docker only).
    pub includes: Filter,
    /// `excludes` (Docker only).
    pub excludes: Filter,
    /// Byte offset of the rule in the source.
    pub at: usize,
}

/// One `archMap` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchMapEntry {
    /// `architecture`.
    pub arch: Arch,
    /// `subArchitectures`.
    pub sub_arches: Vec<Arch>,
}

/// Which format the profile came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A Docker profile (a superset of the OCI object).
    Docker,
    /// The `linux.seccomp` object of an OCI `config.json`.
    OciConfig,
}

/// A parsed, validated profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// `defaultAction`; `None` only when the profile has no rules (Docker: seccomp disabled).
    pub default_action: Option<Action>,
    /// `defaultErrnoRet`.
    pub default_errno_ret: Option<u32>,
    /// `architectures`.
    pub architectures: Vec<Arch>,
    /// `archMap` (Docker only).
    pub arch_map: Vec<ArchMapEntry>,
    /// `flags`: `None` when absent (runc then adds SPEC_ALLOW), `Some(vec![])` when empty.
    pub flags: Option<Vec<Flag>>,
    /// `listenerPath`.
    pub listener_path: Option<String>,
    /// `listenerMetadata`.
    pub listener_metadata: Option<String>,
    /// `syscalls`, in order.
    pub syscalls: Vec<Rule>,
    /// Where it came from.
    pub format: Format,
}
