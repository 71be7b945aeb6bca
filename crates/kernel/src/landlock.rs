//! Landlock domains: the scope-only domain that keeps a command away from every process outside
//! it ([`Ruleset::process_scope`]), and full rulesets (file hierarchies, TCP ports, scopes) built
//! from a plain [`RulesetSpec`] ([`build`]).
//!
//! Whatever rights a ruleset handles, a Landlock domain forbids ptrace (and so
//! `process_vm_readv`/`writev` and `/proc/PID/mem`) of processes outside the domain (Linux
//! 5.13, ABI 1). ABI 6 (Linux 6.12) adds scopes: signals and abstract Unix sockets stop at the
//! domain's edge, as a container's pid and network namespaces stop them.
//!
//! A scope-only ruleset must handle something: with scopes (ABI ≥ 6) it handles only those;
//! before, it handles `LANDLOCK_ACCESS_FS_MAKE_BLOCK` with no rule, which forbids creating block
//! device nodes (a container's device cgroup forbids it too) and nothing else.
//!
//! # Who builds, who enforces
//! The parent builds every ruleset (allocation, path lookups, error reporting); the child only
//! calls [`Ruleset::restrict_self`], one `landlock_restrict_self(2)` on a descriptor it
//! inherited: no allocation, async-signal-safe. Full rulesets are created (handled rights,
//! scopes, port rules) with the `landlock` crate (rust-landlock): its `RulesetCreated` converts
//! into the ruleset's `OwnedFd`, so the crate never runs in the child. It is used with
//! `CompatLevel::HardRequirement`: a right or scope this kernel does not know is an error,
//! never silently dropped. Path rules are then added with landlock_add_rule(2) directly, in
//! two calls a directory instead of the crate's five (see [`build`]): they are a policy's
//! start-up cost. Degrading a policy to
//! an older ABI is the caller's decision (see [`abi`]); this module holds no policy.
//!
//! # Paths
//! Each path is opened with `O_PATH | O_CLOEXEC`, *following* symlinks, the final component
//! included: a rule on a symlink is a rule on what it points to (as the kernel's sandboxer and
//! rust-landlock's `PathFd` do; Landlock itself only ever sees the opened file). The link
//! itself, and the directory holding it, get nothing from that rule. Rights that only make
//! sense on a directory (`READ_DIR`, `REMOVE_*`, `MAKE_*`, `REFER`) are masked out when the path
//! is not a directory, where the kernel would refuse the whole rule with `EINVAL`.
//!
//! # Where the child enforces it
//! `landlock_restrict_self(2)` needs no_new_privs or CAP_SYS_ADMIN at the call: root with
//! Docker's default capabilities and no no_new_privs would get `EPERM`. In the child's steps
//! (`spawn/steps.rs`) the domain is entered right after the AppArmor transition and the early
//! no_new_privs (unprivileged use), and *before* the bounding set, ids and capability sets
//! are changed: a root caller still holds CAP_SYS_ADMIN there, an unprivileged one has
//! no_new_privs already.
//!
//! # References
//! * landlock(7), landlock_create_ruleset(2), landlock_add_rule(2), landlock_restrict_self(2)
//! * include/uapi/linux/landlock.h (`struct landlock_ruleset_attr`, `LANDLOCK_ACCESS_FS_*`,
//!   `LANDLOCK_ACCESS_NET_*`, `LANDLOCK_SCOPE_*`, `LANDLOCK_CREATE_RULESET_VERSION`)
//! * Documentation/userspace-api/landlock.rst (file-only rights, always-allowed ioctls)
//! * rust-landlock (`landlock` crate): `Ruleset`, `PathBeneath`, `NetPort`, `CompatLevel`

use landlock::{
    AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, RulesetAttr as _,
    RulesetCreatedAttr as _, RulesetError, Scope,
};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// `LANDLOCK_ACCESS_FS_*`, `LANDLOCK_ACCESS_NET_*` and `LANDLOCK_SCOPE_*` bits, defined once in
/// confine-abi (include/uapi/linux/landlock.h).
pub use confine_abi::landlock as access;

use access::{FS_MAKE_BLOCK as ACCESS_FS_MAKE_BLOCK, SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL};

/// The Landlock ABI this kernel offers (`landlock_create_ruleset(NULL, 0,
/// LANDLOCK_CREATE_RULESET_VERSION)`); an error when Landlock is missing or disabled.
pub fn abi() -> io::Result<u32> {
    crate::process::landlock_abi()
}

