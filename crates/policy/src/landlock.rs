//! The policy lowered to a Landlock plan, as data (no system calls).
//!
//! The constants are the uapi values of `include/uapi/linux/landlock.h` (Linux 6.15):
//! `LANDLOCK_ACCESS_FS_*`, `LANDLOCK_ACCESS_NET_*` and `LANDLOCK_SCOPE_*`, with the ABI version
//! that brought each. The caller (the runtime, through `confine-kernel`) creates the ruleset with
//! the handled bits, opens each path with `O_PATH`, masks the rights with [`PathGrant::rights`]
//! once it knows whether the path is a directory, adds the port rules and restricts itself.
//!
//! What the policy asks and the kernel's ABI cannot give is a [`Gap`]: under
//! [`Compat::Require`] an error, under [`Compat::BestEffort`] a line of
//! [`LandlockPlan::dropped`].

use crate::glob::{self, GlobError, Widening};
use crate::model::{Access, Mode, Policy, Scope, Span};
use confine_profile::diag::{Diagnostic, Severity};
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;

pub use confine_abi::landlock::*;

/// The filesystem rights ABI `abi` knows.
pub fn fs_rights_of(abi: u32) -> u64 {
    match abi {
        0 => 0,
        1 => (1 << 13) - 1,
        2 => (1 << 14) - 1,
        3 | 4 => (1 << 15) - 1,
        _ => (1 << 16) - 1,
    }
}

/// What to do when the kernel's ABI lacks something the policy needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compat {
    /// Refuse: every gap is an error.
    Require,
    /// Go on without it: every gap is listed in [`LandlockPlan::dropped`].
    BestEffort,
}

/// Something the policy needs that the ABI does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The right or rule, e.g. `TCP bind (port rules)`.
    pub what: String,
    /// The ABI that brings it.
    pub needs: u32,
    /// The Linux release of that ABI.
    pub linux: &'static str,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} needs Landlock ABI {} (Linux {})",
            self.what, self.needs, self.linux
        )
    }
}

/// Why a policy has no Landlock plan.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LandlockError {
    /// A path Landlock cannot name.
    #[error("{file}:{line}:{column}: {source}")]
    Path {
        /// The policy's file.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong with it.
        source: GlobError,
    },
    /// Under [`Compat::Require`], what the kernel's ABI cannot enforce.
    #[error("Landlock ABI {abi} cannot enforce the policy: {}", list(.gaps))]
    Abi {
        /// The kernel's ABI.
        abi: u32,
        /// Every gap, in the order of the ABI table.
        gaps: Vec<Gap>,
    },
    /// `spec.mode: Complain` has no Landlock equivalent.
    #[error("{0}: spec.mode Complain cannot be enforced by Landlock (it only denies)")]
    Complain(String),
}

fn list(gaps: &[Gap]) -> String {
    gaps.iter()
        .map(Gap::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl LandlockError {
    /// The error as a located diagnostic, when it has a place.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        let LandlockError::Path {
            file,
            line,
            column,
            source,
        } = self
        else {
            return None;
        };
        Some(Diagnostic {
            severity: Severity::Error,
            code: match source {
                GlobError::Variable(..) => "landlock-variable",
                _ => "landlock-path",
            },
            file: file.clone(),
            line: *line,
            column: *column,
            rule: None,
            syscall: None,
            message: source.to_string(),
        })
    }
}

/// One path rule of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathGrant {
    /// The literal path to open with `O_PATH`.
    pub path: String,
    /// Meant for everything beneath a directory.
    pub beneath: bool,
    /// The rights, already limited to the handled ones; directory rights included.
    pub rights: u64,
    /// Where the first rule for this path was written.
    pub span: Span,
}

impl PathGrant {
    /// The rights to add for this path once the caller knows what it is: on anything but a
    /// directory only [`FS_FILE_RIGHTS`] are allowed.
    pub fn rights(&self, is_dir: bool) -> u64 {
        if is_dir {
            self.rights
        } else {
            for_file(self.rights)
        }
    }
}

/// `rights` limited to what a rule on a non-directory may carry.
pub fn for_file(rights: u64) -> u64 {
    rights & FS_FILE_RIGHTS
}

/// A TCP port rule (`struct landlock_net_port_attr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortGrant {
    /// The port.
    pub port: u16,
    /// [`NET_BIND_TCP`] and/or [`NET_CONNECT_TCP`].
    pub rights: u64,
}

