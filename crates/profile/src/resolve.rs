//! Docker's resolution of a profile for one host: which rules apply, and for which
//! architectures (moby `profiles/seccomp`, `setupSeccomp`).

use crate::model::{Action, Arg, Filter, Flag, KernelVersion, Profile};
use confine_abi::{Arch, ArchError, CapSet, Capability, SyscallTable};

/// What the resolution depends on: the native architecture, the bounding capability set and
/// the kernel's major.minor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    /// The native architecture (Docker: the daemon's build architecture).
    pub arch: Arch,
    /// The container's bounding capability set.
    pub caps: CapSet,
    /// The host kernel, major.minor.
    pub kernel: KernelVersion,
}

impl Host {
    /// This machine: confine's build architecture, the running kernel (from
    /// /proc/sys/kernel/osrelease) and Docker's 14 default capabilities.
    pub fn detect() -> Host {
        Host {
            arch: Arch::native(),
            caps: CapSet::docker_default(),
            kernel: running_kernel().unwrap_or(KernelVersion {
                kernel: 0,
                major: 0,
            }),
        }
    }
}

/// The running kernel's major.minor, if it can be read.
pub fn running_kernel() -> Option<KernelVersion> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .and_then(|s| KernelVersion::parse_release(&s))
}

/// A rule that applies on the host, as Docker hands it to the runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRule {
    /// The rule's names in the profile's order (runc adds them in that order), every one kept.
    pub names: std::sync::Arc<[String]>,
    /// The action.
    pub action: Action,
    /// `errnoRet`, as written.
    pub errno_ret: Option<u32>,
    /// Argument conditions.
    pub args: Vec<Arg>,
    /// The rule's comment (kept for `--format docker`).
    pub comment: Option<String>,
    /// Index of the rule in the source profile.
    pub source_index: usize,
}

/// A profile resolved for one host: the OCI `linux.seccomp` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// `defaultAction`.
    pub default_action: Action,
    /// `defaultErrnoRet`.
    pub default_errno_ret: Option<u32>,
    /// `architectures`, from `architectures` or the host's `archMap` entry.
    pub architectures: Vec<Arch>,
    /// `flags`, passed through.
    pub flags: Option<Vec<Flag>>,
    /// `listenerPath`.
    pub listener_path: Option<String>,
    /// `listenerMetadata`.
    pub listener_metadata: Option<String>,
    /// The rules that apply, in order.
    pub rules: Vec<ResolvedRule>,
    /// The host it was resolved for.
    pub host: Host,
}

/// The outcome of resolving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The profile has no default action and no rules: Docker runs without seccomp.
    Unconfined,
    /// A filter to install.
    Filter(Resolved),
}

/// Docker compares capability strings exactly against `CAP_…` names.
fn host_has_cap(host: &Host, name: &str) -> bool {
    Capability::parse(name)
        .ok()
        .filter(|c| c.name() == name)
        .is_some_and(|c| host.caps.contains(c))
}

/// Docker compares `arches` with the native name. moby's own maps spell loongarch64 and
/// mipsel two ways; confine matches either spelling.
fn host_is_arch(host: &Host, name: &str) -> bool {
    let native = host.arch.native_name();
    name == native
        || matches!(
            (host.arch, name),
            (Arch::Loongarch64, "loongarch64")
                | (Arch::Mipsel, "mipsle")
                | (Arch::Mipsel64N32, "mips3l64n32")
        )
}

fn kernel_at_least(host: &Host, min: KernelVersion) -> bool {
    host.kernel >= min
}

/// Whether Docker keeps a rule with these `includes` / `excludes` on this host.
pub fn rule_applies(includes: &Filter, excludes: &Filter, host: &Host) -> bool {
    if excludes.arches.iter().any(|a| host_is_arch(host, a))
        || excludes.caps.iter().any(|c| host_has_cap(host, c))
        || excludes
            .min_kernel
            .is_some_and(|m| kernel_at_least(host, m))
    {
        return false;
    }
    if !includes.arches.is_empty() && !includes.arches.iter().any(|a| host_is_arch(host, a)) {
        return false;
    }
    if !includes.caps.iter().all(|c| host_has_cap(host, c)) {
        return false;
    }
    if includes
        .min_kernel
        .is_some_and(|m| !kernel_at_least(host, m))
    {
        return false;
    }
    true
}