/// What a full ruleset handles and allows, as raw bits (see [`access`]): no policy, only what
/// the kernel is to be told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RulesetSpec {
    /// `handled_access_fs`: file system rights denied unless a path rule allows them.
    pub handled_fs: u64,
    /// `handled_access_net`: TCP rights denied unless a port rule allows them.
    pub handled_net: u64,
    /// `scoped`: IPC that stops at the domain's edge.
    pub scoped: u64,
    /// Path-beneath rules: a path (symlinks followed) and the rights allowed beneath it.
    pub paths: Vec<(PathBuf, u64)>,
    /// Net-port rules: a TCP port and the rights allowed on it.
    pub tcp: Vec<(u16, u64)>,
}

/// Why [`build`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LandlockError {
    /// Bits that are no Landlock right this module knows of.
    #[error("unknown Landlock {what} bits {bits:#x}")]
    UnknownBits {
        /// Which field: "file system", "network" or "scope".
        what: &'static str,
        /// The unknown bits.
        bits: u64,
    },
    /// Creating the ruleset failed (a right or scope this kernel lacks, or no Landlock).
    #[error("creating the Landlock ruleset: {0}")]
    Create(#[source] RulesetError),
    /// Landlock is not enabled in this kernel.
    #[error("Landlock is not available in this kernel")]
    Unavailable,
    /// A rule's path could not be opened or examined.
    #[error("Landlock rule for {}: {source}", path.display())]
    Open {
        /// The path as given.
        path: PathBuf,
        /// What open(2) or fstat(2) said.
        #[source]
        source: io::Error,
    },
    /// The kernel refused a path rule (rights it does not handle: `EINVAL`).
    #[error("Landlock rule for {}: {source}", path.display())]
    PathRule {
        /// The path as given.
        path: PathBuf,
        /// What landlock_add_rule(2) said.
        #[source]
        source: io::Error,
    },
    /// The kernel (or the crate) refused a port rule.
    #[error("Landlock rule for TCP port {port}: {source}")]
    PortRule {
        /// The port.
        port: u16,
        /// What went wrong.
        #[source]
        source: RulesetError,
    },
}

/// Raw bits as the crate's flags of type `$t`, or [`LandlockError::UnknownBits`].
macro_rules! bits {
    ($t:ty, $what:expr, $raw:expr) => {
        BitFlags::<$t>::from_bits($raw).map_err(|e| LandlockError::UnknownBits {
            what: $what,
            bits: e.invalid_bits(),
        })
    };
}

/// Build a ruleset from `spec` in the calling (parent) process, ready for the child's
/// [`Ruleset::restrict_self`]. Each path is opened `O_PATH | O_CLOEXEC` following symlinks;
/// directory-only rights are masked out for other files (see the module docs). Errors name
/// the path or port they concern.
pub fn build(spec: &RulesetSpec) -> Result<Ruleset, LandlockError> {
    let fs = bits!(AccessFs, "file system", spec.handled_fs)?;
    let net = bits!(AccessNet, "network", spec.handled_net)?;
    let scoped = bits!(Scope, "scope", spec.scoped)?;
    let mut ruleset = landlock::Ruleset::default().set_compatibility(CompatLevel::HardRequirement);
    if !fs.is_empty() {
        ruleset = ruleset.handle_access(fs).map_err(LandlockError::Create)?;
    }
    if !net.is_empty() {
        ruleset = ruleset.handle_access(net).map_err(LandlockError::Create)?;
    }
    if !scoped.is_empty() {
        ruleset = ruleset.scope(scoped).map_err(LandlockError::Create)?;
    }
    let mut created = ruleset.create().map_err(LandlockError::Create)?;
    for &(port, rights) in &spec.tcp {
        let rights = bits!(AccessNet, "network", rights)?;
        created = created
            .add_rule(NetPort::new(port, rights))
            .map_err(|source| LandlockError::PortRule { port, source })?;
    }
    let fd: Option<OwnedFd> = created.into();
    let fd = fd.ok_or(LandlockError::Unavailable)?;
    let resolved = add_paths(&fd, &spec.paths)?;
    Ok(Ruleset {
        fd,
        abi: abi().map_err(|_| LandlockError::Unavailable)?,
        resolved,
    })
}

