//! Process credentials: capability sets, the bounding and ambient sets, user and group ids.
//! The primitives `confine run` applies, in runc's order, before it executes the command.
//!
//! # References
//! * capabilities(7), capget(2)/capset(2) (`_LINUX_CAPABILITY_VERSION_3`)
//! * prctl(2): `PR_CAPBSET_READ`, `PR_CAPBSET_DROP`, `PR_CAP_AMBIENT`, `PR_SET_KEEPCAPS`
//! * setresuid(2), setresgid(2), setgroups(2)

use std::io;

/// The three per-thread capability sets, as 64-bit masks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    /// Effective.
    pub effective: u64,
    /// Permitted.
    pub permitted: u64,
    /// Inheritable.
    pub inheritable: u64,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn check(r: libc::c_long) -> io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The calling thread's capability sets.
pub fn capget() -> io::Result<CapSets> {
    let mut hdr = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: version 3 takes one header and an array of two data structs, both valid and
    // writable for the duration of the call.
    check(unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut hdr as *mut CapHeader,
            data.as_mut_ptr(),
        )
    })?;
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// Set the calling thread's capability sets.
pub fn capset(c: CapSets) -> io::Result<()> {
    let mut hdr = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (e0, e1) = split(c.effective);
    let (p0, p1) = split(c.permitted);
    let (i0, i1) = split(c.inheritable);
    let data = [
        CapData {
            effective: e0,
            permitted: p0,
            inheritable: i0,
        },
        CapData {
            effective: e1,
            permitted: p1,
            inheritable: i1,
        },
    ];
    // SAFETY: as for capget; the kernel only reads the two data structs.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) })
}

fn prctl(op: libc::c_int, a: libc::c_ulong, b: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: the prctl operations used here take integer arguments only.
    let r = unsafe { libc::prctl(op, a, b, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Whether `cap` is in the calling thread's bounding set.
pub fn bounding_has(cap: u8) -> io::Result<bool> {
    prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(cap), 0).map(|r| r == 1)
}

/// Remove `cap` from the bounding set (needs CAP_SETPCAP).
pub fn bounding_drop(cap: u8) -> io::Result<()> {
    prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0).map(|_| ())
}

/// The bounding set as a mask, over capabilities 0..=`last`.
pub fn bounding_set(last: u8) -> io::Result<u64> {
    let mut m = 0u64;
    for c in 0..=last.min(63) {
        if bounding_has(c)? {
            m |= 1 << c;
        }
    }
    Ok(m)
}

/// Empty the ambient set.
pub fn ambient_clear() -> io::Result<()> {
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )
    .map(|_| ())
}

/// Keep permitted capabilities across a change of user id away from 0.
pub fn set_keep_caps(keep: bool) -> io::Result<()> {
    prctl(libc::PR_SET_KEEPCAPS, libc::c_ulong::from(keep), 0).map(|_| ())
}

/// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
pub fn last_cap() -> io::Result<u8> {
    let s = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")?;
    s.trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "cap_last_cap is not a number"))
}

// The 32-bit-id system calls (the plain ones take 16-bit ids on these ABIs).
#[cfg(any(target_arch = "x86", target_arch = "arm"))]
mod nr {
    pub const SETGROUPS: libc::c_long = libc::SYS_setgroups32;
    pub const SETRESGID: libc::c_long = libc::SYS_setresgid32;
    pub const SETRESUID: libc::c_long = libc::SYS_setresuid32;
}
#[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
mod nr {
    pub const SETGROUPS: libc::c_long = libc::SYS_setgroups;
    pub const SETRESGID: libc::c_long = libc::SYS_setresgid;
    pub const SETRESUID: libc::c_long = libc::SYS_setresuid;
}

// The three calls below are raw system calls on purpose: they change the calling thread only
// (libc's wrappers would try to reach every thread of the process, which a CLONE_VM child
// must not do), and they are what runs between clone and exec in `spawn`.

/// Set the supplementary groups of the calling thread.
pub fn set_groups(groups: &[u32]) -> io::Result<()> {
    // SAFETY: the kernel reads `groups.len()` gid_t values from a valid slice.
    check(unsafe { libc::syscall(nr::SETGROUPS, groups.len(), groups.as_ptr()) })
}

/// Set real, effective and saved group ids of the calling thread.
pub fn set_resgid(gid: u32) -> io::Result<()> {
    // SAFETY: integer arguments only.
    check(unsafe {
        libc::syscall(
            nr::SETRESGID,
            gid as libc::c_long,
            gid as libc::c_long,
            gid as libc::c_long,
        )
    })
}

/// Set real, effective and saved user ids of the calling thread.
pub fn set_resuid(uid: u32) -> io::Result<()> {
    // SAFETY: integer arguments only.
    check(unsafe {
        libc::syscall(
            nr::SETRESUID,
            uid as libc::c_long,
            uid as libc::c_long,
            uid as libc::c_long,
        )
    })
}

/// The active Linux security modules, by name, from `lsm_list_modules(2)` (Linux 6.8), which
/// works without securityfs mounted. Order as the kernel reports it.
///
/// # References
/// * lsm_list_modules(2); include/uapi/linux/lsm.h (`LSM_ID_*`)
pub fn active_lsms() -> io::Result<Vec<&'static str>> {
    const NAMES: [(u64, &str); 14] = [
        (100, "capability"),
        (101, "selinux"),
        (102, "smack"),
        (103, "tomoyo"),
        (104, "apparmor"),
        (105, "yama"),
        (106, "loadpin"),
        (107, "safesetid"),
        (108, "lockdown"),
        (109, "bpf"),
        (110, "landlock"),
        (111, "ima"),
        (112, "evm"),
        (113, "ipe"),
    ];
    let mut ids = [0u64; 32];
    let mut size: u32 = std::mem::size_of_val(&ids) as u32;
    #[cfg(target_arch = "x86_64")]
    const SYS_LSM_LIST_MODULES: libc::c_long = 461;
    #[cfg(not(target_arch = "x86_64"))]
    // the same number on the generic table
    const SYS_LSM_LIST_MODULES: libc::c_long = 461;
    // SAFETY: the kernel writes at most `size` bytes into `ids` and updates `size`.
    let n = unsafe {
        libc::syscall(
            SYS_LSM_LIST_MODULES,
            ids.as_mut_ptr(),
            &mut size as *mut u32,
            0u32,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ids[..(n as usize).min(ids.len())]
        .iter()
        .map(|id| {
            NAMES
                .iter()
                .find(|(v, _)| v == id)
                .map_or("unknown", |(_, name)| *name)
        })
        .collect())
}

/// The Landlock ABI version this kernel offers (`landlock_create_ruleset(NULL, 0,
/// LANDLOCK_CREATE_RULESET_VERSION)`); an error (EOPNOTSUPP: built in but disabled, ENOSYS:
/// not built) when it has none. It creates nothing.
pub fn landlock_abi() -> io::Result<u32> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_long = 1;
    // SAFETY: with a NULL attribute pointer, size 0 and the VERSION flag the call only returns
    // the ABI number.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as u32)
    }
}

#[cfg(test)]
mod landlock_tests {
    #[test]
    fn this_kernel_offers_landlock() {
        // the development and CI kernels have Landlock ABI 7 (a Debian 6.1 guest: 2)
        let abi = super::landlock_abi().unwrap();
        assert!(abi >= 1, "{abi}");
    }
}
