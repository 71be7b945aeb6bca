//! The command's process: cloned with CLONE_VM | CLONE_VFORK (as posix_spawn does) from a
//! single-threaded process, it makes no allocation and only async-signal-safe system calls on
//! data prepared before the clone, and ends in execve or _exit.
//!
//! Steps, in order: signals to their defaults; its own session (and the new terminal as its
//! controlling terminal with `-t`); standard descriptors; every descriptor above the kept ones
//! marked close-on-exec (before any filter, as runc does, so a profile need not allow it); a
//! new session keyring; the AppArmor exec transition;
//! no_new_privs when it must come first (unprivileged use); the Landlock domain; seccomp now
//! when no_new_privs is not asked for (the filter must go in while CAP_SYS_ADMIN is still
//! held, as in runc); bounding set, ambient set, groups, gid, uid, capability sets;
//! no_new_privs and seccomp when asked for; the parent-death signal; working directory; execve
//! along the search path. A failed
//! step leaves its stage and errno in memory the parent reads, and the child exits before the
//! command ever runs.
//!
//! # References
//! * clone(2) (CLONE_VM, CLONE_VFORK), execve(2), execvp(3) (search rules), setsid(2),
//!   ioctl_tty(2) (TIOCSCTTY), close_range(2), prctl(2) (PR_SET_PDEATHSIG)
//! * runc libcontainer/standard_init_linux.go

use super::{Confinement, Stage};
use crate::process;
use crate::seccomp::{install_prepared, InstallFlags, Prepared};
use std::io;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// Everything the child needs, prepared by the parent: the child shares the parent's memory
/// (CLONE_VM) and only reads this, except `report`, where a failed step leaves its stage and
/// errno, and the LISTEN_PID slot.
pub(super) struct ChildArgs<'a> {
    /// Full paths to try in order, as execvp tries the directories of PATH.
    pub candidates: &'a [*const libc::c_char],
    pub argv: &'a [*const libc::c_char],
    pub envp: &'a [*const libc::c_char],
    pub c: &'a Confinement,
    pub seccomp: Option<(Prepared, InstallFlags)>,
    pub aa_value: Option<Vec<u8>>,
    /// Descriptors to put at 0, 1, 2 (-1: keep what is there); the init sets them to the
    /// pty it opens.
    pub stdio: [AtomicI32; 3],
    /// The window size for a pty the init opens.
    pub winsize: Option<libc::winsize>,
    /// Make the terminal at `stdio[0]` the controlling terminal (a new pty).
    pub controlling_tty: bool,
    /// Set PR_SET_PDEATHSIG and check that this pid is still the parent (0: the parent is the
    /// namespace's init, whose death ends the namespace).
    pub parent: AtomicI32,
    /// The digits of `LISTEN_PID=` in the environment, filled with the child's pid.
    pub listen_pid: Option<(*mut u8, usize)>,
    /// 0 while nothing failed; otherwise `stage << 32 | errno`.
    pub report: AtomicU64,
}

pub(super) fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn fail(a: &ChildArgs, stage: Stage, errno: i32) -> ! {
    a.report.store(
        ((stage as u64) << 32) | u64::from(errno as u32),
        Ordering::SeqCst,
    );
    // SAFETY: _exit(2) ends the child without running anything of the parent's (no atexit
    // handlers, no stdio flush on memory the parent owns).
    unsafe { libc::_exit(125) }
}

/// The kernel's signal count (`_NSIG`) and the size of its signal set in bytes.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
pub(super) const KERNEL_NSIG: usize = 128;
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
pub(super) const KERNEL_NSIG: usize = 64;

/// Every signal at its default action; the mask set to `mask` (all-zero: none blocked).
/// Handlers confine (or Rust's runtime) installed would run on memory shared with the parent;
/// dispositions confine inherited as ignored (SIGPIPE, which Rust's runtime ignores, or
/// whatever confine's caller ignored) would survive execve. Raw rt_sigaction /
/// rt_sigprocmask, because libc refuses to touch the signals it reserves.
pub(super) fn reset_signals(block_all: bool) {
    // An all-zero kernel `struct sigaction` is SIG_DFL, no flags, empty mask, whatever the
    // architecture's field order; an all-zero kernel sigset is the empty set.
    let zero = [0u64; 8];
    let all = [u64::MAX; 8];
    for sig in 1..=KERNEL_NSIG {
        // SAFETY: rt_sigaction reads a valid zeroed struct (no old action is written); it
        // fails harmlessly with EINVAL for SIGKILL and SIGSTOP.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig as libc::c_long,
                zero.as_ptr(),
                std::ptr::null_mut::<u64>(),
                (KERNEL_NSIG / 8) as libc::c_long,
            )
        };
    }
    let mask = if block_all { &all } else { &zero };
    // SAFETY: installs the set read from `mask` as the thread's mask.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as libc::c_long,
            mask.as_ptr(),
            std::ptr::null_mut::<u64>(),
            (KERNEL_NSIG / 8) as libc::c_long,
        )
    };
}

