//! The command's process: cloned with CLONE_VM | CLONE_VFORK (as posix_spawn does) from a
//! single-threaded process, it makes no allocation and only async-signal-safe system calls on
//! data prepared before the clone, and ends in execve or _exit.
//!
//! The steps themselves, and their order, are in `steps.rs`; this is [`Kernel`], the
//! implementation of [`ChildOps`] that makes the system calls, the entry point `child_main`,
//! and `launch`, which clones the process. A failed step leaves its stage and errno in memory
//! the parent reads, and the child exits before the command ever runs.
//!
//! # References
//! * clone(2) (CLONE_VM, CLONE_VFORK), execve(2), execvp(3) (search rules), setsid(2),
//!   ioctl_tty(2) (TIOCSCTTY), close_range(2), prctl(2) (PR_SET_PDEATHSIG)
//! * runc libcontainer/standard_init_linux.go

use super::fault;
use super::steps::{self, CStrArray, ChildArgs, ChildOps, Errno, Executed};
use super::{SingleThreaded, Stage};
use crate::landlock::Ruleset;
use crate::process::{self, CapSets};
use crate::seccomp::{install_prepared, InstallFlags, Prepared};
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::sync::atomic::Ordering;

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
///
/// Chosen by `cfg` for the architecture this crate is built for, because the child runs on
/// that architecture and this crate does not depend on confine-abi (the unsafe boundary stays
/// small). confine-abi's table holds the same fact for every architecture
/// (`Arch::signal_count`), and the two must agree: 128 on MIPS
/// (arch/mips/include/uapi/asm/signal.h), 64 elsewhere (include/uapi/asm-generic/signal.h).
/// A test below compares them for the architecture being built (confine-abi is a
/// dev-dependency). The `sigsetsize` of rt_sigaction and rt_sigprocmask must be exactly
/// `_NSIG / 8`, or the kernel answers EINVAL.
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

/// The real [`ChildOps`]: each method one system call (or two, for a fallback), on data the
/// parent prepared; no allocation, no lock.
pub(super) struct Kernel;