/// `struct landlock_path_beneath_attr` (include/uapi/linux/landlock.h), packed.
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// `LANDLOCK_RULE_PATH_BENEATH`.
const RULE_PATH_BENEATH: libc::c_int = 1;

/// How many rule descriptors are held open before they are closed together.
const OPEN_BATCH: usize = 128;

/// Add a path-beneath rule for each path, in as few system calls as the kernel allows: one
/// `openat(O_PATH | O_DIRECTORY)` (a second open without `O_DIRECTORY` for what is not a
/// directory, whose rights are then masked to [`access::FS_FILE_RIGHTS`]), one
/// `landlock_add_rule(2)`, and one `close_range(2)` per batch of descriptors. The rights were
/// checked against the kernel's ABI when the ruleset was created (the `landlock` crate,
/// `HardRequirement`); the kernel checks them again against the handled ones (`EINVAL`).
/// This is the start-up cost of a policy: done through the crate, each path took five calls.
///
/// Returns the paths that name another file than they spell (a symlink, `..`), with the file
/// each names, as the kernel reports it (`/proc/self/fd/N`).
fn add_paths(
    ruleset: &OwnedFd,
    paths: &[(PathBuf, u64)],
) -> Result<Vec<(PathBuf, PathBuf)>, LandlockError> {
    let mut held: Vec<OwnedFd> = Vec::with_capacity(OPEN_BATCH.min(paths.len()));
    let mut resolved = Vec::new();
    for (path, rights) in paths {
        let open_err = |source| LandlockError::Open {
            path: path.clone(),
            source,
        };
        let (file, is_dir, through_links) = open_rule_path(path).map_err(open_err)?;
        let rights = if is_dir {
            *rights
        } else {
            rights & access::FS_FILE_RIGHTS
        };
        bits!(AccessFs, "file system", rights)?;
        let attr = PathBeneathAttr {
            allowed_access: rights,
            parent_fd: file.as_raw_fd(),
        };
        // SAFETY: the kernel reads the packed attribute we own, for the duration of the call;
        // both descriptors are open and ours.
        let r = unsafe {
            libc::syscall(
                libc::SYS_landlock_add_rule,
                ruleset.as_raw_fd(),
                RULE_PATH_BENEATH,
                &attr as *const PathBeneathAttr,
                0u32,
            )
        };
        if r != 0 {
            return Err(LandlockError::PathRule {
                path: path.clone(),
                source: io::Error::last_os_error(),
            });
        }
        // what the rule is really on, when a symlink was followed (an unreadable link: not
        // reported, the rule holds)
        if through_links {
            if let Ok(to) = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
                if to != *path {
                    resolved.push((path.clone(), to));
                }
            }
        }
        held.push(file.into());
        if held.len() == OPEN_BATCH {
            close_all(&mut held);
        }
    }
    close_all(&mut held);
    Ok(resolved)
}

/// `open(path, O_PATH | O_CLOEXEC)`, symlinks followed: the file, whether it is a directory,
/// and whether a symlink was followed on the way. One call for a directory without symlinks
/// (openat2(2) with `O_DIRECTORY` and `RESOLVE_NO_SYMLINKS`), the common case; `ENOTDIR` and
/// `ELOOP` (or a kernel without openat2) take the plain open(2), with `O_DIRECTORY` first.
fn open_rule_path(path: &Path) -> io::Result<(std::fs::File, bool, bool)> {
    let plain = |dir: bool| {
        // O_PATH: no read permission needed, no open side effect (a FIFO, a device)
        let mut flags = libc::O_PATH | libc::O_CLOEXEC;
        if dir {
            flags |= libc::O_DIRECTORY;
        }
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(path)
    };
    let plain_both = || match plain(true) {
        Ok(f) => Ok((f, true)),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Ok((plain(false)?, false)),
        Err(e) => Err(e),
    };
    match openat2_no_symlinks(path, true) {
        Ok(f) => Ok((f, true, false)),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
            match openat2_no_symlinks(path, false) {
                Ok(f) => Ok((f, false, false)),
                Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                    plain_both().map(|(f, d)| (f, d, true))
                }
                // a symlink in the middle would give ELOOP; anything else is the path's own
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                    plain_both().map(|(f, d)| (f, d, true))
                }
                Err(e) => Err(e),
            }
        }
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ELOOP | libc::ENOSYS | libc::EPERM)
            ) =>
        {
            plain_both().map(|(f, d)| (f, d, true))
        }
        Err(e) => Err(e),
    }
}

