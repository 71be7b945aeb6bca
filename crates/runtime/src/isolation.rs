//! What keeps the command away from the rest of the machine, chosen from confine's privilege:
//!
//! * **With CAP_SYS_ADMIN** (root): new pid and mount namespaces with confine's init as pid 1
//!   and a fresh /proc, Docker's masked and read-only paths, /sys read-only — and a Landlock
//!   domain on top (ABI 6: scopes only), which also keeps a command granted SYS_PTRACE from
//!   tracing the init.
//! * **Without** (an ordinary user): the same in a new user namespace that maps the caller's
//!   ids to themselves, as rootless Docker and bubblewrap do.
//! * **Where no user namespace can be had** (`confine run` inside `confine run`, whose filter
//!   refuses it, or a kernel that does): a Landlock domain with scopes (ABI 6, Linux 6.12): no
//!   ptrace, /proc/PID/mem, process_vm_* or signals across its edge. no_new_privs is set,
//!   since seccomp and Landlock need it without CAP_SYS_ADMIN.
//!   A command that would run as root is refused unless /proc/sys is already read-only (an
//!   outer confine did it) or `systempaths=unconfined` is given.
//!
//! `--unsafe-share-processes` gives up the pid namespace and the Landlock domain.

use crate::note::{Note, Notes};
use crate::{Error, Result};
use confine_abi::{CapSet, Capability};
use confine_kernel::landlock::{access, Coverage, SCOPES_ABI};
use confine_kernel::mounts;
use confine_kernel::spawn::Namespace;
use std::ffi::CString;

/// runc's `readonlyPaths` as Docker sets them (moby `oci/defaults.go`).
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// runc's `maskedPaths` as current moby sets them (`oci/defaults.go`, 2025): Docker 20.10's
/// list plus /proc/interrupts and every CPU's `thermal_throttle` directory.
pub fn masked_paths() -> Vec<String> {
    let mut v: Vec<String> = [
        "/proc/asound",
        "/proc/acpi",
        "/proc/interrupts",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]
    .map(String::from)
    .to_vec();
    if let Ok(d) = std::fs::read_dir("/sys/devices/system/cpu") {
        let mut cpus: Vec<String> = d
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                n.strip_prefix("cpu")
                    .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|n| format!("/sys/devices/system/cpu/{n}/thermal_throttle"))
            .filter(|p| std::path::Path::new(p).exists())
            .collect();
        cpus.sort();
        v.extend(cpus);
    }
    v
}

/// What confine itself may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Privilege {
    /// confine's effective capabilities.
    pub effective: CapSet,
    /// confine's uid.
    pub uid: u32,
    /// confine's gid.
    pub gid: u32,
}

impl Privilege {
    /// confine's own, read from the kernel.
    pub fn current() -> Result<Privilege> {
        use std::os::unix::fs::MetadataExt;
        let caps = confine_kernel::process::capget()
            .map_err(Error::io("reading confine's capabilities"))?;
        let me = std::fs::metadata("/proc/self").map_err(Error::io("reading /proc/self"))?;
        Ok(Privilege {
            effective: CapSet(caps.effective),
            uid: me.uid(),
            gid: me.gid(),
        })
    }

    /// Whether the effective set holds capability `name` (`SYS_ADMIN`).
    pub fn has(&self, name: &str) -> bool {
        Capability::parse(name).is_ok_and(|c| self.effective.contains(c))
    }
}

/// The process-isolation part of a Landlock domain, made for Landlock ABI `abi`: the scopes
/// (signals, abstract Unix sockets) from ABI 6; before, a domain that handles only
/// `MAKE_BLOCK` with no rule (creating block devices, which a container's device cgroup
/// forbids too), since a domain must handle something — and any domain keeps its processes
/// from tracing those outside it. [`crate::plan`] puts it into one ruleset with the policy's
/// rights, when there is a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessScope {
    /// The kernel's Landlock ABI.
    pub abi: u32,
}

impl ProcessScope {
    /// `(handled_access_fs, scoped)` of the scope alone.
    pub fn bits(self) -> (u64, u64) {
        if self.abi >= SCOPES_ABI {
            (0, access::SCOPE_SIGNAL | access::SCOPE_ABSTRACT_UNIX_SOCKET)
        } else {
            (access::FS_MAKE_BLOCK, 0)
        }
    }

    /// The scopes to add to a policy's ruleset (which handles rights of its own, so that the
    /// `MAKE_BLOCK` stand-in is not needed).
    pub fn scoped(self) -> u64 {
        self.bits().1
    }
}

/// The isolation of one run.
#[derive(Debug)]
pub struct Isolation {
    /// The new namespaces and what to set up in them.
    pub namespace: Option<Namespace>,
    /// The Landlock domain's process isolation.
    pub landlock: Option<ProcessScope>,
    /// no_new_privs must be set before Landlock and seccomp.
    pub no_new_privs_first: bool,
}