/// Mark every descriptor from `first` up close-on-exec: close_range(2) (Linux 5.11), else one
/// fcntl per descriptor up to the descriptor limit.
fn cloexec_from(first: u32) -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: integer arguments only; marks descriptors, closes none.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = errno();
    if e != libc::ENOSYS && e != libc::EINVAL {
        return Err(io::Error::from_raw_os_error(e));
    }
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    for fd in first as u64..lim.rlim_cur.min(1 << 20) {
        // SAFETY: fcntl on a descriptor number; EBADF for closed ones is expected.
        unsafe { libc::fcntl(fd as i32, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Write `n` in decimal into the `len` bytes at `p`, NUL-padded.
fn write_decimal(p: *mut u8, len: usize, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for k in 0..len {
        let b = digits.get(i + k).copied().unwrap_or(0);
        // SAFETY: `p` points at `len` writable bytes of a buffer that the parent keeps alive
        // and does not touch until this child has executed the command (CLONE_VFORK).
        unsafe { *p.add(k) = b };
    }
}

/// The child: runs on its own stack in its parent's memory while the parent waits
/// (CLONE_VFORK), making only async-signal-safe system calls on prepared data, and ends in
/// execve or _exit.
pub(super) extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` the parent passed to clone; it outlives the child's use
    // of it because the parent is suspended until the child execs or exits.
    let a = unsafe { &*(arg as *const ChildArgs) };
    let c = a.c;
    reset_signals(false);

    // SAFETY: setsid, ioctl, dup2 and fcntl on integers the parent chose.
    unsafe {
        if libc::setsid() < 0 {
            fail(a, Stage::Session, errno());
        }
        let stdio = a.stdio.each_ref().map(|f| f.load(Ordering::SeqCst));
        if a.controlling_tty && libc::ioctl(stdio[0], libc::TIOCSCTTY, 0) != 0 {
            fail(a, Stage::Session, errno());
        }
        for (target, &fd) in stdio.iter().enumerate() {
            if fd >= 0 && libc::dup2(fd, target as i32) < 0 {
                fail(a, Stage::Session, errno());
            }
        }
    }
    let keep = 3 + c.keep_fds;
    for fd in 3..keep {
        // SAFETY: fcntl on a descriptor the caller asked to pass on.
        unsafe { libc::fcntl(fd as i32, libc::F_SETFD, 0) };
    }
    if cloexec_from(keep).is_err() {
        fail(a, Stage::Descriptors, errno());
    }
    if let Some((p, len)) = a.listen_pid {
        // SAFETY: getpid takes no argument.
        write_decimal(p, len, unsafe { libc::getpid() } as u32);
    }
    // A session keyring of its own, as runc gives each container: the caller's (and the keys
    // in it) stay out of reach, whatever user the command runs as. ENOSYS: no keyrings;
    // EPERM: a filter already refuses keyctl (nested in confine run or a container), to the
    // command as well.
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) takes integers and a null name.
    if unsafe { libc::syscall(libc::SYS_keyctl, 1 as libc::c_long, 0usize) } < 0
        && !matches!(errno(), libc::ENOSYS | libc::EPERM)
    {
        fail(a, Stage::Keyring, errno());
    }
    if let Some(v) = &a.aa_value {
        let aa_paths = [
            c"/proc/thread-self/attr/apparmor/exec",
            c"/proc/thread-self/attr/exec",
        ];
        let mut done = false;
        for p in aa_paths {
            // SAFETY: open/write/close on a NUL-terminated path and a byte buffer.
            let fd = unsafe { libc::open(p.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
            if fd >= 0 {
                // SAFETY: write reads `v.len()` bytes from `v`, alive for the call.
                let n = unsafe { libc::write(fd, v.as_ptr().cast(), v.len()) };
                let e = errno();
                // SAFETY: closing the descriptor opened just above.
                unsafe { libc::close(fd) };
                if n != v.len() as isize {
                    fail(a, Stage::AppArmor, e);
                }
                done = true;
                break;
            }
        }
        if !done {
            fail(a, Stage::AppArmor, errno());
        }
    }
    if c.no_new_privs_first && crate::seccomp::set_no_new_privs().is_err() {
        fail(a, Stage::NoNewPrivs, errno());
    }
    if let Some(r) = &c.landlock {
        if r.restrict_self().is_err() {
            fail(a, Stage::Landlock, errno());
        }
    }
    if let (Some((prog, flags)), false) = (&a.seccomp, c.no_new_privs) {
        if let Err(e) = install_prepared(prog, *flags) {
            fail(a, Stage::Seccomp, install_errno(&e));
        }
    }
    if let Some(bounding) = c.bounding {
        for cap in 0..=c.last_cap.min(63) {
            if bounding & (1 << cap) == 0
                && process::bounding_has(cap).unwrap_or(false)
                && process::bounding_drop(cap).is_err()
            {
                fail(a, Stage::Bounding, errno());
            }
        }
    }
    if process::ambient_clear().is_err() {
        fail(a, Stage::Ambient, errno());
    }
    if let Some((groups, gid, uid)) = &c.ids {
        if process::set_groups(groups).is_err()
            || process::set_resgid(*gid).is_err()
            || process::set_resuid(*uid).is_err()
        {
            fail(a, Stage::Ids, errno());
        }
    }
    if let Some(caps) = c.caps {
        if process::capset(caps).is_err() {
            fail(a, Stage::Caps, errno());
        }
    }
    if c.no_new_privs {
        if crate::seccomp::set_no_new_privs().is_err() {
            fail(a, Stage::NoNewPrivs, errno());
        }
        if let Some((prog, flags)) = &a.seccomp {
            if let Err(e) = install_prepared(prog, *flags) {
                fail(a, Stage::Seccomp, install_errno(&e));
            }
        }
    }
    let parent = a.parent.load(Ordering::SeqCst);
    if parent != 0 {
        // After the id changes, which clear it. A parent that died before this point has
        // left us to another: then stop here.
        // SAFETY: prctl with integer arguments; getppid takes none.
        unsafe {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                fail(a, Stage::ParentDeath, errno());
            }
            if libc::getppid() != parent {
                fail(a, Stage::ParentDeath, libc::ESRCH);
            }
        }
    }
    if let Some(dir) = &c.workdir {
        // SAFETY: chdir on a NUL-terminated path.
        if unsafe { libc::chdir(dir.as_ptr()) } != 0 {
            fail(a, Stage::Workdir, errno());
        }
    }
    // execvp's rules: a missing entry or a directory that is not one goes on to the next;
    // permission denied is remembered and goes on; any other error stops the search.
    let mut denied = false;
    for &path in a.candidates {
        // SAFETY: execve with NUL-terminated arrays of NUL-terminated strings, all alive (the
        // parent's memory is untouched until we exec).
        unsafe { libc::execve(path, a.argv.as_ptr(), a.envp.as_ptr()) };
        match errno() {
            libc::EACCES => denied = true,
            libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
            e => fail(a, Stage::Exec, e),
        }
    }
    fail(
        a,
        Stage::Exec,
        if denied { libc::EACCES } else { libc::ENOENT },
    )
}

/// The child's stack: an anonymous mapping with a PROT_NONE guard page at its low end, so an
/// overflow faults instead of writing into the parent's memory.
struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

impl Stack {
    const SIZE: usize = 256 * 1024;

    fn new() -> io::Result<Stack> {
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                Self::SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack {
            base,
            len: Self::SIZE,
        };
        // SAFETY: the first page of the mapping we own becomes the guard.
        if unsafe { libc::mprotect(base, 4096, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The initial stack pointer (stacks grow down on every architecture confine supports).
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of the mapping, which clone uses as the initial pointer.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping created in `new`, no longer in use.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Start the command: clone(CLONE_VM | CLONE_VFORK), so that this returns only once the
/// command has been executed (its pid) or a step failed (the stage and errno, the child
/// already reaped). The caller blocks every signal around the call, so that no handler of its
/// own runs in the child before the child has reset them.
pub(super) fn launch(args: &ChildArgs) -> Result<libc::pid_t, (Stage, io::Error)> {
    let stack = Stack::new().map_err(|e| (Stage::Clone, e))?;
    // SAFETY: the calling process is single-threaded here; the child runs `child_main` on its
    // own stack with `args`, both alive until clone returns, which with CLONE_VFORK is after
    // the child has executed the command or exited.
    let pid = unsafe {
        libc::clone(
            child_main,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            args as *const ChildArgs as *mut libc::c_void,
        )
    };
    if pid < 0 {
        return Err((Stage::Clone, io::Error::last_os_error()));
    }
    drop(stack);
    let report = args.report.load(Ordering::SeqCst);
    if report != 0 {
        let mut status = 0;
        // SAFETY: reaping our own child, which has exited.
        while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 && errno() == libc::EINTR {}
        let stage = Stage::from_u8((report >> 32) as u8).unwrap_or(Stage::Exec);
        return Err((stage, io::Error::from_raw_os_error(report as u32 as i32)));
    }
    Ok(pid)
}

fn install_errno(e: &crate::seccomp::InstallError) -> i32 {
    use crate::seccomp::InstallError::*;
    match e {
        NeedNoNewPrivs => libc::EACCES,
        Invalid => libc::EINVAL,
        TooMuch => libc::ENOMEM,
        TooLong(_) => libc::E2BIG,
        ThreadSync(_) => libc::ESRCH,
        Os(e) => e.raw_os_error().unwrap_or(libc::EIO),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_fills_and_pads() {
        let mut b = [b'x'; 10];
        super::write_decimal(b.as_mut_ptr(), b.len(), 4031);
        assert_eq!(&b, b"4031\0\0\0\0\0\0");
        super::write_decimal(b.as_mut_ptr(), b.len(), 0);
        assert_eq!(&b[..2], b"0\0");
        super::write_decimal(b.as_mut_ptr(), b.len(), u32::MAX);
        assert_eq!(&b, b"4294967295");
    }
}