/// `struct open_how` (include/uapi/linux/openat2.h).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2(2) of `path` with `O_PATH | O_CLOEXEC` (and `O_DIRECTORY` when `dir`) and
/// `RESOLVE_NO_SYMLINKS`: `ELOOP` when a symlink is on the way.
fn openat2_no_symlinks(path: &Path, dir: bool) -> io::Result<std::fs::File> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut flags = libc::O_PATH | libc::O_CLOEXEC;
    if dir {
        flags |= libc::O_DIRECTORY;
    }
    let how = OpenHow {
        flags: flags as u64,
        mode: 0,
        resolve: libc::RESOLVE_NO_SYMLINKS,
    };
    // SAFETY: a NUL-terminated path and an open_how we own, both valid for the call; the
    // kernel reads `size_of::<OpenHow>()` bytes of it and returns a new descriptor we then own.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { std::fs::File::from_raw_fd(r as i32) })
}

/// Close the descriptors: one `close_range(2)` when their numbers are consecutive (as they are
/// when nothing else opens meanwhile), one `close(2)` each otherwise.
fn close_all(held: &mut Vec<OwnedFd>) {
    let raw: Vec<i32> = held.iter().map(AsRawFd::as_raw_fd).collect();
    let consecutive = raw.windows(2).all(|w| w[1] == w[0] + 1);
    if let (true, Some(&first), Some(&last)) = (consecutive, raw.first(), raw.last()) {
        // SAFETY: the range holds exactly the descriptors of `held`, which we own; they are
        // forgotten (not closed again on drop) only if the call succeeds.
        let r = unsafe { libc::syscall(libc::SYS_close_range, first as u32, last as u32, 0u32) };
        if r == 0 {
            for fd in held.drain(..) {
                std::mem::forget(fd);
            }
            return;
        }
    }
    held.clear();
}

/// The first ABI with scopes.
pub const SCOPES_ABI: u32 = 6;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

/// What a scope-only domain covers on a given ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// ptrace, process_vm_*, /proc/PID/mem of outside processes (every ABI).
    pub ptrace: bool,
    /// kill(2) and other signals to outside processes (ABI 6).
    pub signals: bool,
    /// connect(2) to abstract Unix sockets bound outside (ABI 6).
    pub abstract_unix: bool,
}

impl Coverage {
    /// What a domain made on Landlock ABI `abi` covers.
    pub fn for_abi(abi: u32) -> Coverage {
        Coverage {
            ptrace: abi >= 1,
            signals: abi >= SCOPES_ABI,
            abstract_unix: abi >= SCOPES_ABI,
        }
    }
}

/// A ruleset ready to be enforced (by [`Ruleset::restrict_self`] in the child, which makes no
/// allocation). The descriptor is close-on-exec.
#[derive(Debug)]
pub struct Ruleset {
    fd: OwnedFd,
    /// The ABI it was made for ([`Ruleset::process_scope`]), or this kernel's ABI ([`build`]).
    pub abi: u32,
    /// The rules' paths that name another file than they spell (a symlink on the way, `..`),
    /// with the file each rule is really on.
    pub resolved: Vec<(PathBuf, PathBuf)>,
}

