//! The recorder process: waits for the command's hand-over, records until the last recorded
//! process is gone, and writes what it gathered (JSON) to confine over a pipe.

use crate::args::ArgSpec;
use crate::event::Event;
use crate::files::Tracker;
use crate::recording::{Recorded, Recording};
use crate::source::{Caller, Mechanism, Notify, Sink};
use confine_kernel::notify::recv_fd;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

/// What to record, and where to show it.
pub struct Options {
    /// Arguments to keep values of.
    pub spec: ArgSpec,
    /// Distinct values kept per syscall.
    pub limit: usize,
    /// `--trace`: JSON Lines, one event per line.
    pub trace: Option<File>,
    /// Show the live line on standard error (a terminal, not `--quiet`).
    pub live: bool,
    /// Record paths and ports (`--policy-out`).
    pub files: bool,
}

pub(crate) struct Recorder {
    rec: Recording,
    files: Option<Tracker>,
    trace: Option<BufWriter<File>>,
    tgids: HashMap<u32, u32>,
    start: Instant,
    live: bool,
    /// The command's paths are the recorder's (false for containers: their paths are in
    /// their own mount namespace, and their no_new_privs is the runtime's business).
    host_paths: bool,
    last_tick: Instant,
    last_events: u64,
    trace_failed: Option<String>,
    notes: Vec<String>,
}

impl Recorder {
    /// A recorder of calls and argument values only: no paths, no trace, no live line (the
    /// seccomp agent's, one per container).
    pub(crate) fn plain(spec: ArgSpec, limit: usize) -> Recorder {
        let now = Instant::now();
        Recorder {
            rec: Recording::new(spec, limit),
            files: None,
            trace: None,
            tgids: HashMap::new(),
            start: now,
            live: false,
            host_paths: false,
            last_tick: now,
            last_events: 0,
            trace_failed: None,
            notes: Vec::new(),
        }
    }

    /// What a plain recorder gathered.
    pub(crate) fn finish_plain(self) -> Recorded {
        let notes = self.notes;
        let mut out = self.rec.finish();
        out.notes = notes;
        out
    }

    fn tgid(&mut self, tid: u32) -> u32 {
        *self.tgids.entry(tid).or_insert_with(|| {
            std::fs::read_to_string(format!("/proc/{tid}/status"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("Tgid:"))
                        .and_then(|v| v.trim().parse().ok())
                })
                .unwrap_or(tid)
        })
    }

    fn write_trace(&mut self, e: &Event, command: bool) {
        if self.trace.is_none() || self.trace_failed.is_some() {
            return;
        }
        let pid = self.tgid(e.tid);
        let call = self.rec.call(e).clone();
        let line = serde_json::json!({
            "time_us": self.start.elapsed().as_micros() as u64,
            "pid": pid,
            "tid": e.tid,
            "abi": call.abi,
            "nr": call.nr,
            "name": call.name,
            "args": e.args,
            "phase": if command { "command" } else { "runtime" },
        });
        if let Some(t) = &mut self.trace {
            if let Err(err) = writeln!(t, "{line}") {
                self.trace_failed = Some(err.to_string());
            }
        }
    }
}

/// `SECCOMP_SET_MODE_FILTER` and `SECCOMP_FILTER_FLAG_NEW_LISTENER` (include/uapi/linux/seccomp.h).
const SET_MODE_FILTER: u64 = 1;
const FLAG_NEW_LISTENER: u64 = 8;

