//! Seccomp user notification, the supervisor's side, and the descriptors it needs to reach a
//! recorded process: `pidfd_open`, `pidfd_getfd`, `process_vm_readv`.
//!
//! How a recording starts (the command's side is in `spawn`): just before it installs the
//! recording filter, the command's process opens a pidfd of itself, sends it (and its
//! number) over a socket to the recorder, closes it, and installs the filter with
//! `SECCOMP_FILTER_FLAG_NEW_LISTENER`. The kernel gives the listener the lowest free
//! descriptor, which is the pidfd's number that was just freed: the recorder knows which
//! descriptor to take with `pidfd_getfd` before it exists. From the filter on, every call of
//! the process waits for the recorder, which cannot be deadlocked by the hand-over itself: the
//! process makes no call between the install and its next, notified one that needs an answer
//! before the recorder holds the listener ([`take_listener`] waits for it to appear).
//!
//! # References
//! * seccomp_unotify(2); include/uapi/linux/seccomp.h (`struct seccomp_notif`,
//!   `SECCOMP_IOCTL_NOTIF_*`, `SECCOMP_USER_NOTIF_FLAG_CONTINUE`,
//!   `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, Linux 6.6)
//! * pidfd_open(2), pidfd_getfd(2), process_vm_readv(2), unix(7) (`SCM_RIGHTS`)

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// The program every recorded call goes through: `ret SECCOMP_RET_USER_NOTIF`.
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;

// (`libc::Ioctl` is the request's C type: unsigned long on glibc, int on musl, where the
// numbers keep their bits)
const IOC_RECV: libc::Ioctl = 0xc050_2100_u32 as libc::Ioctl; // _IOWR('!', 0, struct seccomp_notif), 80 bytes
const IOC_SEND: libc::Ioctl = 0xc018_2101_u32 as libc::Ioctl; // _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes
const IOC_ID_VALID: libc::Ioctl = 0x4008_2102; // _IOW('!', 2, __u64)
const IOC_SET_FLAGS: libc::Ioctl = 0x4008_2104; // _IOW('!', 4, __u64)
const FLAG_CONTINUE: u32 = 1;
const FD_SYNC_WAKE_UP: u64 = 1;

/// `struct seccomp_notif` (with `struct seccomp_data` inlined).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct RawNotif {
    id: u64,
    pid: u32,
    flags: u32,
    nr: i32,
    arch: u32,
    ip: u64,
    args: [u64; 6],
}

/// `struct seccomp_notif_resp`.
#[repr(C)]
struct RawResp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

/// One call that waits for the supervisor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Notification {
    /// The notification's cookie (for the answer and [`Listener::id_valid`]).
    pub id: u64,
    /// The calling thread's id, in the supervisor's pid namespace.
    pub tid: u32,
    /// `seccomp_data.nr` (x32 numbers carry the x32 bit).
    pub nr: i32,
    /// `seccomp_data.arch` (an `AUDIT_ARCH_*` value).
    pub arch: u32,
    /// The instruction pointer at the call.
    pub ip: u64,
    /// The six argument registers, as seccomp sees them (64 bits each).
    pub args: [u64; 6],
}

/// A seccomp user-notification descriptor.
#[derive(Debug)]
pub struct Listener {
    fd: OwnedFd,
}

