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

use super::child::{errno, launch, reset_signals};
use super::steps::ChildArgs;
use super::{SingleThreaded, Stage};
use crate::mounts;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;

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

pub(super) const MSG_PTY: u32 = 4;

/// The channel from the init to confine: a SOCK_SEQPACKET pair (messages keep their bounds,
/// a descriptor can travel with one, end of file when the init is gone), close-on-exec.
pub(super) fn channel() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut p = [0; 2];
    // SAFETY: socketpair writes two descriptors into the array, which we then own.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            p.as_mut_ptr(),
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) })
}

/// Room for one descriptor's control message, aligned for cmsghdr.
#[repr(C)]
union Control {
    buf: [u8; 64],
    _align: libc::cmsghdr,
}

fn send(fd: RawFd, msg: [u32; 3], pass: Option<RawFd>) {
    let mut iov = libc::iovec {
        iov_base: msg.as_ptr() as *mut libc::c_void,
        iov_len: 12,
    };
    let mut control = Control { buf: [0; 64] };
    // SAFETY: msghdr points at a local iovec and control buffer that outlive the call; the
    // CMSG macros stay within the buffer (CMSG_SPACE of one int is far below 64 bytes).
    unsafe {
        let mut m: libc::msghdr = std::mem::zeroed();
        m.msg_iov = &mut iov;
        m.msg_iovlen = 1;
        if let Some(pass) = pass {
            m.msg_control = control.buf.as_mut_ptr().cast();
            m.msg_controllen = libc::CMSG_SPACE(4) as _;
            let c = libc::CMSG_FIRSTHDR(&m);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), pass);
        }
        libc::sendmsg(fd, &m, libc::MSG_NOSIGNAL);
    }
}

/// Read one message and the descriptor that came with it; None at end of file (the init is
/// gone).
pub(super) fn receive(fd: RawFd) -> io::Result<Option<([u32; 3], Option<OwnedFd>)>> {
    let mut msg = [0u32; 3];
    loop {
        let mut iov = libc::iovec {
            iov_base: msg.as_mut_ptr().cast(),
            iov_len: 12,
        };
        let mut control = Control { buf: [0; 64] };
        // SAFETY: as in `send`; the kernel writes at most 12 bytes and the control buffer's
        // length, and a received descriptor becomes ours.
        unsafe {
            let mut m: libc::msghdr = std::mem::zeroed();
            m.msg_iov = &mut iov;
            m.msg_iovlen = 1;
            m.msg_control = control.buf.as_mut_ptr().cast();
            m.msg_controllen = std::mem::size_of::<Control>() as _;
            let n = libc::recvmsg(fd, &mut m, libc::MSG_CMSG_CLOEXEC);
            if n < 0 {
                if errno() == libc::EINTR {
                    continue;
                }
                return Err(io::Error::last_os_error());
            }
            if n == 0 {
                return Ok(None);
            }
            if n != 12 {
                return Err(io::Error::from_raw_os_error(libc::EPROTO));
            }
            let mut passed = None;
            let c = libc::CMSG_FIRSTHDR(&m);
            if !c.is_null()
                && (*c).cmsg_level == libc::SOL_SOCKET
                && (*c).cmsg_type == libc::SCM_RIGHTS
            {
                let f = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
                passed = Some(OwnedFd::from_raw_fd(f));
            }
            return Ok(Some((msg, passed)));
        }
    }
}

fn set_up(ns: &Namespace) -> Result<(), (Stage, io::Error)> {
    let step = |r: io::Result<()>| r.map_err(|e| (Stage::Namespace, e));
    step(super::fault::at_io(Stage::Namespace))?;
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
    // other mounts of the host's procfs, sysfs, devpts or control filesystems (a chroot's
    // /proc, say) would give back what the new mounts take away
    let kernel = mounts::kernel_mounts_elsewhere().map_err(|e| (Stage::Namespace, e))?;
    for m in &kernel {
        step(mounts::cover(&m.point))?;
    }
    // each of them is covered, or lies under a covered one: a path changed between reading
    // the table and mounting (a parent renamed, a symlink swapped in) would leave one open
    if !kernel.is_empty() {
        step(mounts::check_covered(&kernel))?;
    }
    if ns.pid {
        step(mounts::mount_proc())?;
    }
    step(mounts::mount_devpts())?;
    step(mounts::mask_paths(&ns.masked))?;
    for p in &ns.readonly {
        step(mounts::readonly_path(p))?;
    }
    if ns.sys_readonly {
        step(mounts::readonly_path(c"/sys"))?;
    }
    Ok(())
}