impl Recorder {
    /// Say once when the recording changes what the command sees.
    fn limits(&mut self, e: &Event, caller: &dyn Caller) {
        let call = self.rec.call(e);
        let note = match call.name.as_deref() {
            Some("seccomp") if e.args[0] == SET_MODE_FILTER && e.args[1] & FLAG_NEW_LISTENER != 0 => {
                "the command installed a seccomp filter with its own listener: it got EBUSY, since a chain of filters has one listener and the recording holds it; unrecorded, it would have succeeded".to_string()
            }
            Some("execve") if self.host_paths => {
                use std::os::unix::fs::PermissionsExt;
                let Some(path) = caller.read_string(e.args[0], 4096) else {
                    return;
                };
                let path = String::from_utf8_lossy(&path).into_owned();
                match std::fs::metadata(&path) {
                    Ok(m) if m.permissions().mode() & 0o6000 != 0 => format!(
                        "the command executed {path}, which is set-user-ID or set-group-ID: under no_new_privs, which recording needs without CAP_SYS_ADMIN, it gained no privileges (when confine set no_new_privs)"
                    ),
                    _ => return,
                }
            }
            Some("io_uring_setup") => "the command set up an io_uring: its operations (opening files, connecting sockets) do not pass through seccomp, and the paths and ports they use are not recorded".to_string(),
            _ => return,
        };
        let note = crate::printable(&note);
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

impl Sink for Recorder {
    fn event(&mut self, e: &Event, caller: &dyn Caller) {
        let command = self.rec.observe(e);
        if command {
            self.limits(e, caller);
        }
        if command {
            if let Some(f) = &mut self.files {
                let call = self.rec.call(e).clone();
                f.observe(&call, e, caller);
            }
        }
        self.write_trace(e, command);
        if self.live && self.rec.events % 1024 == 0 {
            self.tick();
        }
    }

    fn tick(&mut self) {
        if !self.live {
            return;
        }
        let dt = self.last_tick.elapsed();
        if dt.as_millis() < 250 {
            return;
        }
        let rate = (self.rec.events - self.last_events) as f64 / dt.as_secs_f64();
        eprint!(
            "\r\x1b[Kconfine record: {} syscalls, {:.0} events/s",
            self.rec.distinct(),
            rate
        );
        self.last_tick = Instant::now();
        self.last_events = self.rec.events;
    }
}

/// The recorder's peak resident memory (VmHWM), in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The recorder's life: `sock` brings the command's pidfd and the listener's number; the
/// result goes to `result` as one JSON document. Returns the process's exit status.
pub fn serve(sock: OwnedFd, mut result: File, o: Options) -> i32 {
    let mut out = Recorded::default();
    let started = Instant::now();
    match recv_fd(sock.as_fd()) {
        Ok(Some((pidfd, n))) => match Notify::take(pidfd.as_fd(), n) {
            Ok(mut notify) => {
                let mut r = Recorder {
                    rec: Recording::new(o.spec, o.limit),
                    files: o.files.then(Tracker::default),
                    trace: o.trace.map(BufWriter::new),
                    tgids: HashMap::new(),
                    start: started,
                    live: o.live,
                    host_paths: true,
                    last_tick: started,
                    last_events: 0,
                    trace_failed: None,
                    notes: Vec::new(),
                };
                let ran = notify.run(&mut r);
                if r.live {
                    eprint!("\r\x1b[K");
                }
                if let Some(t) = &mut r.trace {
                    if let Err(e) = t.flush() {
                        r.trace_failed.get_or_insert(e.to_string());
                    }
                }
                let files = r.files.map(Tracker::finish);
                let trace_failed = r.trace_failed;
                let notes = r.notes;
                out = r.rec.finish();
                out.notes = notes;
                out.files = files;
                out.sync_wake_up = notify.sync_wake_up;
                out.incomplete = match (ran, trace_failed) {
                    (Err(e), _) => Some(format!("the recorder stopped: {e}")),
                    (_, Some(e)) => Some(format!("the trace could not be written: {e}")),
                    _ => None,
                };
            }
            Err(e) => {
                let hint = if e.raw_os_error() == Some(libc::EPERM) {
                    " (taking it needs ptrace access to the command: root, or the same user with Yama's ptrace_scope at 0)"
                } else {
                    ""
                };
                // the command waits at its next call for an answer that will not come: it
                // must not run unrecorded, nor hang
                let _ = confine_kernel::notify::pidfd_kill(pidfd.as_fd());
                out.failed = Some(format!("cannot take the command's listener: {e}{hint}"));
            }
        },
        Ok(None) => out.incomplete = Some("the command never reached its filter".into()),
        Err(e) => out.incomplete = Some(format!("the hand-over failed: {e}")),
    }
    out.duration_ms = started.elapsed().as_millis() as u64;
    out.recorder_peak_kib = peak_kib();
    let text = serde_json::to_string(&out).unwrap_or_default();
    match result.write_all(text.as_bytes()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
