//! Start a command under a confinement, in runc's order, failing closed.
//!
//! The parent builds every string and program first (the filter already in the kernel's
//! layout); the child, forked from a single-threaded process, makes no allocation and only
//! async-signal-safe system calls on data prepared before the fork. Steps, in order:
//! AppArmor exec transition; seccomp now when no_new_privs is not asked for (the filter must go
//! in while CAP_SYS_ADMIN is still held); bounding set, ambient set, groups, gid, uid,
//! capability sets; no_new_privs and seccomp when asked for; working directory; execve. A
//! failed step is reported to the parent through a close-on-exec pipe (stage and errno) and the
//! child exits before the command ever runs.
//!
//! # References
//! * fork(2), pipe2(2), execve(2), waitpid(2); runc libcontainer/standard_init_linux.go

use crate::process::{self, CapSets};
use crate::seccomp::{install_prepared, InstallFlags, Prepared};
use confine_bpf::Insn;
use std::ffi::{CStr, CString};
use std::io;

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

fn fail(fd: i32, stage: Stage, errno: i32) -> ! {
    let mut msg = [0u8; 5];
    msg[0] = stage as u8;
    msg[1..].copy_from_slice(&errno.to_ne_bytes());
    // SAFETY: write(2) and _exit(2) on a pipe fd we own, from the child; both are
    // async-signal-safe.
    unsafe {
        libc::write(fd, msg.as_ptr().cast(), msg.len());
        libc::_exit(125);
    }
}

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Fork, confine the child, execute `path` with `argv` and `envp`, wait, and report.
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
    let seccomp = c.seccomp.as_ref().map(|(p, f)| (Prepared::new(p), *f));
    let aa_paths = [
        c"/proc/thread-self/attr/apparmor/exec",
        c"/proc/thread-self/attr/exec",
    ];
    let aa_value = c
        .apparmor_exec
        .as_ref()
        .map(|n| format!("exec {n}").into_bytes());
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two fds into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let (rd, wr) = (fds[0], fds[1]);
    // SAFETY: confine is single-threaded when it forks (no thread is ever started before
    // `spawn`), so the child may run the code below; it only uses memory prepared above.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: closing our copy of the read end.
        unsafe { libc::close(rd) };
        if let Some(v) = &aa_value {
            let mut done = false;
            for p in aa_paths {
                // SAFETY: open/write/close on a NUL-terminated path and a byte buffer.
                let fd = unsafe { libc::open(p.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
                if fd >= 0 {
                    let n = unsafe { libc::write(fd, v.as_ptr().cast(), v.len()) };
                    let e = errno();
                    unsafe { libc::close(fd) };
                    if n != v.len() as isize {
                        fail(wr, Stage::AppArmor, e);
                    }
                    done = true;
                    break;
                }
            }
            if !done {
                fail(wr, Stage::AppArmor, errno());
            }
        }
        if let (Some((prog, flags)), false) = (&seccomp, c.no_new_privs) {
            if let Err(e) = install_prepared(prog, *flags) {
                fail(wr, Stage::Seccomp, install_errno(&e));
            }
        }
        for cap in 0..=c.last_cap.min(63) {
            if c.bounding & (1 << cap) == 0
                && process::bounding_has(cap).unwrap_or(false)
                && process::bounding_drop(cap).is_err()
            {
                fail(wr, Stage::Bounding, errno());
            }
        }
        if process::ambient_clear().is_err() {
            fail(wr, Stage::Ambient, errno());
        }
        if let Some((groups, gid, uid)) = &c.ids {
            if process::set_groups(groups).is_err()
                || process::set_resgid(*gid).is_err()
                || process::set_resuid(*uid).is_err()
            {
                fail(wr, Stage::Ids, errno());
            }
        }
        if process::capset(c.caps).is_err() {
            fail(wr, Stage::Caps, errno());
        }
        if c.no_new_privs {
            if crate::seccomp::set_no_new_privs().is_err() {
                fail(wr, Stage::NoNewPrivs, errno());
            }
            if let Some((prog, flags)) = &seccomp {
                if let Err(e) = install_prepared(prog, *flags) {
                    fail(wr, Stage::Seccomp, install_errno(&e));
                }
            }
        }
        if let Some(dir) = &c.workdir {
            // SAFETY: chdir on a NUL-terminated path.
            if unsafe { libc::chdir(dir.as_ptr()) } != 0 {
                fail(wr, Stage::Workdir, errno());
            }
        }
        // SAFETY: execve with NUL-terminated arrays of NUL-terminated strings, all alive.
        unsafe { libc::execve(path.as_ptr(), argv_p.as_ptr(), envp_p.as_ptr()) };
        fail(wr, Stage::Exec, errno());
    }
    forward_signals(pid);
    // SAFETY: closing our copy of the write end, reading the child's report.
    unsafe { libc::close(wr) };
    let mut msg = [0u8; 5];
    let mut got = 0usize;
    while got < msg.len() {
        let n = unsafe { libc::read(rd, msg[got..].as_mut_ptr().cast(), msg.len() - got) };
        if n > 0 {
            got += n as usize;
        } else if n == 0 || errno() != libc::EINTR {
            break;
        }
    }
    unsafe { libc::close(rd) };
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
    if got == msg.len() {
        let stage = Stage::from_u8(msg[0]).unwrap_or(Stage::Exec);
        let e = i32::from_ne_bytes([msg[1], msg[2], msg[3], msg[4]]);
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
        // handler only reads an atomic and calls kill(2).
        unsafe {
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
