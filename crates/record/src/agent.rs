//! The OCI seccomp agent: an OCI runtime (runc 1.1 and later, crun) whose profile names a
//! `listenerPath` connects to that Unix socket once per container and sends the container's
//! process state as JSON (runtime-spec `ContainerProcessState`: `ociVersion`, `fds`, `pid`,
//! `metadata`, `state`) with the seccomp notification descriptor (`SCM_RIGHTS`, at the index
//! of `"seccompFd"` in `fds`). Each container is recorded in a thread of its own, until the
//! last process using its filter is gone or the agent is told to stop.
//!
//! The runtime keeps its end of the connection open while the container starts, and the
//! container waits at its first notified call until the agent answers: the state is read as
//! soon as it parses, never to the end of the connection.
//!
//! # References
//! * opencontainers/runtime-spec config-linux.md (`listenerPath`, `listenerMetadata`) and
//!   runtime.md (`ContainerProcessState`)

use crate::args::ArgSpec;
use crate::recording::Recorded;
use crate::serve::Recorder;
use crate::source::{Ended, Notify};
use confine_kernel::notify::Listener;
use confine_kernel::unix::{peer_cred, recv_with_fds};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The largest process state accepted (runc's is a few hundred bytes; annotations add more).
pub const MAX_STATE: usize = 1 << 20;

/// How long a connection may take to send its whole state.
pub const STATE_TIMEOUT: Duration = Duration::from_secs(5);

/// The most containers recorded at once; a connection past it is refused.
pub const MAX_CONTAINERS: usize = 1024;

/// runtime-spec's `ContainerProcessState`.
#[derive(Clone, Debug, Deserialize)]
pub struct ProcessState {
    /// `ociVersion`.
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    /// What each descriptor sent with the message is, in order (`seccompFd`).
    pub fds: Vec<String>,
    /// The container process, in the runtime's pid namespace.
    pub pid: i64,
    /// The profile's `listenerMetadata`.
    #[serde(default)]
    pub metadata: String,
    /// The container's state.
    pub state: ContainerState,
}

/// runtime-spec's `State`.
#[derive(Clone, Debug, Deserialize)]
pub struct ContainerState {
    /// The container id.
    pub id: String,
    /// `creating` while the runtime connects.
    pub status: String,
    /// The bundle's path.
    #[serde(default)]
    pub bundle: String,
    /// The container's annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A container the agent records.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Container {
    /// The connection's ordinal (from 1), as in messages.
    pub connection: u64,
    /// The profile's name: the metadata when it is a usable file name, else the container id
    /// when it is, else `container-N`.
    pub name: String,
    /// The container id.
    pub id: String,
    /// `listenerMetadata`.
    pub metadata: String,
    /// The container process (runtime's pid namespace).
    pub pid: i64,
    /// The bundle.
    pub bundle: String,
    /// A process started in a running container (`runc exec`, a health check: the state's
    /// `status` is `running`), not the container's own (`creating`).
    pub exec: bool,
    /// The connecting process, user and group (SO_PEERCRED).
    pub peer: (i32, u32, u32),
}

/// What the agent reports.
#[derive(Debug)]
pub enum AgentEvent {
    /// A container's state and listener were taken; its recording runs.
    Started(Container),
    /// A container's recording ended.
    Finished {
        /// The container.
        container: Container,
        /// What was recorded (`incomplete` says why it may miss calls).
        recorded: Box<Recorded>,
    },
    /// Something the operator should know that concerns no one connection (out of
    /// descriptors: connections wait).
    Notice(String),
    /// A connection was refused; the agent goes on.
    Refused {
        /// The connection's ordinal.
        connection: u64,
        /// The connecting process, user and group, when known.
        peer: Option<(i32, u32, u32)>,
        /// Why, located in the state where it can be.
        why: String,
    },
}

/// What to record.
#[derive(Clone, Debug)]
pub struct AgentOptions {
    /// Arguments to keep values of.
    pub spec: ArgSpec,
    /// Distinct values kept per syscall.
    pub limit: usize,
    /// The most containers recorded at once (each holds two descriptors, the connection and
    /// the listener): at most [`MAX_CONTAINERS`], less with a low descriptor limit.
    pub max_containers: usize,
}

/// A name usable as a file name in the output directory: letters, digits, `_`, `-`, `.`,
/// not starting with a dot, at most 200 bytes.
pub fn usable_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn name_for(state: &ProcessState, connection: u64) -> String {
    if usable_name(&state.metadata) {
        state.metadata.clone()
    } else if usable_name(&state.state.id) {
        state.state.id.clone()
    } else {
        format!("container-{connection}")
    }
}

/// Read the process state and the listener from a runtime's connection; `stop` ends the wait.
fn take(stream: &UnixStream, stop: &AtomicBool) -> Result<(ProcessState, Listener), String> {
    // short reads, to look at `stop` between them; the whole state within STATE_TIMEOUT
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| format!("cannot set a timeout: {e}"))?;
    let started = Instant::now();
    let mut text: Vec<u8> = Vec::new();
    let mut fds: Vec<OwnedFd> = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    let mut ends = Ends::default();
    let value: serde_json::Value = loop {
        if stop.load(Ordering::Relaxed) {
            return Err("the agent was stopped while the state came".into());
        }
        if started.elapsed() > STATE_TIMEOUT {
            return Err(format!(
                "no complete state within {} s ({} bytes came)",
                STATE_TIMEOUT.as_secs(),
                text.len()
            ));
        }
        let m = match recv_with_fds(stream.as_fd(), &mut chunk) {
            Ok(m) => m,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => return Err(format!("cannot read the state: {e}")),
        };
        if m.truncated {
            return Err(format!(
                "descriptors were dropped by the kernel: more than {} were sent, or the agent is out of descriptors",
                confine_kernel::unix::MAX_FDS
            ));
        }
        if !m.fds.is_empty() && !fds.is_empty() {
            return Err("descriptors came in more than one message (a runtime sends them once, with the state)".into());
        }
        fds.extend(m.fds);
        if m.len == 0 {
            if text.is_empty() {
                return Err("the connection closed without a state".into());
            }
            // what came, parsed once: the place of the first error
            return Err(match serde_json::from_slice::<serde_json::Value>(&text) {
                Err(e) if !e.is_eof() => format!("the state is not JSON: {e}"),
                _ => format!(
                    "the connection closed inside the state, after {} bytes",
                    text.len()
                ),
            });
        }
        text.extend_from_slice(&chunk[..m.len]);
        if text.len() > MAX_STATE {
            return Err(format!("the state is over {MAX_STATE} bytes"));
        }
        // each byte is scanned once; the text is parsed when its object has closed
        match ends.feed(&chunk[..m.len]) {
            Scan::More => continue,
            Scan::NotAnObject => {
                return Err(match serde_json::from_slice::<serde_json::Value>(&text) {
                    Err(e) if !e.is_eof() => format!("the state is not JSON: {e}"),
                    _ => "the state is not a JSON object".into(),
                })
            }
            Scan::Closed => {}
        }
        match serde_json::from_slice(&text) {
            Ok(v) => break v,
            Err(e) => return Err(format!("the state is not JSON: {e}")),
        }
    };
    let state: ProcessState = serde_json::from_value(value)
        .map_err(|e| format!("the state is not a runtime-spec ContainerProcessState: {e}"))?;
    if state.fds.len() != fds.len() {
        return Err(format!(
            "the state names {} descriptor(s) in \"fds\" but {} came with it",
            state.fds.len(),
            fds.len()
        ));
    }
    let Some(at) = state.fds.iter().position(|f| f == "seccompFd") else {
        return Err(format!(
            "\"fds\" does not name a \"seccompFd\" (it names {:?})",
            state.fds
        ));
    };
    if state.pid <= 0 {
        return Err(format!("\"pid\" is {}, not a process", state.pid));
    }
    let fd = fds.swap_remove(at);
    let listener = Listener::new(fd).map_err(|e| format!("\"seccompFd\": {e}"))?;
    Ok((state, listener))
}