/// The errno of a failed call that left it in `errno`.
fn failed<T>(r: io::Result<T>) -> Result<T, Errno> {
    r.map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

/// `Ok` for a zero return, else the errno.
fn zero(r: libc::c_int) -> Result<(), Errno> {
    if r == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

impl ChildOps for Kernel {
    fn reset_signals(&mut self) {
        reset_signals(false);
    }

    fn setsid(&mut self) -> Result<(), Errno> {
        fault::at(Stage::Session)?;
        // SAFETY: setsid takes no argument.
        if unsafe { libc::setsid() } < 0 {
            return Err(errno());
        }
        Ok(())
    }

    fn set_controlling_tty(&mut self, fd: i32) -> Result<(), Errno> {
        // SAFETY: TIOCSCTTY takes an integer argument.
        zero(unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) })
    }

    fn dup2(&mut self, fd: i32, target: i32) -> Result<(), Errno> {
        // SAFETY: dup2 on descriptor numbers the parent chose; the target is a standard one.
        if unsafe { libc::dup2(fd, target) } < 0 {
            return Err(errno());
        }
        Ok(())
    }

    fn keep_fd(&mut self, fd: i32) {
        // SAFETY: fcntl on a descriptor the caller asked to pass on; EBADF for a closed one.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    }

    fn cloexec_from(&mut self, first: u32) -> Result<(), Errno> {
        fault::at(Stage::Descriptors)?;
        failed(cloexec_from(first))
    }

    fn getpid(&mut self) -> i32 {
        // SAFETY: getpid takes no argument.
        unsafe { libc::getpid() }
    }

    fn join_session_keyring(&mut self) -> Result<(), Errno> {
        fault::at(Stage::Keyring)?;
        // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) takes integers and a null name.
        if unsafe { libc::syscall(libc::SYS_keyctl, 1 as libc::c_long, 0usize) } < 0 {
            return Err(errno());
        }
        Ok(())
    }

    fn open_attr(&mut self, path: &CStr) -> Result<i32, Errno> {
        fault::at(Stage::AppArmor)?;
        // SAFETY: open on a NUL-terminated path.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(errno());
        }
        Ok(fd)
    }

    fn write_attr(&mut self, fd: i32, value: &[u8]) -> Result<(), Errno> {
        // SAFETY: write reads `value.len()` bytes from `value`, alive for the call.
        let n = unsafe { libc::write(fd, value.as_ptr().cast(), value.len()) };
        let e = errno();
        if n != value.len() as isize {
            return Err(e);
        }
        Ok(())
    }

    fn join_cgroup(&mut self, procs: i32) -> Result<(), Errno> {
        fault::at(Stage::Cgroup)?;
        self.write_attr(procs, b"0")
    }

    fn close(&mut self, fd: i32) {
        // SAFETY: closing a descriptor this process opened (`open_attr`).
        unsafe { libc::close(fd) };
    }

    fn set_no_new_privs(&mut self) -> Result<(), Errno> {
        fault::at(Stage::NoNewPrivs)?;
        failed(crate::seccomp::set_no_new_privs())
    }

    fn landlock_restrict_self(&mut self, ruleset: &Ruleset) -> Result<(), Errno> {
        fault::at(Stage::Landlock)?;
        failed(ruleset.restrict_self())
    }

    fn install_seccomp(
        &mut self,
        prog: &Prepared,
        flags: InstallFlags,
    ) -> Result<Option<i32>, Errno> {
        fault::at(Stage::Seccomp)?;
        // the listener stays open (close-on-exec): closing it would be a notified call
        install_prepared(prog, flags)
            .map(|l| l.map(IntoRawFd::into_raw_fd))
            .map_err(|e| install_errno(&e))
    }

    fn dumpable(&mut self) -> i32 {
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }
    }

    fn set_dumpable(&mut self, value: i32) {
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, value, 0, 0, 0) };
    }

    fn hand_over(&mut self, sock: i32) -> Result<i32, Errno> {
        // SAFETY: getpid takes no argument.
        let pidfd = failed(crate::notify::pidfd_open(unsafe { libc::getpid() }))?;
        let n = pidfd.as_raw_fd();
        let sent = failed(crate::notify::send_fd(sock, n, n));
        drop(pidfd);
        sent.map(|()| n)
    }

    fn bounding_has(&mut self, cap: u8) -> bool {
        process::bounding_has(cap).unwrap_or(false)
    }

    fn bounding_drop(&mut self, cap: u8) -> Result<(), Errno> {
        fault::at(Stage::Bounding)?;
        failed(process::bounding_drop(cap))
    }

    fn ambient_clear(&mut self) -> Result<(), Errno> {
        fault::at(Stage::Ambient)?;
        failed(process::ambient_clear())
    }

    fn setgroups(&mut self, groups: &[u32]) -> Result<(), Errno> {
        fault::at(Stage::Ids)?;
        failed(process::set_groups(groups))
    }

    fn setresgid(&mut self, gid: u32) -> Result<(), Errno> {
        failed(process::set_resgid(gid))
    }

    fn setresuid(&mut self, uid: u32) -> Result<(), Errno> {
        failed(process::set_resuid(uid))
    }

    fn capset(&mut self, caps: CapSets) -> Result<(), Errno> {
        fault::at(Stage::Caps)?;
        failed(process::capset(caps))
    }

    fn set_parent_death_signal(&mut self) -> Result<(), Errno> {
        fault::at(Stage::ParentDeath)?;
        // SAFETY: prctl with integer arguments.
        zero(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) })
    }

    fn getppid(&mut self) -> i32 {
        // SAFETY: getppid takes no argument.
        unsafe { libc::getppid() }
    }

    fn chdir(&mut self, dir: &CStr) -> Result<(), Errno> {
        fault::at(Stage::Workdir)?;
        // SAFETY: chdir on a NUL-terminated path.
        zero(unsafe { libc::chdir(dir.as_ptr()) })
    }

    fn execve(
        &mut self,
        path: &CStr,
        argv: &CStrArray,
        envp: &CStrArray,
    ) -> Result<Executed, Errno> {
        fault::at(Stage::Exec)?;
        // SAFETY: a NUL-terminated path and two null-terminated arrays of NUL-terminated
        // strings (`CStrArray`), all alive: the parent's memory is untouched until we exec.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        Err(errno())
    }
}

/// The child: runs on its own stack in its parent's memory while the parent waits
/// (CLONE_VFORK), making only async-signal-safe system calls on prepared data, and ends in
/// execve or _exit.
pub(super) extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` the parent passed to clone; it outlives the child's use
    // of it because the parent is suspended until the child execs or exits.
    let a = unsafe { &*(arg as *const ChildArgs) };
    match steps::run(&mut Kernel, a) {
        Err((stage, e)) => fail(a, stage, e),
        // the real execve returns only when it failed
        Ok(Executed) => fail(a, Stage::Exec, libc::EIO),
    }
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
pub(super) fn launch(
    args: &ChildArgs,
    _one: &SingleThreaded,
) -> Result<libc::pid_t, (Stage, io::Error)> {
    fault::at_io(Stage::Clone).map_err(|e| (Stage::Clone, e))?;
    let stack = Stack::new().map_err(|e| (Stage::Clone, e))?;
    // SAFETY: the calling process is single-threaded (`_one`); the child runs `child_main` on its
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
    /// The `cfg` choice of [`super::KERNEL_NSIG`] agrees with confine-abi's table for the
    /// architecture being built.
    #[test]
    fn kernel_nsig_agrees_with_confine_abi() {
        let host = confine_abi::Arch::native();
        assert_eq!(
            super::KERNEL_NSIG,
            usize::from(host.signal_count()),
            "_NSIG on {host}"
        );
    }
}