/// Close every open descriptor not in `keep` (listed from /proc/self/fd, which is still the
/// caller's procfs here).
pub(super) fn close_all_but(keep: &[RawFd]) {
    let open: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(d) => d
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => return,
    };
    for fd in open {
        if !keep.contains(&fd) {
            // SAFETY: closing a descriptor number of our own (the directory's own one is
            // already closed, or fails harmlessly with EBADF).
            unsafe { libc::close(fd) };
        }
    }
}

/// Whether the working directory, or any directory above it, is on a filesystem the new
/// mounts replace or hide (procfs, sysfs, devpts, cgroup, and the kernel's other control
/// filesystems): from a plain directory mounted inside one, `..` would lead back into it.
/// Walked upwards from the directory itself (`..`, `../..`, …) up to the root.
fn cwd_under_kernel_fs() -> bool {
    const KERNEL_FS: [u64; 12] = [
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x1cd1,      // devpts
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x7363_6673, // securityfs
        0xcafe_4a11, // bpf
        0x6265_6570, // configfs
        0xde5e_81e4, // efivarfs
        0x4249_4e4d, // binfmt_misc
    ];
    use std::os::unix::fs::MetadataExt;
    let root = match std::fs::metadata("/") {
        Ok(m) => (m.dev(), m.ino()),
        Err(_) => return true,
    };
    let mut dir = std::path::PathBuf::from(".");
    for _ in 0..256 {
        match crate::fs::filesystem_type(&dir) {
            Ok(t) if KERNEL_FS.contains(&t) => return true,
            Ok(_) => {}
            Err(_) => return true,
        }
        match std::fs::metadata(&dir) {
            Ok(m) if (m.dev(), m.ino()) == root => return false,
            Ok(_) => {}
            Err(_) => return true,
        }
        dir.push("..");
    }
    true
}

/// Report a failed step to confine and end the init (nothing of the command ran).
fn fail_init(status: RawFd, stage: Stage, e: &io::Error) -> ! {
    send(
        status,
        [
            MSG_FAILED,
            stage as u32,
            e.raw_os_error().unwrap_or(0) as u32,
        ],
        None,
    );
    // SAFETY: ends the init without running anything of confine's.
    unsafe { libc::_exit(125) }
}