/// `ioctl(fd, request, arg)`, 0 or the error.
///
/// # Safety
///
/// `arg` must point at memory valid for what `request` reads and writes (its size is encoded
/// in the request number).
unsafe fn ioctl_ptr<T>(fd: RawFd, request: libc::Ioctl, arg: *mut T) -> io::Result<()> {
    // SAFETY: the caller vouches for `arg`; the descriptor is a number.
    let r = unsafe { libc::ioctl(fd, request, arg) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Listener {
    /// Wrap a descriptor that must be a seccomp notification descriptor (checked through
    /// /proc/self/fd: `anon_inode:seccomp notify`).
    pub fn new(fd: OwnedFd) -> io::Result<Listener> {
        let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))?;
        if link.as_os_str() != "anon_inode:seccomp notify" {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a seccomp listener", link.display()),
            ));
        }
        Ok(Listener { fd })
    }

    /// Ask the kernel to wake the notifying thread on the supervisor's CPU
    /// (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, Linux 6.6): a round trip costs about a quarter.
    pub fn set_sync_wake_up(&self) -> io::Result<()> {
        // SAFETY: SET_FLAGS takes the flags as the ioctl's argument itself, by value.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), IOC_SET_FLAGS, FD_SYNC_WAKE_UP) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Wait for the next notification. `ENOENT`: the caller died before it could be read;
    /// `EINTR`: a signal came first (see [`interrupt_every`]: a wait here does not end when
    /// the last process using the filter does, only a poll sees that).
    pub fn recv(&self) -> io::Result<Notification> {
        let mut n = RawNotif::default();
        // SAFETY: RECV writes a `struct seccomp_notif` (80 bytes) into `n`, which is zeroed as
        // the kernel requires.
        unsafe { ioctl_ptr(self.fd.as_raw_fd(), IOC_RECV, &mut n) }?;
        Ok(Notification {
            id: n.id,
            tid: n.pid,
            nr: n.nr,
            arch: n.arch,
            ip: n.ip,
            args: n.args,
        })
    }

    /// Let the call go on as if no filter had stopped it. `ENOENT`: the caller is gone (or
    /// was interrupted by a signal), which is no error for a recorder.
    pub fn allow(&self, id: u64) -> io::Result<()> {
        let mut r = RawResp {
            id,
            val: 0,
            error: 0,
            flags: FLAG_CONTINUE,
        };
        loop {
            // SAFETY: SEND reads a `struct seccomp_notif_resp` (24 bytes) from `r`.
            match unsafe { ioctl_ptr(self.fd.as_raw_fd(), IOC_SEND, &mut r) } {
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                other => return other,
            }
        }
    }

    /// Whether notification `id` is still pending: memory read from the caller before this
    /// returned true belongs to that caller, not to a process that reused its pid.
    pub fn id_valid(&self, id: u64) -> bool {
        let mut id = id;
        // SAFETY: ID_VALID reads one u64 we own.
        unsafe { ioctl_ptr(self.fd.as_raw_fd(), IOC_ID_VALID, &mut id) }.is_ok()
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

extern "C" fn interrupted(_: libc::c_int) {}

/// Make SIGALRM interrupt blocking calls (handled by an empty handler, without SA_RESTART),
/// so that a thread blocked in [`Listener::recv`] returns EINTR when it comes.
pub fn alarm_interrupts() -> io::Result<()> {
    // SAFETY: a zeroed sigaction with an empty handler (async-signal-safe: it does nothing),
    // no SA_RESTART.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = interrupted as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Interrupt the calling process's blocking calls every `ms` milliseconds with SIGALRM
/// (see [`alarm_interrupts`]): a recorder blocked in [`Listener::recv`] wakes to look
/// whether the recorded processes are gone, without a poll before every notification.
pub fn interrupt_every(ms: u32) -> io::Result<()> {
    alarm_interrupts()?;
    let t = libc::timeval {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_usec: ((ms % 1000) * 1000) as libc::suseconds_t,
    };
    let it = libc::itimerval {
        it_interval: t,
        it_value: t,
    };
    // SAFETY: setitimer reads a struct we own.
    if unsafe { libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The calling thread's id.
pub fn gettid() -> i32 {
    // SAFETY: gettid cannot fail and reads no memory.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// Send SIGALRM to thread `tid` of this process (see [`alarm_interrupts`]); a thread of
/// another process is never reached (tgkill with this process's id).
pub fn interrupt_thread(tid: i32) -> io::Result<()> {
    // SAFETY: tgkill takes plain integers.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, libc::SIGALRM) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `pidfd_open(pid, 0)`.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments; on success the kernel returns a new descriptor we own.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// `pidfd_getfd(pidfd, fd, 0)`: a copy of another process's descriptor (needs ptrace access
/// to it).
pub fn pidfd_getfd(pidfd: BorrowedFd<'_>, fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments; on success a new descriptor (close-on-exec) we own.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// SIGKILL to the process behind `pidfd` (`pidfd_send_signal`).
pub fn pidfd_kill(pidfd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: integer arguments and a null siginfo.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Whether the process behind `pidfd` has ended (the pidfd polls readable).
pub fn pidfd_exited(pidfd: BorrowedFd<'_>) -> bool {
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll on one pollfd we own, without waiting.
    unsafe { libc::poll(&mut p, 1, 0) > 0 }
}

/// Wait up to `ms` milliseconds for `fd` to be readable or hung up: its `revents`, None on
/// timeout (EINTR counts as a timeout).
pub fn poll_one(fd: RawFd, ms: i32) -> io::Result<Option<i16>> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll on one pollfd we own.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::EINTR) {
            Ok(None)
        } else {
            Err(e)
        };
    }
    Ok((r > 0).then_some(p.revents))
}

/// Take process `pidfd`'s descriptor `fd` once it is its seccomp listener: retried (every
/// 20 µs, then more slowly) until it is, the process has ended, or `timeout` passed.
pub fn take_listener(pidfd: BorrowedFd<'_>, fd: RawFd, timeout: Duration) -> io::Result<Listener> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(20);
    loop {
        match pidfd_getfd(pidfd, fd) {
            Ok(got) => {
                if let Ok(l) = Listener::new(got) {
                    return Ok(l);
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => {}
            Err(e) => return Err(e),
        }
        if pidfd_exited(pidfd) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the process ended before its filter was installed",
            ));
        }
        if start.elapsed() > timeout {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the process did not install its filter in time",
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(2));
    }
}

/// Read up to `buf.len()` bytes at `addr` in process `pid`'s memory (`process_vm_readv`);
/// the count read, which is short at the end of a mapping.
pub fn read_memory(pid: libc::pid_t, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: the local iovec covers `buf`, which we own mutably; the remote one is only an
    // address in the other process, checked by the kernel.
    let r = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

/// A socket's domain, type and protocol (`SO_DOMAIN`, `SO_TYPE`, `SO_PROTOCOL`), read from a
/// copy of process `pid`'s descriptor `fd` (needs ptrace access, as [`pidfd_getfd`]).
pub fn socket_kind(pid: libc::pid_t, fd: RawFd) -> io::Result<(i32, i32, i32)> {
    let pidfd = pidfd_open(pid)?;
    let sock = pidfd_getfd(pidfd.as_fd(), fd)?;
    let get = |opt: libc::c_int| -> io::Result<i32> {
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes one int into `v` (its size in `len`), both ours.
        let r = unsafe {
            libc::getsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&mut v as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if r == 0 {
            Ok(v)
        } else {
            Err(io::Error::last_os_error())
        }
    };
    Ok((
        get(libc::SO_DOMAIN)?,
        get(libc::SO_TYPE)?,
        get(libc::SO_PROTOCOL)?,
    ))
}

/// A connected pair of `SOCK_SEQPACKET` Unix sockets, close-on-exec.
pub fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut sv = [0; 2];
    // SAFETY: socketpair writes two descriptors into `sv`.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            sv.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(sv[0]), OwnedFd::from_raw_fd(sv[1])) })
}

/// Receive one descriptor and a 4-byte number sent by [`send_fd`] (None at end of file).
pub fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<Option<(OwnedFd, i32)>> {
    let mut data = [0u8; 4];
    let mut m = crate::unix::recv_with_fds(sock, &mut data)?;
    if m.len == 0 && m.fds.is_empty() {
        return Ok(None);
    }
    if m.fds.len() != 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a message with {} descriptors, not one", m.fds.len()),
        ));
    }
    if m.len != data.len() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "short message"));
    }
    Ok(Some((m.fds.remove(0), i32::from_ne_bytes(data))))
}

