//! Recording mechanisms: events in. A mechanism hands each call to a [`Sink`] before the call
//! runs, with access to the caller's memory for as long as the call waits; the recording
//! (and the profile) is built from the events alone, so a mechanism can be swapped (seccomp
//! user notification here; eBPF later).

use crate::event::Event;
use confine_kernel::notify::{self, Listener};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

/// The caller of a call, while the call waits.
pub trait Caller {
    /// Up to `max` bytes of the NUL-terminated string at `addr` (without the NUL), or None
    /// when it cannot be read, or when the call is no longer waiting (the memory might then be
    /// another process's).
    fn read_string(&self, addr: u64, max: usize) -> Option<Vec<u8>>;
    /// `len` bytes at `addr`, checked as [`Caller::read_string`].
    fn read_bytes(&self, addr: u64, len: usize) -> Option<Vec<u8>>;
    /// Whether the call still waits (a failed read of a waiting call's memory is memory the
    /// recorder cannot read, such as `memfd_secret`, not a call that went away).
    fn waiting(&self) -> bool;
}

/// Where events go.
pub trait Sink {
    /// One call, before it runs.
    fn event(&mut self, e: &Event, caller: &dyn Caller);
    /// Called between events at least every quarter second (for a live line).
    fn tick(&mut self) {}
}

/// A way to see a command's calls.
pub trait Mechanism {
    /// Hand every call to `sink` until the recorded processes are all gone.
    fn run(&mut self, sink: &mut dyn Sink) -> io::Result<()>;
}

/// Seccomp user notification: every call waits for the recorder, which records it and lets it
/// go on (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`). Unprivileged; complete by construction (the
/// filter is inherited across fork, clone and execve, and cannot be removed).
pub struct Notify {
    listener: Listener,
    /// The kernel took SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6).
    pub sync_wake_up: bool,
}

impl Notify {
    /// Record from a listener received some other way (an OCI runtime's, over the agent's
    /// socket).
    pub fn new(listener: Listener) -> Notify {
        let sync_wake_up = listener.set_sync_wake_up().is_ok();
        Notify {
            listener,
            sync_wake_up,
        }
    }

    /// Take the listener at descriptor `fd` of the process behind `pidfd`, once it exists.
    pub fn take(pidfd: BorrowedFd<'_>, fd: i32) -> io::Result<Notify> {
        let listener = notify::take_listener(pidfd, fd, Duration::from_secs(30))?;
        let sync_wake_up = listener.set_sync_wake_up().is_ok();
        Ok(Notify {
            listener,
            sync_wake_up,
        })
    }
}

struct Waiting<'a> {
    listener: &'a Listener,
    id: u64,
    tid: u32,
}

impl Waiting<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Option<usize> {
        let n = notify::read_memory(self.tid as i32, addr, buf).ok()?;
        // read first, then check: the memory was the caller's if the call still waits
        self.listener.id_valid(self.id).then_some(n)
    }
}

impl Caller for Waiting<'_> {
    fn waiting(&self) -> bool {
        self.listener.id_valid(self.id)
    }

    fn read_string(&self, addr: u64, max: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        let mut at = addr;
        while out.len() < max {
            // never across a page boundary in one read: the next page may be unmapped
            let to_page = 4096 - (at % 4096) as usize;
            let want = chunk.len().min(to_page).min(max - out.len());
            let n = self.read(at, &mut chunk[..want])?;
            if n == 0 {
                return None;
            }
            if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..end]);
                return Some(out);
            }
            out.extend_from_slice(&chunk[..n]);
            at += n as u64;
        }
        None
    }

    fn read_bytes(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let n = self.read(addr, &mut buf)?;
        (n == len).then_some(buf)
    }
}

/// How [`Notify::run_until`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Every process using the filter is gone.
    HungUp,
    /// `stop` was set first.
    Stopped,
}

impl Notify {
    /// As [`Mechanism::run`], for one of many recordings in one process: blocked in the
    /// receive until a notification comes or another thread interrupts this one with
    /// `notify::interrupt_thread` (SIGALRM, handled by `notify::alarm_interrupts`; the agent's
    /// main thread does it every 200 ms), then it looks whether the processes are gone and
    /// whether `stop` is set.
    pub fn run_until(
        &mut self,
        sink: &mut dyn Sink,
        stop: &std::sync::atomic::AtomicBool,
    ) -> io::Result<Ended> {
        let fd = self.listener.as_fd().as_raw_fd();
        loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(Ended::Stopped);
            }
            let n = match self.listener.recv() {
                Ok(n) => n,
                // EINTR: the interruption; ENOENT: the caller was killed before the receive
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EINTR)) => {
                    sink.tick();
                    match notify::poll_one(fd, 0)? {
                        // POLLHUP: no process uses the filter any more
                        Some(r) if r & libc::POLLIN == 0 => return Ok(Ended::HungUp),
                        _ => continue,
                    }
                }
                Err(e) => return Err(e),
            };
            self.handle(&n, sink)?;
        }
    }

    fn handle(&self, n: &notify::Notification, sink: &mut dyn Sink) -> io::Result<()> {
        let e = Event {
            tid: n.tid,
            audit_arch: n.arch,
            nr: n.nr as u32,
            args: n.args,
        };
        sink.event(
            &e,
            &Waiting {
                listener: &self.listener,
                id: n.id,
                tid: n.tid,
            },
        );
        match self.listener.allow(n.id) {
            Err(e) if e.raw_os_error() != Some(libc::ENOENT) => Err(e),
            _ => Ok(()),
        }
    }
}

impl Mechanism for Notify {
    fn run(&mut self, sink: &mut dyn Sink) -> io::Result<()> {
        let fd = self.listener.as_fd().as_raw_fd();
        // a blocked receive does not end with the last recorded process: a timer interrupts it
        // to look (a poll before every notification would cost a call each)
        notify::interrupt_every(100)?;
        loop {
            let n = match self.listener.recv() {
                Ok(n) => n,
                // ENOENT: the caller was killed between its call and the receive (or, with no
                // recorded process left, there is nothing to receive); EINTR: the timer
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EINTR)) => {
                    sink.tick();
                    match notify::poll_one(fd, 0)? {
                        Some(r) if r & libc::POLLIN == 0 => return Ok(()),
                        _ => continue,
                    }
                }
                Err(e) => return Err(e),
            };
            self.handle(&n, sink)?;
        }
    }
}
