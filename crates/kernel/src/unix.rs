//! Unix-socket and signal pieces the seccomp agent needs: a message with its descriptors
//! (`SCM_RIGHTS`), the peer's credentials (`SO_PEERCRED`), and termination signals read from
//! a descriptor (`signalfd`) so that one poll waits for connections and signals alike.
//!
//! # References
//! * unix(7) (SCM_RIGHTS, SO_PEERCRED), cmsg(3), recvmsg(2), signalfd(2), pthread_sigmask(3)

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The most descriptors one message may bring; more are closed and reported as truncation.
pub const MAX_FDS: usize = 16;

/// One received message.
#[derive(Debug)]
pub struct Message {
    /// Bytes of data received (0: the peer closed the connection).
    pub len: usize,
    /// The descriptors that came with it, close-on-exec, in the sender's order.
    pub fds: Vec<OwnedFd>,
    /// The kernel dropped descriptors or data that did not fit (MSG_CTRUNC or MSG_TRUNC).
    pub truncated: bool,
}

/// Receive one message of at most `buf.len()` bytes and up to [`MAX_FDS`] descriptors from a
/// connected stream socket. EINTR is retried.
pub fn recv_with_fds(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Message> {
    // room for MAX_FDS descriptors in one SCM_RIGHTS header, aligned as cmsghdr requires
    let mut space = [0u64; 2 + MAX_FDS / 2 + 2];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; zeroed, then pointed at buffers we own.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&space) as _;
    let n = loop {
        // SAFETY: recvmsg writes into the buffers `msg` points at, all alive and ours.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR walk the control buffer we own, as filled in by
    // recvmsg (msg_controllen was updated to what it wrote); every header they return lies
    // inside `space`. Each SCM_RIGHTS int is a descriptor the kernel installed for us, which
    // we take ownership of exactly once.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg);
                let bytes = (*cmsg).cmsg_len as usize - (data as usize - cmsg as usize);
                for i in 0..bytes / std::mem::size_of::<i32>() {
                    let fd = std::ptr::read_unaligned(data.cast::<i32>().add(i));
                    fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(Message {
        len: n,
        fds,
        truncated: msg.msg_flags & (libc::MSG_CTRUNC | libc::MSG_TRUNC) != 0,
    })
}

/// Send `data` with up to [`MAX_FDS`] descriptors in one message (as an OCI runtime hands its
/// state and listener to an agent). Returns the bytes sent.
pub fn send_with_fds(sock: BorrowedFd<'_>, data: &[u8], fds: &[RawFd]) -> io::Result<usize> {
    if fds.len() > MAX_FDS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many descriptors for one message",
        ));
    }
    let mut space = [0u64; 2 + MAX_FDS / 2 + 2];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; zeroed, then pointed at buffers we own. The one
    // SCM_RIGHTS header (CMSG_SPACE of at most MAX_FDS ints, 80 bytes) lies inside `space`
    // (96 bytes); sendmsg only reads.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if !fds.is_empty() {
            let bytes = std::mem::size_of_val(fds) as u32;
            msg.msg_control = space.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(bytes) as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(bytes) as _;
            for (i, fd) in fds.iter().enumerate() {
                std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<i32>().add(i), *fd);
            }
        }
        loop {
            let n = libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL);
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
    }
}

/// The process, user and group at the other end of a connected Unix socket, as they were when
/// it connected.
pub fn peer_cred(sock: BorrowedFd<'_>) -> io::Result<(i32, u32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, which we own.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((cred.pid, cred.uid, cred.gid))
}

/// Wait up to `ms` milliseconds for any of `fds` to be readable or hung up: each one's
/// `revents` (all 0 on timeout; EINTR counts as a timeout).
pub fn poll_fds(fds: &[RawFd], ms: i32) -> io::Result<Vec<i16>> {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: poll reads and writes `p.len()` pollfd structs in the vector we own.
    let r = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
        return Ok(vec![0; fds.len()]);
    }
    Ok(p.iter().map(|p| p.revents).collect())
}

/// Bind and listen on a Unix socket at `path` created with mode 0600 (the umask is 0177 for
/// the bind alone), so that it is never wider, and nothing is changed through a path an
/// attacker could swap afterwards. The umask is process-wide: call it before starting any
/// thread that creates files.
pub fn bind_private(path: &std::path::Path) -> io::Result<std::os::unix::net::UnixListener> {
    // SAFETY: umask only sets the process's file mode mask and returns the old one.
    let old = unsafe { libc::umask(0o177) };
    let l = std::os::unix::net::UnixListener::bind(path);
    // SAFETY: as above, restoring it.
    unsafe { libc::umask(old) };
    l
}

/// Raise the soft limit of open descriptors to the hard one; the new soft limit.
pub fn raise_nofile() -> io::Result<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if r.rlim_cur < r.rlim_max {
        let want = libc::rlimit {
            rlim_cur: r.rlim_max,
            rlim_max: r.rlim_max,
        };
        // SAFETY: setrlimit reads one rlimit we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } != 0 {
            return Err(io::Error::last_os_error());
        }
        r.rlim_cur = r.rlim_max;
    }
    Ok(r.rlim_cur)
}