/// Send descriptor `fd` and the number `value` over `sock` (one message). Allocates nothing:
/// it runs in the command's process before execve.
pub fn send_fd(sock: RawFd, fd: RawFd, value: i32) -> io::Result<()> {
    let data = value.to_ne_bytes();
    let mut space = [0u64; 4];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; zeroed, then pointed at buffers we own. CMSG_SPACE and
    // CMSG_LEN compute sizes; the header written lies inside `space` (32 bytes, enough for
    // one header and one int on every architecture).
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(4) as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(4) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<i32>(), fd);
        loop {
            if libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) == data.len() as isize {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes_match_the_ioctl_numbers() {
        assert_eq!(std::mem::size_of::<RawNotif>(), 80);
        assert_eq!(std::mem::size_of::<RawResp>(), 24);
        assert_eq!((IOC_RECV as u32 >> 16) & 0x3fff, 80);
        assert_eq!((IOC_SEND as u32 >> 16) & 0x3fff, 24);
    }

    #[test]
    fn a_descriptor_travels_with_its_number() {
        let (a, b) = socket_pair().unwrap();
        let me = pidfd_open(std::process::id() as i32).unwrap();
        send_fd(a.as_raw_fd(), me.as_raw_fd(), 1234).unwrap();
        let (got, n) = recv_fd(b.as_fd()).unwrap().unwrap();
        assert_eq!(n, 1234);
        let link = std::fs::read_link(format!("/proc/self/fd/{}", got.as_raw_fd())).unwrap();
        assert_eq!(link.to_str(), Some("anon_inode:[pidfd]"));
        assert!(!pidfd_exited(got.as_fd()));
        drop(a);
        assert!(recv_fd(b.as_fd()).unwrap().is_none());
    }

    #[test]
    fn a_descriptor_that_is_no_listener_is_refused() {
        let f = std::fs::File::open("/dev/null").unwrap();
        let e = Listener::new(OwnedFd::from(f)).unwrap_err();
        assert!(e.to_string().contains("not a seccomp listener"), "{e}");
    }

    #[test]
    fn an_alarm_sent_to_a_thread_interrupts_its_blocking_call() {
        alarm_interrupts().unwrap();
        let (a, b) = socket_pair().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            tx.send(gettid()).unwrap();
            // blocks until interrupted (EINTR is a timeout: None): nothing is sent on `a`
            poll_one(b.as_raw_fd(), -1).unwrap()
        });
        let tid = rx.recv().unwrap();
        // until it is blocked: resend until it returns
        let start = Instant::now();
        while !t.is_finished() {
            interrupt_thread(tid).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            assert!(start.elapsed() < Duration::from_secs(10));
        }
        assert_eq!(t.join().unwrap(), None);
        drop(a);
    }

    #[test]
    fn own_memory_reads_back() {
        let text = b"recorded path\0";
        let mut buf = [0u8; 14];
        let n = read_memory(std::process::id() as i32, text.as_ptr() as u64, &mut buf).unwrap();
        assert_eq!(&buf[..n], text);
    }
}