/// The init's life; never returns. `status` is the write end of the message pipe, `life` the
/// read end of a pipe whose write end only confine holds (end of file: confine is gone).
pub(super) fn init_main(ns: &Namespace, args: &ChildArgs, status: i32, life: i32) -> ! {
    // SAFETY: prctl, poll, setsid on integers and a local pollfd.
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
    // The init holds only what it and the command need: not confine's ends of the relay
    // pipes (the command would never see the end of its input), nor the caller's other
    // descriptors.
    let mut keep: Vec<RawFd> = vec![0, 1, 2, status, life];
    keep.extend(args.stdio.iter().map(|f| f.load(Ordering::SeqCst)));
    keep.extend(args.c.landlock.as_ref().map(|r| r.as_raw_fd()));
    keep.extend((3..3 + args.c.keep_fds).map(|f| f as RawFd));
    keep.extend(args.c.record_to);
    keep.extend(args.c.join_cgroup);
    close_all_but(&keep);
    // looked at before the new mounts: `..` from the directory still walks the old ones
    let reresolve_cwd = cwd_under_kernel_fs();
    if let Err((stage, e)) = set_up(ns) {
        fail_init(status, stage, &e);
    }
    // Not dumpable from here on (before, /proc/self/uid_map must stay the caller's to write):
    // its /proc files become root's and ptrace needs CAP_SYS_PTRACE over it.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // The working directory, reached again through the new mounts when it is on, or under, one
    // of the filesystems they replace: one under the old /proc or /sys would keep the host's
    // mounts within the command's reach. Only then: a path elsewhere could change meanwhile (a
    // symlink swapped in by another user). When it is gone, `/`.
    if reresolve_cwd {
        match std::env::current_dir() {
            Ok(d) if std::env::set_current_dir(&d).is_ok() => {}
            _ => {
                let _ = std::env::set_current_dir("/");
            }
        }
    }
    // The policy's ruleset, built again through the new mounts (see
    // `Confinement::landlock_rebuild`), replaces confine's at the same descriptor.
    if let (Some(spec), Some(outside)) = (&args.c.landlock_rebuild, &args.c.landlock) {
        // only an errno crosses to confine: the open's or the kernel's own
        let inside = crate::landlock::build(spec).map_err(|e| match e {
            crate::landlock::LandlockError::Open { source, .. }
            | crate::landlock::LandlockError::PathRule { source, .. } => source,
            _ => io::Error::from_raw_os_error(libc::EINVAL),
        });
        if let Err(e) = inside.and_then(|r| r.replace(outside)) {
            fail_init(status, Stage::Landlock, &e);
        }
    }
    // Without a pid namespace the init's death does not end the command: it gets its own
    // parent-death signal.
    if !ns.pid {
        // SAFETY: prctl with integer arguments: the command's orphans become the init's.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        // SAFETY: getpid takes no argument.
        args.parent.store(
            unsafe { libc::getpid() },
            std::sync::atomic::Ordering::SeqCst,
        );
    }
    // -t: the command's terminal comes from the new devpts instance (its name resolves
    // inside), and its master goes to confine
    let mut pty_slave = None;
    if args.controlling_tty && args.stdio[0].load(Ordering::SeqCst) < 0 {
        match crate::terminal::open_pty() {
            Ok((master, slave)) => {
                if let Some(ws) = &args.winsize {
                    // SAFETY: TIOCSWINSZ reads a winsize we own.
                    unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, ws) };
                }
                if let Some((_, gid, uid)) = &args.c.ids {
                    // the terminal belongs to the user the command runs as, as in docker run -t
                    // SAFETY: fchown on a descriptor of ours.
                    unsafe { libc::fchown(slave.as_raw_fd(), *uid, *gid) };
                }
                send(status, [MSG_PTY, 0, 0], Some(master.as_raw_fd()));
                for s in &args.stdio {
                    s.store(slave.as_raw_fd(), Ordering::SeqCst);
                }
                pty_slave = Some(slave);
            }
            Err(e) => {
                fail_init(status, Stage::Session, &e);
            }
        }
    }
    // SAFETY: the init is a fork of confine: it has one thread, and starts none.
    let one = unsafe { SingleThreaded::assume() };
    let child = match launch(args, &one) {
        Ok(pid) => pid,
        Err((stage, e)) => {
            fail_init(status, stage, &e);
        }
    };
    send(status, [MSG_STARTED, child as u32, 0], None);
    // The init keeps nothing of the caller's: no terminal, no pipe end of the command's.
    // SAFETY: open, dup2, close on integers and a NUL-terminated path.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        for fd in 0..3 {
            if null >= 0 {
                libc::dup2(null, fd);
            }
        }
        for fd in &args.stdio {
            let fd = fd.load(Ordering::SeqCst);
            if fd > 2 && pty_slave.as_ref().is_none_or(|s| s.as_raw_fd() != fd) {
                libc::close(fd);
            }
        }
        if null > 2 {
            libc::close(null);
        }
    }
    drop(pty_slave);
    supervise(child, status, args.c.wait_all)
}

fn supervise(child: libc::pid_t, status: i32, wait_all: bool) -> ! {
    // SAFETY: a full signal set built locally; sigwaitinfo writes a siginfo we own;
    // kill and waitpid on our own children.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        let mut main_status = None;
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
                if pid == child {
                    main_status = Some(st);
                }
                // with wait_all, the end comes when the last descendant has been reaped
                let last = pid < 0 && errno() == libc::ECHILD;
                if let (Some(st), true) = (main_status, !wait_all || last) {
                    // without a pid namespace, the command's orphans (the init is their
                    // subreaper) end with it, as they would with the namespace
                    super::kill_descendants();
                    send(status, [MSG_EXITED, st as u32, 0], None);
                    libc::_exit(0);
                }
                if pid <= 0 {
                    break;
                }
            }
        }
    }
}
