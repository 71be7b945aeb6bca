//! Start a command under a confinement, in runc's order, failing closed.
//!
//! The parent builds every string and program first (the filter already in the kernel's
//! layout); the child, cloned with CLONE_VM | CLONE_VFORK from a single-threaded process (as
//! posix_spawn does), makes no allocation and only async-signal-safe system calls on data
//! prepared before the clone. Steps, in order:
//! AppArmor exec transition; seccomp now when no_new_privs is not asked for (the filter must go
//! in while CAP_SYS_ADMIN is still held); bounding set, ambient set, groups, gid, uid,
//! capability sets; no_new_privs and seccomp when asked for; working directory; execve. A
//! failed step leaves its stage and errno in memory the parent reads, and the child exits
//! before the command ever runs.
//!
//! # References
//! * clone(2) (CLONE_VM, CLONE_VFORK), execve(2), waitpid(2), sigaction(2); runc libcontainer/standard_init_linux.go

use crate::process::{self, CapSets};
use crate::seccomp::{install_prepared, InstallFlags, Prepared};
use confine_bpf::Insn;
use std::ffi::{CStr, CString};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// What to apply before the command runs.
#[derive(Clone, Debug, Default)]
pub struct Confinement {
    /// `exec NAME` for /proc/thread-self/attr/apparmor/exec (attr/exec as a fallback).
    pub apparmor_exec: Option<String>,
    /// The seccomp program and its flags.
    pub seccomp: Option<(Vec<Insn>, InstallFlags)>,
    /// Set no_new_privs (and install seccomp after the credential changes).
    pub no_new_privs: bool,
    /// Capabilities to keep in the bounding set; the others up to `last_cap` are dropped.
    pub bounding: u64,
    /// The highest capability of the running kernel.
    pub last_cap: u8,
    /// The final effective, permitted and inheritable sets (ambient is always emptied).
    pub caps: CapSets,
    /// Supplementary groups, gid and uid to switch to.
    pub ids: Option<(Vec<u32>, u32, u32)>,
    /// Working directory.
    pub workdir: Option<CString>,
}

/// The step that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    /// Writing the AppArmor exec transition.
    AppArmor = 1,
    /// Installing the seccomp filter.
    Seccomp = 2,
    /// Dropping from the bounding set.
    Bounding = 3,
    /// Clearing the ambient set.
    Ambient = 4,
    /// Changing groups or ids.
    Ids = 5,
    /// Setting the capability sets.
    Caps = 6,
    /// Setting no_new_privs.
    NoNewPrivs = 7,
    /// Changing directory.
    Workdir = 8,
    /// execve itself.
    Exec = 9,
}

impl Stage {
    fn from_u8(b: u8) -> Option<Stage> {
        use Stage::*;
        [
            AppArmor, Seccomp, Bounding, Ambient, Ids, Caps, NoNewPrivs, Workdir, Exec,
        ]
        .into_iter()
        .find(|s| *s as u8 == b)
    }

    /// What the step is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::AppArmor => "setting the AppArmor exec transition",
            Stage::Seccomp => "installing the seccomp filter",
            Stage::Bounding => "dropping capabilities from the bounding set",
            Stage::Ambient => "clearing the ambient capabilities",
            Stage::Ids => "changing groups and user",
            Stage::Caps => "setting the capability sets",
            Stage::NoNewPrivs => "setting no_new_privs",
            Stage::Workdir => "changing to the working directory",
            Stage::Exec => "executing the command",
        }
    }
}

/// How the command ended, or why it never started.
#[derive(Debug)]
pub enum Outcome {
    /// It exited with this status.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
    /// A confinement step (or execve) failed in the child; nothing ran.
    Failed(Stage, io::Error),
}

/// Everything the child needs, prepared by the parent: the child shares the parent's memory
/// (CLONE_VM) and only reads this, except `report`, where a failed step leaves its stage and
/// errno before the child exits.
struct ChildArgs<'a> {
    path: &'a CStr,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
    c: &'a Confinement,
    seccomp: Option<(Prepared, InstallFlags)>,
    aa_value: Option<Vec<u8>>,
    /// 0 while nothing failed; otherwise `stage << 32 | errno`.
    report: AtomicU64,
}

fn errno() -> i32 {
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
const KERNEL_NSIG: usize = 128;
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
const KERNEL_NSIG: usize = 64;

/// Signal dispositions and mask as a container's first process gets them: every signal at its
/// default action and none blocked. Handlers confine (or Rust's runtime) installed would run on
/// memory shared with the parent; dispositions confine inherited as ignored (SIGPIPE, which
/// Rust's runtime ignores, or whatever confine's caller ignored) would survive execve. Raw
/// rt_sigaction / rt_sigprocmask, because libc refuses to touch the signals it reserves.
fn reset_signals() {
    // An all-zero kernel `struct sigaction` is SIG_DFL, no flags, empty mask, whatever the
    // architecture's field order; an all-zero kernel sigset is the empty set.
    let zero = [0u64; 8];
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
    // SAFETY: installs the empty set read from `zero` as the thread's mask.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as libc::c_long,
            zero.as_ptr(),
            std::ptr::null_mut::<u64>(),
            (KERNEL_NSIG / 8) as libc::c_long,
        )
    };
}

