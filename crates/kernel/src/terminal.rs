//! The command's terminal: the caller's one is never handed over when it could be abused.
//!
//! * `Inherit`: the standard descriptors pass as they are (none is a terminal); the command
//!   runs in its own session either way.
//! * `Relay`: each standard descriptor that is a terminal is replaced by a pipe, and confine
//!   copies between the pipe and the terminal, as `docker run` without `-t` does: holding the
//!   caller's terminal, even without it being the controlling one, a command could change its
//!   line discipline (TIOCSETD), stop its output (TCOOFF), turn echo off, or with CAP_SYS_ADMIN
//!   push input into it (TIOCSTI). Standard input is /dev/null unless `-i`.
//! * `Pty`: a new pseudo-terminal (`docker run -t`) becomes the command's controlling terminal
//!   on 0, 1 and 2; confine copies its output to standard output and, with `interactive`
//!   (`-i`), standard input to it, with the caller's terminal in raw mode meanwhile.
//!
//! # References
//! * pty(7), ioctl_tty(2) (TIOCGPTPEER, TIOCSPTLCK, TIOCGWINSZ, TIOCSWINSZ), termios(3)
//!   (cfmakeraw), poll(2), pipe(2)

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// How the command's standard descriptors relate to the caller's terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Terminal {
    /// Pass them as they are (the command gets its own session).
    #[default]
    Inherit,
    /// Replace those that are terminals by pipes relayed by confine; standard input, when a
    /// terminal, is relayed only with `stdin` (`-i`), otherwise it is /dev/null (as `docker
    /// run` without `-i`).
    Relay {
        /// Relay standard input (`-i`).
        stdin: bool,
    },
    /// A new pseudo-terminal; `interactive` relays standard input to it.
    Pty {
        /// Relay standard input (`-i`).
        interactive: bool,
    },
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Whether `fd` is a terminal.
pub fn is_tty(fd: RawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut p = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array, which we then own.
    check(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) })
}

