//! A Landlock domain that keeps a command away from every process outside it.
//!
//! Whatever rights a ruleset handles, a Landlock domain forbids ptrace (and so
//! `process_vm_readv`/`writev` and `/proc/PID/mem`) of processes outside the domain (Linux
//! 5.13, ABI 1). ABI 6 (Linux 6.12) adds scopes: signals and abstract Unix sockets stop at the
//! domain's edge, as a container's pid and network namespaces stop them.
//!
//! A ruleset must handle something: with scopes (ABI ≥ 6) it handles only those; before, it
//! handles `LANDLOCK_ACCESS_FS_MAKE_BLOCK` with no rule, which forbids creating block device
//! nodes (a container's device cgroup forbids it too) and nothing else.
//!
//! # References
//! * landlock(7), landlock_create_ruleset(2), landlock_restrict_self(2)
//! * include/uapi/linux/landlock.h (`struct landlock_ruleset_attr`, `LANDLOCK_SCOPE_*`,
//!   `LANDLOCK_ACCESS_FS_MAKE_BLOCK`)

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const ACCESS_FS_MAKE_BLOCK: u64 = 1 << 11;
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

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
    /// The ABI it was made for.
    pub abi: u32,
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
        })
    }

    /// A stand-in holding any descriptor, for unit tests that never enforce it.
    #[cfg(test)]
    pub(crate) fn stand_in(fd: OwnedFd, abi: u32) -> Ruleset {
        Ruleset { fd, abi }
    }

    /// Enforce the ruleset on the calling thread (and what it executes). Needs no_new_privs or
    /// CAP_SYS_ADMIN at the moment of the call. Async-signal-safe.
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
    fn rulesets_for_every_abi_are_accepted_by_this_kernel() {
        let abi = crate::process::landlock_abi().unwrap();
        for a in 1..=abi {
            let r = Ruleset::process_scope(a).unwrap_or_else(|e| panic!("ABI {a}: {e}"));
            assert_eq!(r.abi, a);
        }
    }
}