/// The child: runs on its own stack in the parent's memory while the parent waits (CLONE_VFORK),
/// making only async-signal-safe system calls on prepared data, and ends in execve or _exit.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` the parent passed to clone; it outlives the child's use
    // of it because the parent is suspended until the child execs or exits.
    let a = unsafe { &*(arg as *const ChildArgs) };
    let c = a.c;
    reset_signals();
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
                let n = unsafe { libc::write(fd, v.as_ptr().cast(), v.len()) };
                let e = errno();
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
    if let (Some((prog, flags)), false) = (&a.seccomp, c.no_new_privs) {
        if let Err(e) = install_prepared(prog, *flags) {
            fail(a, Stage::Seccomp, install_errno(&e));
        }
    }
    for cap in 0..=c.last_cap.min(63) {
        if c.bounding & (1 << cap) == 0
            && process::bounding_has(cap).unwrap_or(false)
            && process::bounding_drop(cap).is_err()
        {
            fail(a, Stage::Bounding, errno());
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
    if process::capset(c.caps).is_err() {
        fail(a, Stage::Caps, errno());
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
    if let Some(dir) = &c.workdir {
        // SAFETY: chdir on a NUL-terminated path.
        if unsafe { libc::chdir(dir.as_ptr()) } != 0 {
            fail(a, Stage::Workdir, errno());
        }
    }
    // SAFETY: execve with NUL-terminated arrays of NUL-terminated strings, all alive (the
    // parent's memory is untouched until we exec).
    unsafe { libc::execve(a.path.as_ptr(), a.argv.as_ptr(), a.envp.as_ptr()) };
    fail(a, Stage::Exec, errno())
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

/// Start a confined child, execute `path` with `argv` and `envp`, wait, and report.
///
/// The child is created with clone(CLONE_VM | CLONE_VFORK), as posix_spawn does: no copy of
/// confine's address space, and the parent resumes only once the command has been executed or
/// a step failed, so a failure is known without a pipe.
pub fn spawn(
    path: &CStr,
    argv: &[CString],
    envp: &[CString],
    c: &Confinement,
) -> io::Result<Outcome> {
    let argv_p: Vec<*const libc::c_char> = argv
        .iter()
        .map(|a| a.as_ptr())
        .chain([std::ptr::null()])
        .collect();
    let envp_p: Vec<*const libc::c_char> = envp
        .iter()
        .map(|a| a.as_ptr())
        .chain([std::ptr::null()])
        .collect();
    let args = ChildArgs {
        path,
        argv: &argv_p,
        envp: &envp_p,
        c,
        seccomp: c.seccomp.as_ref().map(|(p, f)| (Prepared::new(p), *f)),
        aa_value: c
            .apparmor_exec
            .as_ref()
            .map(|n| format!("exec {n}").into_bytes()),
        report: AtomicU64::new(0),
    };
    let stack = Stack::new()?;
    // Block every signal across clone so that no handler of ours runs in the child before it
    // has reset them; the child empties its mask itself.
    // SAFETY: sigset manipulation on local structs and the calling thread's mask.
    let saved = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut saved: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved);
        saved
    };
    // SAFETY: confine is single-threaded here (no thread is started before `spawn`); the child
    // runs `child_main` on its own stack with `args`, both alive until clone returns, which
    // with CLONE_VFORK is after the child has executed the command or exited.
    let pid = unsafe {
        libc::clone(
            child_main,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &args as *const ChildArgs as *mut libc::c_void,
        )
    };
    let clone_err = io::Error::last_os_error();
    if pid > 0 {
        forward_signals(pid);
    }
    // SAFETY: restoring the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &saved, std::ptr::null_mut()) };
    drop(stack);
    if pid < 0 {
        return Err(clone_err);
    }
    let mut status = 0i32;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if errno() != libc::EINTR {
            return Err(io::Error::last_os_error());
        }
    }
    let report = args.report.load(Ordering::SeqCst);
    if report != 0 {
        let stage = Stage::from_u8((report >> 32) as u8).unwrap_or(Stage::Exec);
        let e = report as u32 as i32;
        return Ok(Outcome::Failed(stage, io::Error::from_raw_os_error(e)));
    }
    Ok(if libc::WIFSIGNALED(status) {
        Outcome::Signaled(libc::WTERMSIG(status))
    } else {
        Outcome::Exited(libc::WEXITSTATUS(status))
    })
}

static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int) {
    let pid = CHILD.load(std::sync::atomic::Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe; the pid is our own child's.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Pass the signals a supervisor or a terminal sends (HUP, INT, QUIT, TERM, USR1, USR2, WINCH)
/// on to the command, as docker run's signal proxy does, so that stopping confine stops it.
fn forward_signals(pid: libc::pid_t) {
    CHILD.store(pid, std::sync::atomic::Ordering::Relaxed);
    for sig in [
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGWINCH,
    ] {
        // SAFETY: a zeroed sigaction with an async-signal-safe handler and SA_RESTART; the
        // handler only reads an atomic and calls kill(2). A signal confine was started with
        // ignored (nohup) stays ignored, as a shell leaves it.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = forward as *const () as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
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