/// A new pseudo-terminal: the master, and its slave opened through the master (TIOCGPTPEER),
/// both close-on-exec, neither a controlling terminal of confine.
pub fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: open on a NUL-terminated path; the descriptor is then ours.
    let m = check(unsafe {
        libc::open(
            c"/dev/ptmx".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: a fresh descriptor.
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int we own, alive for the call.
    check(unsafe { libc::ioctl(m, libc::TIOCSPTLCK, &unlock) })?;
    // SAFETY: TIOCGPTPEER takes integer flags and returns a new descriptor.
    let s = check(unsafe {
        libc::ioctl(
            m,
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: a fresh descriptor.
    Ok((master, unsafe { OwnedFd::from_raw_fd(s) }))
}

/// The bytes waiting to be read on terminal `fd` (TIOCINQ): what a TIOCSTI would have left.
pub fn input_pending(fd: RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCINQ writes an int we own.
    check(unsafe { libc::ioctl(fd, libc::TIOCINQ, &mut n) })?;
    Ok(n as usize)
}

/// Copy the caller's window size (from `from`, a terminal) to `to`. Async-signal-safe.
pub fn copy_window_size(from: RawFd, to: RawFd) {
    // SAFETY: TIOCGWINSZ writes a winsize we own; TIOCSWINSZ reads it.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &ws);
        }
    }
}

/// A copy from one descriptor to another.
struct Flow {
    from: RawFd,
    to: RawFd,
    /// Close `to` (a pipe to the command) when `from` ends.
    close_to: Option<OwnedFd>,
    open: bool,
}

/// The terminal arrangement of one run: what the command gets, what confine relays.
pub struct Setup {
    /// Descriptors for the command's 0, 1, 2 (-1: keep).
    pub child_stdio: [RawFd; 3],
    /// The pty slave is to become the controlling terminal.
    pub controlling: bool,
    child_side: Vec<OwnedFd>,
    parent_side: Vec<OwnedFd>,
    flows: Vec<Flow>,
    master: Option<RawFd>,
    saved: Option<libc::termios>,
    interactive: bool,
    winsize: Option<libc::winsize>,
}

impl Setup {
    /// Prepare `mode`. Nothing is relayed until [`Setup::relay`]. With `deferred`, a pty is
    /// not opened here: the namespace's init opens it from its own devpts instance and hands
    /// the master over ([`Setup::attach_master`]).
    pub fn new(mode: Terminal, deferred: bool) -> io::Result<Setup> {
        let mut s = Setup {
            child_stdio: [-1; 3],
            controlling: false,
            child_side: Vec::new(),
            parent_side: Vec::new(),
            flows: Vec::new(),
            master: None,
            saved: None,
            interactive: false,
            winsize: None,
        };
        match mode {
            Terminal::Inherit => {}
            Terminal::Relay { stdin } => {
                for fd in 0..3 {
                    if !is_tty(fd) {
                        continue;
                    }
                    if fd == 0 && !stdin {
                        let null = std::fs::File::open("/dev/null")?;
                        let null = OwnedFd::from(null);
                        s.child_stdio[0] = null.as_raw_fd();
                        s.child_side.push(null);
                        continue;
                    }
                    let (r, w) = pipe()?;
                    if fd == 0 {
                        s.child_stdio[0] = r.as_raw_fd();
                        s.flows.push(Flow {
                            from: 0,
                            to: w.as_raw_fd(),
                            close_to: Some(w),
                            open: true,
                        });
                        s.child_side.push(r);
                    } else {
                        s.child_stdio[fd as usize] = w.as_raw_fd();
                        s.flows.push(Flow {
                            from: r.as_raw_fd(),
                            to: fd,
                            close_to: None,
                            open: true,
                        });
                        s.child_side.push(w);
                        s.parent_side.push(r);
                    }
                }
            }
            Terminal::Pty { interactive } => {
                s.controlling = true;
                s.interactive = interactive;
                for fd in [1, 0, 2] {
                    // SAFETY: winsize is plain data; all-zero bytes are a valid value.
                    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
                    // SAFETY: TIOCGWINSZ writes a winsize we own.
                    if is_tty(fd) && unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 {
                        s.winsize = Some(ws);
                        break;
                    }
                }
                if !deferred {
                    let (master, slave) = open_pty()?;
                    if let Some(ws) = &s.winsize {
                        // SAFETY: TIOCSWINSZ reads a winsize we own.
                        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, ws) };
                    }
                    s.child_stdio = [slave.as_raw_fd(); 3];
                    s.child_side.push(slave);
                    s.attach_master(master);
                }
            }
        }
        Ok(s)
    }

    /// The window size of the caller's terminal, for a new pty.
    pub fn winsize(&self) -> Option<libc::winsize> {
        self.winsize
    }

    /// Relay through the pty whose master this is: its output to standard output, with `-i`
    /// standard input to it (the caller's terminal in raw mode meanwhile).
    pub fn attach_master(&mut self, master: OwnedFd) {
        let m = master.as_raw_fd();
        self.flows.push(Flow {
            from: m,
            to: 1,
            close_to: None,
            open: true,
        });
        if self.interactive {
            self.flows.push(Flow {
                from: 0,
                to: m,
                close_to: None,
                open: true,
            });
            if is_tty(0) {
                // SAFETY: tcgetattr/tcsetattr on standard input with structs we own.
                unsafe {
                    let mut t: libc::termios = std::mem::zeroed();
                    if libc::tcgetattr(0, &mut t) == 0 {
                        self.saved = Some(t);
                        libc::cfmakeraw(&mut t);
                        libc::tcsetattr(0, libc::TCSANOW, &t);
                    }
                }
            }
        }
        self.master = Some(m);
        self.parent_side.push(master);
    }

    /// The pty master, for window-size changes.
    pub fn master(&self) -> Option<RawFd> {
        self.master
    }

    /// Whether anything is relayed (then [`Setup::relay`] must run until the command ends).
    pub fn relays(&self) -> bool {
        !self.flows.is_empty()
    }

    /// Close confine's copies of the command's ends, once the command has them.
    pub fn close_child_side(&mut self) {
        self.child_side.clear();
    }

    /// Copy until `end` becomes readable (the command ended).
    pub fn relay(&mut self, end: RawFd) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let mut fds: Vec<libc::pollfd> = vec![libc::pollfd {
                fd: end,
                events: libc::POLLIN,
                revents: 0,
            }];
            let idx: Vec<usize> = (0..self.flows.len())
                .filter(|&i| self.flows[i].open)
                .collect();
            fds.extend(idx.iter().map(|&i| libc::pollfd {
                fd: self.flows[i].from,
                events: libc::POLLIN,
                revents: 0,
            }));
            // SAFETY: poll on a slice of pollfd we own.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
            if n < 0 {
                if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                break;
            }
            for (k, &i) in idx.iter().enumerate() {
                if fds[k + 1].revents != 0 {
                    self.pump(i, &mut buf, None);
                }
            }
            if fds[0].revents != 0 {
                break;
            }
        }
    }

    /// Once the command has ended (and whatever it left behind is killed): copy what is queued
    /// in the pipes or the pty at this moment, and no more, so that nothing left writing can
    /// keep confine copying.
    pub fn drain(&mut self) {
        let mut buf = vec![0u8; 64 * 1024];
        for i in 0..self.flows.len() {
            let f = &self.flows[i];
            if f.from == 0 || !f.open {
                continue;
            }
            let mut queued: libc::c_int = 0;
            // SAFETY: fcntl on a descriptor of ours; FIONREAD writes an int we own.
            unsafe {
                let fl = libc::fcntl(f.from, libc::F_GETFL);
                libc::fcntl(f.from, libc::F_SETFL, fl | libc::O_NONBLOCK);
                if libc::ioctl(f.from, libc::FIONREAD, &mut queued) != 0 {
                    queued = 0;
                }
            }
            self.pump(i, &mut buf, Some(queued.max(0) as usize));
        }
    }

    /// Move what is readable on flow `i`: one read, or with `limit` up to that many bytes
    /// without blocking. When the destination fails, what is read is dropped, so that the
    /// command never blocks on a full pipe or pty.
    fn pump(&mut self, i: usize, buf: &mut [u8], limit: Option<usize>) {
        let f = &mut self.flows[i];
        let mut left = limit.unwrap_or(buf.len());
        while left > 0 {
            let want = left.min(buf.len());
            // SAFETY: read into a buffer we own.
            let n = unsafe { libc::read(f.from, buf.as_mut_ptr().cast(), want) };
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            if n <= 0 {
                // end of file, EIO (the pty's last slave closed) or, draining, nothing more
                if n == 0 || limit.is_none() {
                    f.open = false;
                    f.close_to = None;
                }
                return;
            }
            let n = n as usize;
            let mut off = 0;
            while off < n && f.to >= 0 {
                // SAFETY: write from the part of the buffer just read.
                let w = unsafe { libc::write(f.to, buf[off..].as_ptr().cast(), n - off) };
                if w < 0 {
                    if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                        continue;
                    }
                    // the destination is gone: the caller's input stays unread; the
                    // command's output is still read, and dropped
                    f.to = -1;
                    f.close_to = None;
                    if f.from == 0 {
                        f.open = false;
                        return;
                    }
                    break;
                }
                off += w as usize;
            }
            if limit.is_none() {
                return;
            }
            left -= n;
        }
    }

    /// Give the caller's terminal its modes back.
    pub fn restore(&mut self) {
        if let Some(t) = self.saved.take() {
            // SAFETY: tcsetattr with the struct saved by tcgetattr.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.restore();
    }
}