/// Whether two of this process's descriptors are the same open file (kcmp KCMP_FILE): two
/// numbers for one seccomp listener, say, which `fstat` cannot tell (every listener is the
/// same anonymous inode).
pub fn same_file(a: RawFd, b: RawFd) -> io::Result<bool> {
    // KCMP_FILE (include/uapi/linux/kcmp.h)
    const KCMP_FILE: libc::c_long = 0;
    // SAFETY: kcmp compares two descriptors of this process; it reads no memory of ours.
    let r = unsafe {
        let me = libc::getpid() as libc::c_long;
        libc::syscall(
            libc::SYS_kcmp,
            me,
            me,
            KCMP_FILE,
            a as libc::c_long,
            b as libc::c_long,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r == 0)
}

fn sigset(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set we own; sigaddset with a valid signal number
    // writes within it (an invalid number is refused with EINVAL, leaving it unchanged).
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Block `signals` in the calling thread (threads it starts later inherit the mask) and
/// return a descriptor they can be read from instead ([`read_signal`]). Call it before
/// starting any thread, so that no thread takes them the default way.
pub fn signals_to_fd(signals: &[i32]) -> io::Result<OwnedFd> {
    let set = sigset(signals);
    // SAFETY: pthread_sigmask reads the set we own and writes no old set.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    // SAFETY: signalfd reads the set we own and returns a new descriptor or -1.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The next pending signal on a descriptor from [`signals_to_fd`], None when there is none.
pub fn read_signal(fd: RawFd) -> io::Result<Option<i32>> {
    // SAFETY: signalfd_siginfo is plain data; read writes at most its size into it.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: as above: the buffer is ours and `size` long.
    let n = unsafe { libc::read(fd, (&mut info as *mut libc::signalfd_siginfo).cast(), size) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN | libc::EINTR) => Ok(None),
            _ => Err(e),
        };
    }
    Ok((n as usize == size).then_some(info.ssi_signo as i32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{pidfd_open, socket_pair};
    use std::os::fd::AsFd;

    #[test]
    fn a_message_brings_its_descriptors_in_order() {
        let (a, b) = socket_pair().unwrap();
        let me = pidfd_open(std::process::id() as i32).unwrap();
        let null = std::fs::File::open("/dev/null").unwrap();
        send_with_fds(a.as_fd(), b"{\"x\":1}", &[null.as_raw_fd(), me.as_raw_fd()]).unwrap();
        let mut buf = [0u8; 64];
        let m = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..m.len], b"{\"x\":1}");
        assert!(!m.truncated);
        assert_eq!(m.fds.len(), 2);
        let link = |fd: &OwnedFd| std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        assert_eq!(link(&m.fds[0]).unwrap().to_str(), Some("/dev/null"));
        assert_eq!(
            link(&m.fds[1]).unwrap().to_str(),
            Some("anon_inode:[pidfd]")
        );
        // a message without descriptors, then the end
        send_with_fds(a.as_fd(), b"ab", &[]).unwrap();
        let m = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!((m.len, m.fds.len()), (2, 0));
        drop(a);
        assert_eq!(recv_with_fds(b.as_fd(), &mut buf).unwrap().len, 0);
    }

    #[test]
    fn one_open_file_under_two_numbers_is_the_same() {
        let f = std::fs::File::open("/dev/null").unwrap();
        let g = f.try_clone().unwrap();
        let h = std::fs::File::open("/dev/null").unwrap();
        assert!(same_file(f.as_raw_fd(), g.as_raw_fd()).unwrap());
        assert!(!same_file(f.as_raw_fd(), h.as_raw_fd()).unwrap());
    }

    #[test]
    fn a_private_socket_is_0600_and_the_limit_rises() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("confine-unix-test-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let p = dir.join("s");
        let l = bind_private(&p).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        drop(l);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(mode, 0o600);
        let n = raise_nofile().unwrap();
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit we own.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
        assert_eq!((n, r.rlim_cur), (r.rlim_max, r.rlim_max));
    }

    #[test]
    fn the_peer_is_this_process() {
        let (a, _b) = socket_pair().unwrap();
        let (pid, uid, gid) = peer_cred(a.as_fd()).unwrap();
        assert_eq!(pid, std::process::id() as i32);
        // SAFETY: getuid/getgid cannot fail.
        assert_eq!((uid, gid), unsafe { (libc::getuid(), libc::getgid()) });
    }

    #[test]
    fn a_blocked_signal_is_read_from_its_descriptor() {
        // in a thread of its own: the mask is per thread, and the test harness runs others
        std::thread::spawn(|| {
            let fd = signals_to_fd(&[libc::SIGUSR2]).unwrap();
            assert_eq!(read_signal(fd.as_raw_fd()).unwrap(), None);
            // SAFETY: tgkill to this very thread, whose SIGUSR2 is blocked.
            unsafe {
                libc::syscall(
                    libc::SYS_tgkill,
                    libc::getpid(),
                    libc::syscall(libc::SYS_gettid),
                    libc::SIGUSR2,
                )
            };
            assert_eq!(read_signal(fd.as_raw_fd()).unwrap(), Some(libc::SIGUSR2));
        })
        .join()
        .unwrap();
    }
}