/// A `socket(2)` domain/type pair that seccomp must refuse, because Landlock has no right for it.
///
/// Landlock restricts only TCP bind/connect; it cannot stop a process from creating UDP or raw
/// sockets. For `allowUdp: false` and `allowRaw: false` the runtime, under [`Compat::Require`],
/// adds a seccomp rule per pair: `socket(domain, type, _)` fails with `EACCES` when
/// `args[0] == domain` and `(args[1] & 0xf) == type` (the mask drops `SOCK_NONBLOCK` and
/// `SOCK_CLOEXEC`; `SOCK_TYPE_MASK` is 0xf). (`AF_INET`, `SOCK_DGRAM`) also covers ICMP
/// "ping" sockets, which AppArmor's `network inet dgram` covers too. `socketpair` cannot make
/// inet sockets, and on 32-bit ABIs `socketcall(2)` needs the same treatment (or refusing it,
/// as Docker does on kernels with the direct call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketDeny {
    /// `AF_*`.
    pub domain: u32,
    /// `SOCK_*`.
    pub sock_type: u32,
    /// `IPPROTO_*`, for a rule on one protocol only; None: any.
    pub protocol: Option<u32>,
    /// Which policy field asks for it.
    pub because: &'static str,
}

/// `AF_INET`.
pub const AF_INET: u32 = 2;
/// `AF_INET6`.
pub const AF_INET6: u32 = 10;
/// `AF_PACKET`.
pub const AF_PACKET: u32 = 17;
/// `SOCK_DGRAM`.
pub const SOCK_DGRAM: u32 = 2;
/// `SOCK_RAW`.
pub const SOCK_RAW: u32 = 3;
/// `SOCK_STREAM`.
pub const SOCK_STREAM: u32 = 1;
/// `SOCK_PACKET` (the obsolete packet interface: `AF_PACKET`, and `AF_INET`, which the kernel
/// turns into `AF_PACKET`, net/socket.c `__sock_create`).
pub const SOCK_PACKET: u32 = 10;
/// `AF_XDP` (raw frames from a device's queue, include/linux/socket.h).
pub const AF_XDP: u32 = 44;
/// `IPPROTO_MPTCP` (include/uapi/linux/in.h): Multipath TCP, whose sockets Landlock's TCP
/// rights do not cover (they handle `IPPROTO_TCP` sockets only).
pub const IPPROTO_MPTCP: u32 = 262;

/// The Landlock side of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LandlockPlan {
    /// The ABI the plan is for.
    pub abi: u32,
    /// `handled_access_fs`.
    pub handled_fs: u64,
    /// `handled_access_net`.
    pub handled_net: u64,
    /// `scoped`.
    pub scoped: u64,
    /// Path rules, one per literal path (rights of rules naming the same path merged).
    pub paths: Vec<PathGrant>,
    /// Port rules, sorted by port.
    pub ports: Vec<PortGrant>,
    /// Globs that became wider rules.
    pub widenings: Vec<Widening>,
    /// Under [`Compat::BestEffort`], what was left out.
    pub dropped: Vec<Gap>,
    /// Socket types seccomp must refuse (Landlock cannot).
    pub seccomp_sockets: Vec<SocketDeny>,
}

impl LandlockPlan {
    /// The widenings as located warnings (code `glob-widened`) of the policy's `file`, for the
    /// caller to print with the loader's diagnostics.
    pub fn widening_diagnostics(&self, file: &str) -> Vec<Diagnostic> {
        self.widenings
            .iter()
            .map(|w| {
                let (line, column) = w.at.unwrap_or((1, 1));
                Diagnostic {
                    severity: Severity::Warning,
                    code: "glob-widened",
                    file: file.to_string(),
                    line,
                    column,
                    rule: None,
                    syscall: None,
                    message: format!(
                        "`{}` widened to everything beneath `{}` (Landlock has no globs)",
                        w.glob, w.path
                    ),
                }
            })
            .collect()
    }

    /// Whether the plan restricts anything at all.
    pub fn is_empty(&self) -> bool {
        self.handled_fs == 0 && self.handled_net == 0 && self.scoped == 0
    }
}

fn access_rights(a: Access) -> u64 {
    match a {
        Access::ReadOnly => FS_READ,
        Access::WriteOnly => FS_WRITE,
        Access::ReadWrite => FS_READ | FS_WRITE,
        Access::Execute | Access::Library => FS_EXECUTE | FS_READ_FILE,
        Access::DeviceIoctl => FS_IOCTL_DEV,
        Access::Refer => FS_REFER,
    }
}