fn cstrings(v: impl IntoIterator<Item = String>) -> Vec<CString> {
    v.into_iter().filter_map(|s| CString::new(s).ok()).collect()
}

/// A namespace with a new pid namespace or not, Docker's /proc and /sys protections or not,
/// in a new user namespace mapping `user` or not.
fn namespace(pid: bool, system_paths: bool, user: Option<(u32, u32)>) -> Namespace {
    let paths = |v: Vec<String>| {
        if system_paths {
            cstrings(v)
        } else {
            Vec::new()
        }
    };
    Namespace {
        pid,
        masked: paths(masked_paths()),
        readonly: paths(READONLY_PATHS.map(String::from).to_vec()),
        sys_readonly: system_paths,
        user,
    }
}

/// Whether Docker's /proc and /sys protections already hold here (set up by an outer
/// confine or container runtime).
pub fn protections_inherited() -> bool {
    let ro = READONLY_PATHS.iter().all(|p| {
        CString::new(*p)
            .ok()
            .and_then(|c| mounts::is_readonly(&c).ok())
            .is_some_and(|r| r != Some(false))
    });
    let masked = masked_paths().iter().all(|p| {
        CString::new(p.as_str())
            .ok()
            .and_then(|c| mounts::is_masked(&c).ok())
            .unwrap_or(false)
    });
    ro && masked
}

/// What the isolation is chosen from.
#[derive(Clone, Copy, Debug)]
pub struct Ask {
    /// `--unsafe-share-processes`.
    pub share_processes: bool,
    /// Docker's /proc and /sys protections (not `systempaths=unconfined`).
    pub system_paths: bool,
    /// The command's bounding set.
    pub granted: CapSet,
    /// Whether the command runs as uid 0.
    pub root_command: bool,
    /// Whether a seccomp filter goes in.
    pub filters: bool,
    /// After a user namespace could not be set up (or would not map the ids asked for).
    pub landlock_only: bool,
}

/// Choose the isolation for confine's privilege `who` on a kernel with Landlock ABI `abi`
/// (0: none).
pub fn plan(who: &Privilege, abi: u32, ask: Ask, notes: Notes) -> Result<Isolation> {
    let Ask {
        share_processes,
        system_paths,
        granted,
        root_command,
        filters,
        landlock_only,
    } = ask;
    let cover = Coverage::for_abi(abi);
    if who.has("SYS_ADMIN") {
        let namespace = (!share_processes || system_paths)
            .then(|| namespace(!share_processes, system_paths, None));
        // ABI 6's scopes change nothing else; before it, a domain must handle a file right,
        // which also forbids mounts — taken only when the command may trace (SYS_PTRACE), to
        // keep it from the init
        let may_trace = Capability::parse("SYS_PTRACE").is_ok_and(|c| granted.contains(c));
        let landlock = if share_processes {
            None
        } else if cover.signals {
            Some(ProcessScope { abi })
        } else if may_trace {
            if !cover.ptrace {
                return Err(Error::Unavailable("this kernel has no Landlock, which keeps a command granted SYS_PTRACE from tracing confine's init; drop SYS_PTRACE, or give --unsafe-share-processes".into()));
            }
            notes(Note::LandlockBeforeScopes { abi });
            Some(ProcessScope { abi })
        } else {
            None
        };
        return Ok(Isolation {
            namespace,
            landlock,
            no_new_privs_first: false,
        });
    }
    // an ordinary user: a user namespace makes the same pid and mount namespaces possible
    // (as rootless Docker and bubblewrap do); where it cannot be had (nested, or refused by the
    // kernel), the caller asks again with `landlock_only`
    if !share_processes && !landlock_only {
        return Ok(Isolation {
            namespace: Some(namespace(true, system_paths, Some((who.uid, who.gid)))),
            landlock: if cover.signals {
                Some(ProcessScope { abi })
            } else {
                None
            },
            no_new_privs_first: false,
        });
    }
    let landlock = if share_processes {
        None
    } else if !cover.signals {
        return Err(Error::Unavailable(format!(
            "process isolation needs a pid namespace, which takes CAP_SYS_ADMIN (confine lacks it), or Landlock ABI {} (Linux 6.12) for its scopes, and this kernel has {}; give --unsafe-share-processes to run without it",
            confine_kernel::landlock::SCOPES_ABI,
            if abi == 0 { "no Landlock".to_string() } else { format!("ABI {abi}") }
        )));
    } else {
        Some(ProcessScope { abi })
    };
    if root_command && system_paths && !protections_inherited() {
        return Err(Error::Unavailable("the command would run as root with /proc/sys writable: making it read-only takes a mount namespace, which takes CAP_SYS_ADMIN (confine lacks it); run the command with --user, or give --security-opt systempaths=unconfined".into()));
    }
    Ok(Isolation {
        namespace: None,
        no_new_privs_first: landlock.is_some() || filters,
        landlock,
    })
}