/// Where a JSON object ends, byte by byte: its braces and brackets outside strings.
#[derive(Default)]
struct Ends {
    depth: u32,
    started: bool,
    in_string: bool,
    escaped: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Scan {
    More,
    Closed,
    NotAnObject,
}

impl Ends {
    fn feed(&mut self, bytes: &[u8]) -> Scan {
        for &b in bytes {
            if !self.started {
                match b {
                    b'{' => {
                        self.started = true;
                        self.depth = 1;
                    }
                    b' ' | b'\t' | b'\r' | b'\n' => {}
                    _ => return Scan::NotAnObject,
                }
                continue;
            }
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Scan::Closed;
                    }
                }
                _ => {}
            }
        }
        Scan::More
    }
}

/// The listeners being recorded, by connection: one listener handed over twice would split
/// its calls between two recordings, each claiming to be complete.
#[derive(Default)]
struct Active(std::sync::Mutex<Vec<(u64, std::os::fd::RawFd, i32)>>);

impl Active {
    /// Register `l` for connection `n`, unless it is already being recorded (by which
    /// connection, then).
    fn claim(&self, n: u64, l: &Listener) -> Result<(), u64> {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let fd = l.as_fd().as_raw_fd();
        for &(other, ofd, _) in v.iter() {
            if confine_kernel::unix::same_file(fd, ofd).unwrap_or(false) {
                return Err(other);
            }
        }
        v.push((n, fd, confine_kernel::notify::gettid()));
        Ok(())
    }