impl Ruleset {
    /// A ruleset that isolates processes on Landlock ABI `abi` (see the module docs).
    pub fn process_scope(abi: u32) -> io::Result<Ruleset> {
        let (attr, size) = if abi >= SCOPES_ABI {
            (
                RulesetAttr {
                    handled_access_fs: 0,
                    handled_access_net: 0,
                    scoped: SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET,
                },
                std::mem::size_of::<RulesetAttr>(),
            )
        } else {
            (
                RulesetAttr {
                    handled_access_fs: ACCESS_FS_MAKE_BLOCK,
                    handled_access_net: 0,
                    scoped: 0,
                },
                // ABI 1–3 know only the first field, 4–5 the first two
                if abi >= 4 { 16 } else { 8 },
            )
        };
        // SAFETY: the kernel reads `size` bytes (at most the struct's size) from a valid
        // struct; it returns a new close-on-exec descriptor that we then own.
        let r = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                &attr as *const RulesetAttr,
                size,
                0u32,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Ruleset {
            // SAFETY: a fresh descriptor owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(r as i32) },
            abi,
            resolved: Vec::new(),
        })
    }

    /// Another descriptor for the same ruleset (close-on-exec).
    pub fn try_clone(&self) -> io::Result<Ruleset> {
        Ok(Ruleset {
            fd: self.fd.try_clone()?,
            abi: self.abi,
            resolved: self.resolved.clone(),
        })
    }

    /// Put this ruleset at `target`'s descriptor number (dup3 with `O_CLOEXEC`), closing what
    /// was there: whoever holds `target` now holds this ruleset. Used by a namespace's init,
    /// whose command enters the ruleset found at the number confine prepared.
    pub fn replace(self, target: &Ruleset) -> io::Result<()> {
        // SAFETY: both descriptors are open and ours; dup3 atomically closes the target's old
        // file and makes its number refer to this ruleset, close-on-exec. `self` is then
        // dropped, closing only its own number.
        let r = unsafe { libc::dup3(self.fd.as_raw_fd(), target.fd.as_raw_fd(), libc::O_CLOEXEC) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// A stand-in holding any descriptor, for unit tests that never enforce it.
    #[cfg(test)]
    pub(crate) fn stand_in(fd: OwnedFd, abi: u32) -> Ruleset {
        Ruleset {
            fd,
            abi,
            resolved: Vec::new(),
        }
    }

    /// Enforce the ruleset on the calling thread (and what it executes): one
    /// landlock_restrict_self(2), no allocation, async-signal-safe. Needs no_new_privs or
    /// CAP_SYS_ADMIN at the moment of the call (`EPERM` otherwise; see the module docs for
    /// where the child's steps call it). The ruleset stays usable: a descriptor, not a domain.
    pub fn restrict_self(&self) -> io::Result<()> {
        // SAFETY: integer arguments only; the descriptor is ours and open.
        let r =
            unsafe { libc::syscall(libc::SYS_landlock_restrict_self, self.fd.as_raw_fd(), 0u32) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl AsRawFd for Ruleset {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_follows_the_abi() {
        assert_eq!(
            Coverage::for_abi(5),
            Coverage {
                ptrace: true,
                signals: false,
                abstract_unix: false
            }
        );
        assert!(Coverage::for_abi(6).signals);
        assert!(!Coverage::for_abi(0).ptrace);
    }

    #[test]
    fn access_bits_agree_with_the_landlock_crate() {
        use landlock::{Access, ABI};
        let all_fs = (0..16).fold(0, |m, b| m | 1u64 << b);
        assert_eq!(AccessFs::from_all(ABI::V7).bits(), all_fs);
        assert_eq!(AccessFs::from_file(ABI::V7).bits(), access::FS_FILE_RIGHTS);
        assert_eq!(BitFlags::from(AccessFs::Refer).bits(), access::FS_REFER);
        assert_eq!(
            BitFlags::from(AccessFs::IoctlDev).bits(),
            access::FS_IOCTL_DEV
        );
        assert_eq!(
            BitFlags::from(AccessNet::BindTcp).bits(),
            access::NET_BIND_TCP
        );
        assert_eq!(
            BitFlags::from(AccessNet::ConnectTcp).bits(),
            access::NET_CONNECT_TCP
        );
        assert_eq!(BitFlags::from(Scope::Signal).bits(), access::SCOPE_SIGNAL);
        assert_eq!(
            BitFlags::from(Scope::AbstractUnixSocket).bits(),
            access::SCOPE_ABSTRACT_UNIX_SOCKET
        );
    }

    #[test]
    fn abi_is_the_process_probe() {
        assert_eq!(abi().unwrap(), crate::process::landlock_abi().unwrap());
    }

    #[test]
    fn a_built_ruleset_records_this_kernels_abi() {
        let r = build(&RulesetSpec {
            handled_fs: access::FS_READ_FILE,
            handled_net: access::NET_CONNECT_TCP,
            scoped: access::SCOPE_SIGNAL,
            tcp: vec![(443, access::NET_CONNECT_TCP)],
            ..RulesetSpec::default()
        })
        .unwrap();
        assert_eq!(r.abi, abi().unwrap());
    }

    #[test]
    fn rulesets_for_every_abi_are_accepted_by_this_kernel() {
        let abi = crate::process::landlock_abi().unwrap();
        for a in 1..=abi {
            let r = Ruleset::process_scope(a).unwrap_or_else(|e| panic!("ABI {a}: {e}"));
            assert_eq!(r.abi, a);
        }
    }
}