/// Resolve `profile` for `host` exactly as Docker does.
///
/// ```
/// use confine_abi::{Arch, CapSet};
/// use confine_profile::{parse_profile, resolve, Host, KernelVersion, Resolution};
///
/// let text = br#"{
///     "defaultAction": "SCMP_ACT_ERRNO",
///     "syscalls": [
///         {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
///         {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW",
///          "includes": {"caps": ["CAP_SYS_PTRACE"]}}
///     ]
/// }"#;
/// let profile = parse_profile(text, "example.json").profile.unwrap();
/// let host = Host {
///     arch: Arch::X86_64,
///     caps: CapSet::docker_default(), // no CAP_SYS_PTRACE
///     kernel: KernelVersion { kernel: 6, major: 1 },
/// };
/// let Resolution::Filter(r) = resolve(&profile, &host) else { unreachable!() };
/// let names: Vec<&str> = r.rules.iter().flat_map(|r| r.names.iter().map(String::as_str)).collect();
/// assert_eq!(names, ["read"]); // the ptrace rule needs a capability the host lacks
/// ```
pub fn resolve(profile: &Profile, host: &Host) -> Resolution {
    let Some(default_action) = profile.default_action else {
        return Resolution::Unconfined;
    };
    let mut architectures = profile.architectures.clone();
    if let Some(entry) = profile.arch_map.iter().find(|e| e.arch == host.arch) {
        architectures.push(entry.arch);
        architectures.extend(entry.sub_arches.iter().copied());
    }
    let rules = profile
        .syscalls
        .iter()
        .enumerate()
        .filter(|(_, r)| rule_applies(&r.includes, &r.excludes, host))
        .map(|(i, r)| ResolvedRule {
            names: r.names.clone(),
            action: r.action,
            errno_ret: r.errno_ret,
            args: r.args.clone(),
            comment: r.comment.clone(),
            source_index: i,
        })
        .collect();
    Resolution::Filter(Resolved {
        default_action,
        default_errno_ret: profile.default_errno_ret,
        architectures,
        flags: profile.flags.clone(),
        listener_path: profile.listener_path.clone(),
        listener_metadata: profile.listener_metadata.clone(),
        rules,
        host: *host,
    })
}

impl Resolved {
    /// The architectures the filter covers: `architectures`, or only the native one when the
    /// list is empty (libseccomp's default).
    pub fn covered_arches(&self) -> Vec<Arch> {
        if self.architectures.is_empty() {
            vec![self.host.arch]
        } else {
            self.architectures.clone()
        }
    }

    /// Distinct names that have at least one rule with `action`.
    pub fn names_with_action(&self, action: Action) -> std::collections::BTreeSet<&str> {
        self.rules
            .iter()
            .filter(|r| r.action == action)
            .flat_map(|r| r.names.iter().map(String::as_str))
            .collect()
    }

    /// Names that exist on none of the covered architectures (runc skips them). A socket or
    /// SysV IPC name counts as present on an ABI where libseccomp routes it through the
    /// `socketcall`/`ipc` multiplexer (e.g. `semop` on s390x). An architecture without a
    /// syscall table is an error, never skipped.
    pub fn unknown_names(&self) -> Result<Vec<String>, ArchError> {
        let tables = self
            .covered_arches()
            .into_iter()
            .map(|a| Ok((a, SyscallTable::for_arch(a)?)))
            .collect::<Result<Vec<_>, ArchError>>()?;
        let present = |n: &str| {
            tables.iter().any(|(arch, t)| {
                t.number(n).is_some()
                    || (arch.multiplexed()
                        && confine_abi::mux::mux_call(n)
                            .is_some_and(|(m, _)| t.number(m).is_some()))
            })
        };
        let mut out: Vec<String> = self
            .rules
            .iter()
            .flat_map(|r| r.names.iter())
            .filter(|n| !present(n))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}