    /// Interrupt every recording thread's receive, to look for its end and for `stop`.
    fn interrupt_all(&self) {
        let v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for &(_, _, tid) in v.iter() {
            let _ = confine_kernel::notify::interrupt_thread(tid);
        }
    }

    /// Forget connection `n`'s listener (before it is closed: its number can be reused).
    fn release(&self, n: u64) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|&(other, _, _)| other != n);
    }
}

/// Whether process `pid` is in this process's pid namespace (a runtime is; a container's
/// process, which could reach the socket through a bind mount, is not).
fn in_our_pid_namespace(pid: i32) -> bool {
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    pid > 0 && ns("self").is_some() && ns(&pid.to_string()) == ns("self")
}

/// One connection's life: take its state and listener, then record until its processes are
/// gone or `stop` is set.
fn connection(
    stream: UnixStream,
    n: u64,
    opts: &AgentOptions,
    stop: &AtomicBool,
    active: &Active,
    tx: &mpsc::Sender<AgentEvent>,
) {
    let peer = peer_cred(stream.as_fd()).ok();
    let refuse = |why: String| {
        let _ = tx.send(AgentEvent::Refused {
            connection: n,
            peer,
            why,
        });
    };
    // runc and crun run as root, or rootless as the agent's own user
    let me = own_uid();
    match peer {
        Some((_, uid, _)) if uid == 0 || Some(uid) == me => {}
        Some((pid, uid, _)) => {
            return refuse(format!(
                "the connecting process {pid} runs as uid {uid}: only root and the agent's own user may hand it containers"
            ))
        }
        None => return refuse("the connecting process cannot be identified (SO_PEERCRED)".into()),
    }
    if let Some((pid, _, _)) = peer {
        if !in_our_pid_namespace(pid) {
            return refuse(format!(
                "the connecting process {pid} is not in the agent's pid namespace (a runtime is; a container's process is not)"
            ));
        }
    }
    let (state, listener) = match take(&stream, stop) {
        Ok(t) => t,
        Err(why) => return refuse(why),
    };
    if let Err(other) = active.claim(n, &listener) {
        return refuse(format!(
            "its listener is already being recorded (connection #{other}): a second recording would split the calls"
        ));
    }
    let container = Container {
        connection: n,
        name: name_for(&state, n),
        id: state.state.id.clone(),
        metadata: state.metadata.clone(),
        pid: state.pid,
        bundle: state.state.bundle.clone(),
        exec: state.state.status != "creating",
        peer: peer.unwrap_or_default(),
    };
    let _ = tx.send(AgentEvent::Started(container.clone()));
    let mut notify = Notify::new(listener);
    let mut sink = Recorder::plain(opts.spec.clone(), opts.limit);
    let started = Instant::now();
    let ran = notify.run_until(&mut sink, stop);
    let sync_wake_up = notify.sync_wake_up;
    active.release(n);
    drop(notify);
    // the connection is the runtime's: it closes it when the container has started
    drop(stream);
    let mut recorded = sink.finish_plain();
    recorded.sync_wake_up = sync_wake_up;
    recorded.duration_ms = started.elapsed().as_millis() as u64;
    recorded.incomplete = match ran {
        Ok(Ended::HungUp) if recorded.started => None,
        Ok(Ended::HungUp) => {
            Some("the container's command never started (no execve was seen)".into())
        }
        Ok(Ended::Stopped) => Some("the agent was stopped while the container ran".into()),
        Err(e) => Some(format!("the recorder stopped: {e}")),
    };
    let _ = tx.send(AgentEvent::Finished {
        container,
        recorded: Box::new(recorded),
    });
}

