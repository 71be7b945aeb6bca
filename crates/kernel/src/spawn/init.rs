//! The first process of a new pid and mount namespace: sets the namespace up, starts the
//! command as its only child, then does what `docker run --init` does — passes signals on,
//! reaps every orphan — and reports the command's end to confine outside.
//!
//! It is forked (a copy of confine, not sharing its memory) with CLONE_NEWPID | CLONE_NEWNS;
//! it dies with confine (PR_SET_PDEATHSIG), and when it dies the kernel kills everything in
//! the namespace, so the command cannot outlive confine. It is not dumpable, holds no terminal
//! (its own session, standard descriptors on /dev/null once the command runs), and the
//! command's Landlock domain, when there is one, does not include it: the command cannot
//! trace or signal it. Messages to confine go over a pipe as three native-endian u32 words.
//!
//! # References
//! * pid_namespaces(7) (init's signal semantics, namespace teardown), mount_namespaces(7)
//! * sigwaitinfo(2), prctl(2) (PR_SET_PDEATHSIG, PR_SET_DUMPABLE)

use super::child::{errno, launch, reset_signals, ChildArgs};
use super::Stage;
use crate::mounts;
use std::ffi::CString;
use std::io;

/// What the init sets up in the new mount namespace.
#[derive(Clone, Debug, Default)]
pub struct Namespace {
    /// A new pid namespace (and a fresh /proc for it); otherwise only a mount namespace.
    pub pid: bool,
    /// Paths hidden as runc's `maskedPaths`.
    pub masked: Vec<CString>,
    /// Paths made read-only as runc's `readonlyPaths`.
    pub readonly: Vec<CString>,
    /// /sys and every mount under it read-only.
    pub sys_readonly: bool,
    /// A new user namespace too (unprivileged use), mapping this uid and gid to themselves:
    /// the init then holds capabilities in it only, enough for the mounts.
    pub user: Option<(u32, u32)>,
}

pub(super) const MSG_STARTED: u32 = 1;
pub(super) const MSG_FAILED: u32 = 2;
pub(super) const MSG_EXITED: u32 = 3;

fn send(fd: i32, msg: [u32; 3]) {
    // SAFETY: writes 12 bytes from a local array; a pipe write this small is atomic.
    unsafe { libc::write(fd, msg.as_ptr().cast(), 12) };
}

/// Read one message; None at end of file (the init is gone).
pub(super) fn receive(fd: i32) -> io::Result<Option<[u32; 3]>> {
    let mut m = [0u32; 3];
    loop {
        // SAFETY: reads at most 12 bytes into a local array.
        let n = unsafe { libc::read(fd, m.as_mut_ptr().cast(), 12) };
        match n {
            12 => return Ok(Some(m)),
            0 => return Ok(None),
            n if n < 0 && errno() == libc::EINTR => continue,
            n if n < 0 => return Err(io::Error::last_os_error()),
            _ => return Err(io::Error::from_raw_os_error(libc::EPROTO)),
        }
    }
}

fn set_up(ns: &Namespace) -> Result<(), (Stage, io::Error)> {
    let step = |r: io::Result<()>| r.map_err(|e| (Stage::Namespace, e));
    if let Some((uid, gid)) = ns.user {
        // an unprivileged process may map only its own ids, and a gid only once setgroups(2)
        // is refused in the namespace (user_namespaces(7))
        match std::fs::write("/proc/self/setgroups", "deny") {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err((Stage::Namespace, e)),
            _ => {}
        }
        step(std::fs::write(
            "/proc/self/uid_map",
            format!("{uid} {uid} 1\n"),
        ))?;
        step(std::fs::write(
            "/proc/self/gid_map",
            format!("{gid} {gid} 1\n"),
        ))?;
    }
    step(mounts::make_private())?;
    if ns.pid {
        step(mounts::mount_proc())?;
    }
    for p in &ns.masked {
        step(mounts::mask_path(p))?;
    }
    for p in &ns.readonly {
        step(mounts::readonly_path(p))?;
    }
    if ns.sys_readonly {
        step(mounts::readonly_path(c"/sys"))?;
    }
    Ok(())
}

/// The init's life; never returns. `status` is the write end of the message pipe, `life` the
/// read end of a pipe whose write end only confine holds (end of file: confine is gone).
pub(super) fn init_main(ns: &Namespace, args: &ChildArgs, status: i32, life: i32) -> ! {
    // SAFETY (the block): prctl, poll, setsid on integers and a local pollfd.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        let mut p = libc::pollfd {
            fd: life,
            events: libc::POLLIN,
            revents: 0,
        };
        if libc::poll(&mut p, 1, 0) != 0 {
            // confine died before the parent-death signal was armed
            libc::_exit(125);
        }
        libc::setsid();
    }
    // Every signal default and blocked: the init takes them with sigwaitinfo. Blocked signals
    // from confine reach a namespace init even without a handler.
    reset_signals(true);
    if let Err((stage, e)) = set_up(ns) {
        send(
            status,
            [
                MSG_FAILED,
                stage as u32,
                e.raw_os_error().unwrap_or(0) as u32,
            ],
        );
        // SAFETY: ends the init.
        unsafe { libc::_exit(125) };
    }
    // Not dumpable from here on (before, /proc/self/uid_map must stay the caller's to write):
    // its /proc files become root's and ptrace needs CAP_SYS_PTRACE over it.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // The working directory, reached again through the new mounts: one under the old /proc or
    // /sys would keep the host's mounts within the command's reach. When it is gone, `/`.
    match std::env::current_dir() {
        Ok(d) if std::env::set_current_dir(&d).is_ok() => {}
        _ => {
            let _ = std::env::set_current_dir("/");
        }
    }
    // Without a pid namespace the init's death does not end the command: it gets its own
    // parent-death signal.
    if !ns.pid {
        // SAFETY: getpid takes no argument.
        args.parent.store(
            unsafe { libc::getpid() },
            std::sync::atomic::Ordering::SeqCst,
        );
    }
    let child = match launch(args) {
        Ok(pid) => pid,
        Err((stage, e)) => {
            send(
                status,
                [
                    MSG_FAILED,
                    stage as u32,
                    e.raw_os_error().unwrap_or(0) as u32,
                ],
            );
            // SAFETY: ends the init.
            unsafe { libc::_exit(125) };
        }
    };
    send(status, [MSG_STARTED, child as u32, 0]);
    // The init keeps nothing of the caller's: no terminal, no pipe end of the command's.
    // SAFETY: open, dup2, close on integers and a NUL-terminated path.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        for fd in 0..3 {
            if null >= 0 {
                libc::dup2(null, fd);
            }
        }
        for &fd in &args.stdio {
            if fd > 2 {
                libc::close(fd);
            }
        }
        if null > 2 {
            libc::close(null);
        }
    }
    supervise(child, status)
}

fn supervise(child: libc::pid_t, status: i32) -> ! {
    // SAFETY (the loop): a full signal set built locally; sigwaitinfo writes a siginfo we own;
    // kill and waitpid on our own children.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        loop {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let sig = libc::sigwaitinfo(&all, &mut info);
            if sig < 0 {
                continue;
            }
            if sig != libc::SIGCHLD {
                if sig != libc::SIGPIPE && sig != libc::SIGURG {
                    libc::kill(child, sig);
                }
                continue;
            }
            loop {
                let mut st = 0;
                let pid = libc::waitpid(-1, &mut st, libc::WNOHANG);
                if pid <= 0 {
                    break;
                }
                if pid == child {
                    send(status, [MSG_EXITED, st as u32, 0]);
                    libc::_exit(0);
                }
            }
        }
    }
}