/// Lower `policy` to a Landlock plan for ABI `abi` (0: no Landlock).
pub fn landlock(policy: &Policy, abi: u32, compat: Compat) -> Result<LandlockPlan, LandlockError> {
    if policy.mode == Mode::Complain {
        return Err(LandlockError::Complain(policy.file.clone()));
    }
    let mut plan = LandlockPlan {
        abi,
        ..LandlockPlan::default()
    };
    let mut gaps = Vec::new();
    let mut need = |what: &str, needs: u32| -> bool {
        if abi >= needs {
            return true;
        }
        gaps.push(Gap {
            what: what.to_string(),
            needs,
            linux: linux_for(needs),
        });
        false
    };
    let ext = policy.extensions.clone().unwrap_or_default();
    let have_fs = fs_rights_of(abi);

    // Filesystem.
    let mut wanted_fs = 0;
    if policy.filesystem {
        wanted_fs |= FS_READ | FS_WRITE;
        if need("filesystem access rights", 1) {
            need("TRUNCATE (truncate(2) outside writable paths)", 3);
        }
    }
    if policy.executable {
        wanted_fs |= FS_EXECUTE;
        need("EXECUTE (allowedExecutables, allowedLibraries)", 1);
    }
    if ext.refer {
        wanted_fs |= FS_REFER;
        need("REFER (confine.refer)", 2);
    }
    if ext.device_ioctl {
        wanted_fs |= FS_IOCTL_DEV;
        need("IOCTL_DEV (confine.deviceIoctl)", 5);
    }
    if wanted_fs != 0 && abi >= 2 {
        // REFER is always denied across directories once filesystem access is handled;
        // handling it says so.
        wanted_fs |= FS_REFER;
    }
    plan.handled_fs = wanted_fs & have_fs;

    let mut by_path: BTreeMap<String, PathGrant> = BTreeMap::new();
    for rule in &policy.paths {
        let lowered = glob::lower(&rule.path).map_err(|source| LandlockError::Path {
            file: policy.file.clone(),
            line: rule.span.line,
            column: rule.span.column,
            source,
        })?;
        if lowered.widened {
            plan.widenings.push(Widening {
                glob: rule.path.clone(),
                path: lowered.path.clone(),
                at: Some((rule.span.line, rule.span.column)),
            });
        }
        let rights = access_rights(rule.access) & plan.handled_fs;
        if rights == 0 {
            continue;
        }
        let g = by_path.entry(lowered.path.clone()).or_insert(PathGrant {
            path: lowered.path,
            beneath: false,
            rights: 0,
            span: rule.span,
        });
        g.beneath |= lowered.beneath;
        g.rights |= rights;
    }
    plan.paths = by_path.into_values().collect();

    // TCP.
    let deny_tcp = policy.network.allow_tcp == Some(false);
    let mut ports: BTreeMap<u16, u64> = BTreeMap::new();
    for (list, right, name) in [
        (&ext.tcp_bind, NET_BIND_TCP, "TCP bind"),
        (&ext.tcp_connect, NET_CONNECT_TCP, "TCP connect"),
    ] {
        if list.is_none() && !deny_tcp {
            continue;
        }
        if need(&format!("{name} restriction"), 4) {
            plan.handled_net |= right;
        }
        for p in list.iter().flatten() {
            *ports.entry(p.port).or_default() |= right;
        }
    }
    plan.ports = ports
        .into_iter()
        .map(|(port, rights)| PortGrant {
            port,
            rights: rights & plan.handled_net,
        })
        .filter(|p| p.rights != 0)
        .collect();

    // Scopes.
    for s in &ext.scopes {
        if need(&format!("scope {}", s.name()), 6) {
            plan.scoped |= match s {
                Scope::Signal => SCOPE_SIGNAL,
                Scope::AbstractUnix => SCOPE_ABSTRACT_UNIX_SOCKET,
            };
        }
    }

    // What Landlock cannot do at any ABI.
    let mut deny = |domain, sock_type, protocol, because| {
        plan.seccomp_sockets.push(SocketDeny {
            domain,
            sock_type,
            protocol,
            because,
        })
    };
    if policy.network.allow_udp == Some(false) {
        for domain in [AF_INET, AF_INET6] {
            deny(
                domain,
                SOCK_DGRAM,
                None,
                "network.allowedProtocols.allowUdp: false",
            );
        }
    }
    if policy.network.allow_raw == Some(false) {
        for (domain, sock_type) in [
            (AF_INET, SOCK_RAW),
            (AF_INET6, SOCK_RAW),
            (AF_INET, SOCK_PACKET),
            (AF_PACKET, SOCK_RAW),
            (AF_PACKET, SOCK_DGRAM),
            (AF_PACKET, SOCK_PACKET),
            (AF_XDP, SOCK_RAW),
        ] {
            deny(domain, sock_type, None, "network.allowRaw: false");
        }
    }
    // Landlock's TCP rights cover IPPROTO_TCP sockets only: with TCP restricted, Multipath
    // TCP would get around them
    if plan.handled_net != 0 {
        for domain in [AF_INET, AF_INET6] {
            deny(
                domain,
                SOCK_STREAM,
                Some(IPPROTO_MPTCP),
                "TCP restricted (Landlock does not cover Multipath TCP)",
            );
        }
    }

    gaps.sort_by_key(|g| g.needs);
    gaps.dedup();
    match compat {
        Compat::Require if !gaps.is_empty() => Err(LandlockError::Abi { abi, gaps }),
        _ => {
            plan.dropped = gaps;
            Ok(plan)
        }
    }
}