fn own_uid() -> Option<u32> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
}

/// Serve as the seccomp agent on `listener` until a signal arrives on `signals` (a descriptor
/// from `confine_kernel::unix::signals_to_fd`); every event goes to `on`, in the calling
/// thread. At the signal every running recording is ended (marked incomplete) and reported
/// before this returns the signal's number.
pub fn serve_agent(
    listener: UnixListener,
    signals: OwnedFd,
    opts: AgentOptions,
    mut on: impl FnMut(AgentEvent),
) -> io::Result<i32> {
    listener.set_nonblocking(true)?;
    // the recording threads block in their receive; SIGALRM from here interrupts them
    confine_kernel::notify::alarm_interrupts()?;
    let stop = Arc::new(AtomicBool::new(false));
    let active = Arc::new(Active::default());
    let (tx, rx) = mpsc::channel();
    // out of descriptors: connections wait in the backlog until a recording ends
    let mut paused_until: Option<Instant> = None;
    let mut out_of_fds_said = false;
    let mut last_look = Instant::now();
    let mut threads: Vec<std::thread::JoinHandle<()>> = Vec::new();
    let mut count = 0u64;
    let signal = loop {
        // paused (out of descriptors): only the signals are watched until the pause ends
        let now = Instant::now();
        let pause = paused_until.filter(|t| *t > now).map(|t| t - now);
        let ready = match pause {
            Some(left) => {
                let ms = left.as_millis().clamp(1, 200) as i32;
                let r = confine_kernel::unix::poll_fds(&[signals.as_raw_fd()], ms)?;
                vec![0, r[0]]
            }
            None => {
                confine_kernel::unix::poll_fds(&[listener.as_raw_fd(), signals.as_raw_fd()], 200)?
            }
        };
        while let Ok(e) = rx.try_recv() {
            on(e);
        }
        threads.retain(|t| !t.is_finished());
        if last_look.elapsed() >= Duration::from_millis(200) {
            active.interrupt_all();
            last_look = Instant::now();
        }
        if ready[1] != 0 {
            if let Some(sig) = confine_kernel::unix::read_signal(signals.as_raw_fd())? {
                break sig;
            }
        }
        if ready[0] == 0 {
            continue;
        }
        loop {
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                    if !out_of_fds_said {
                        on(AgentEvent::Notice(format!(
                            "out of descriptors ({e}): new containers wait until a recording ends"
                        )));
                        out_of_fds_said = true;
                    }
                    paused_until = Some(Instant::now() + Duration::from_millis(100));
                    break;
                }
                // a connection that went away before it was taken: the agent goes on
                Err(e) => {
                    count += 1;
                    on(AgentEvent::Refused {
                        connection: count,
                        peer: None,
                        why: format!("cannot accept the connection: {e}"),
                    });
                    break;
                }
            };
            paused_until = None;
            out_of_fds_said = false;
            count += 1;
            if threads.len() >= opts.max_containers {
                on(AgentEvent::Refused {
                    connection: count,
                    peer: peer_cred(stream.as_fd()).ok(),
                    why: format!(
                        "{} containers are already being recorded",
                        opts.max_containers
                    ),
                });
                continue;
            }
            let _ = stream.set_nonblocking(false);
            let (opts, stop, active, tx, n) = (
                opts.clone(),
                stop.clone(),
                active.clone(),
                tx.clone(),
                count,
            );
            match std::thread::Builder::new()
                .name(format!("agent-{n}"))
                .spawn(move || connection(stream, n, &opts, &stop, &active, &tx))
            {
                Ok(t) => threads.push(t),
                Err(e) => on(AgentEvent::Refused {
                    connection: n,
                    peer: None,
                    why: format!("cannot start a thread for it: {e}"),
                }),
            }
        }
    };
    stop.store(true, Ordering::Relaxed);
    drop(tx);
    while threads.iter().any(|t| !t.is_finished()) {
        active.interrupt_all();
        std::thread::sleep(Duration::from_millis(20));
    }
    for t in threads {
        let _ = t.join();
    }
    while let Ok(e) = rx.try_recv() {
        on(e);
    }
    Ok(signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_file_names_or_replaced() {
        assert!(usable_name("web-1.prod_a"));
        for bad in [
            "",
            ".hidden",
            "../etc/passwd",
            "a/b",
            "a b",
            "x\u{1b}",
            &"a".repeat(201),
        ] {
            assert!(!usable_name(bad), "{bad:?}");
        }
        let mut s: ProcessState = serde_json::from_str(
            r#"{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":7,"metadata":"../x","state":{"id":"c1","status":"creating"}}"#,
        )
        .unwrap();
        assert_eq!(name_for(&s, 3), "c1");
        s.metadata = "profile-a".into();
        assert_eq!(name_for(&s, 3), "profile-a");
        s.metadata.clear();
        s.state.id = "../../etc".into();
        assert_eq!(name_for(&s, 3), "container-3");
    }

    fn send_state(text: &[u8]) -> Result<(ProcessState, Listener), String> {
        let (a, b) = UnixStream::pair().unwrap();
        use std::io::Write;
        (&a).write_all(text).unwrap();
        drop(a);
        take(&b, &AtomicBool::new(false))
    }

    #[test]
    fn an_object_is_seen_to_end_once_whatever_the_pieces() {
        let text = br#" {"a": "x}\"{", "b": [1, {"c": 2}], "d": "\\"}"#;
        for cut in 0..text.len() {
            let mut e = Ends::default();
            let (x, y) = text.split_at(cut);
            let first = e.feed(x);
            let second = if first == Scan::More {
                e.feed(y)
            } else {
                first
            };
            assert_eq!(second, Scan::Closed, "cut at {cut}");
        }
        assert_eq!(Ends::default().feed(b"[1]"), Scan::NotAnObject);
        assert_eq!(Ends::default().feed(b"{\"a\": {"), Scan::More);
    }

    #[test]
    fn garbage_is_refused_with_its_place() {
        let e = send_state(b"{\"ociVersion\": 1.0.2").unwrap_err();
        assert!(e.contains("line 1 column"), "{e}");
        let e = send_state(b"").unwrap_err();
        assert_eq!(e, "the connection closed without a state");
        let e = send_state(b"{\"ociVersion\":\"1\"").unwrap_err();
        assert!(e.contains("closed inside the state"), "{e}");
        let e = send_state(
            br#"{"ociVersion":"1","fds":[],"pid":1,"state":{"id":"a","status":"creating"}}"#,
        )
        .unwrap_err();
        assert!(e.contains("does not name a \"seccompFd\""), "{e}");
        let e = send_state(br#"{"ociVersion":"1","fds":["seccompFd"],"pid":1,"state":{"id":"a","status":"creating"}}"#)
            .unwrap_err();
        assert!(
            e.contains("names 1 descriptor(s) in \"fds\" but 0 came"),
            "{e}"
        );
        let e = send_state(br#"{"ociVersion":"1","fds":[],"pid":"x","state":{}}"#).unwrap_err();
        assert!(
            e.contains("not a runtime-spec ContainerProcessState"),
            "{e}"
        );
    }
}
