//! What a recording gathers, event by event, and what it hands back when it ends.
//!
//! Calls before the command's first `execve` are the runtime's own (confine's steps after the
//! filter is installed); from that `execve` on, they are the command's. Argument values are
//! kept per syscall up to a limit, past which only the fact that the limit was passed is.

use crate::args::{ArgSpec, Watched};
use crate::event::{Call, Event};
use crate::files::Activity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// The distinct argument values kept per syscall by default; past it the rule is
/// unconditional, and the report says so.
pub const DEFAULT_VALUE_LIMIT: usize = 16;

/// Recorded argument values of one syscall.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Values {
    /// The argument indexes, ascending.
    pub indexes: Vec<u8>,
    /// The mask applied to the first index, if any.
    pub mask: Option<u64>,
    /// The distinct tuples seen (at most the limit), sorted.
    pub tuples: BTreeSet<Vec<u64>>,
    /// More distinct tuples than the limit were seen.
    pub over_limit: bool,
}

/// One syscall on one ABI: how often, and with which values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The call.
    #[serde(flatten)]
    pub call: Call,
    /// How many times.
    pub count: u64,
    /// Recorded argument values, when asked for.
    pub values: Option<Values>,
}

/// How the calls were seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Seccomp user notification: every call, with its arguments.
    #[default]
    Notify,
    /// An eBPF program counting calls: counts only.
    Ebpf,
}

impl Mode {
    /// `notify` or `ebpf`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Notify => "notify",
            Mode::Ebpf => "ebpf",
        }
    }
}

/// What a recording hands back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The mechanism.
    #[serde(default)]
    pub mode: Mode,
    /// The command's calls, from its execve on, sorted by ABI and number.
    pub calls: Vec<Seen>,
    /// The runtime's calls between the filter and the execve.
    pub runtime: Vec<Seen>,
    /// Every event, both phases.
    pub events: u64,
    /// The execve of the command was seen.
    pub started: bool,
    /// Paths and ports, when asked for.
    pub files: Option<Activity>,
    /// The recorder's peak resident memory (VmHWM), in KiB.
    pub recorder_peak_kib: u64,
    /// The kernel took SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP.
    pub sync_wake_up: bool,
    /// Milliseconds from the hand-over to the end.
    pub duration_ms: u64,
    /// Why the recording may have missed calls, if it may have.
    pub incomplete: Option<String>,
    /// What the recording changed for the command, said once each (its own listener refused
    /// with EBUSY; a set-user-ID program run under no_new_privs).
    pub notes: Vec<String>,
    /// Why no recording could be made at all (the command was then killed before it ran).
    pub failed: Option<String>,
    /// eBPF mode: what its programs lost or saw, by kind (`unread`, `map_full`, `left`,
    /// `entered`, `joins`, `untracked`); None in notify mode.
    #[serde(default)]
    pub ebpf_losses: Option<std::collections::BTreeMap<String, u64>>,
}

#[derive(Default)]
struct Entry {
    count: u64,
    watched: Option<Watched>,
    values: Values,
}

/// The aggregate, updated per event.
pub struct Recording {
    spec: ArgSpec,
    limit: usize,
    command: HashMap<(u32, u32), Entry>,
    runtime: HashMap<(u32, u32), Entry>,
    names: HashMap<(u32, u32), Call>,
    /// Every event.
    pub events: u64,
    /// The command's execve has been seen.
    pub started: bool,
}

impl Recording {
    /// An empty recording of `spec`'s arguments, keeping at most `limit` values each.
    pub fn new(spec: ArgSpec, limit: usize) -> Recording {
        Recording {
            spec,
            limit,
            command: HashMap::new(),
            runtime: HashMap::new(),
            names: HashMap::new(),
            events: 0,
            started: false,
        }
    }

    /// The call an event makes (named once per ABI and number).
    pub fn call(&mut self, e: &Event) -> &Call {
        self.names
            .entry((e.audit_arch, e.nr))
            .or_insert_with(|| Call::of(e))
    }

    /// Count `e` (and its values); returns whether it belongs to the command (false: the
    /// runtime's, before the execve).
    pub fn observe(&mut self, e: &Event) -> bool {
        self.events += 1;
        let key = (e.audit_arch, e.nr);
        let spec = &self.spec;
        let call = self.names.entry(key).or_insert_with(|| Call::of(e));
        if !self.started && matches!(call.name.as_deref(), Some("execve" | "execveat")) {
            self.started = true;
        }
        let map = if self.started {
            &mut self.command
        } else {
            &mut self.runtime
        };
        let entry = map.entry(key).or_insert_with(|| {
            let watched = match (&call.name, call.arch()) {
                (Some(n), Some(a)) => spec.watched(n, a),
                _ => None,
            };
            Entry {
                watched,
                ..Entry::default()
            }
        });
        entry.count += 1;
        if let Some(w) = &entry.watched {
            let v = &mut entry.values;
            if !v.over_limit {
                let tuple: Vec<u64> = w
                    .indexes
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| {
                        let a = e.args[usize::from(i)];
                        match (k, w.mask) {
                            (0, Some(m)) => a & m,
                            _ => a,
                        }
                    })
                    .collect();
                if !v.tuples.contains(&tuple) {
                    if v.tuples.len() >= self.limit {
                        v.over_limit = true;
                    } else {
                        v.tuples.insert(tuple);
                    }
                }
            }
        }
        self.started
    }

    /// Add `count` calls like `e` to the command's, all at once (a mechanism that only counts,
    /// and sees the command's calls alone: the execve and what follows).
    pub fn add(&mut self, e: &Event, count: u64) {
        if count == 0 {
            return;
        }
        self.events += count;
        let key = (e.audit_arch, e.nr);
        let call = self.names.entry(key).or_insert_with(|| Call::of(e));
        if matches!(call.name.as_deref(), Some("execve" | "execveat")) {
            self.started = true;
        }
        self.command.entry(key).or_default().count += count;
    }

    /// Distinct syscalls of the command so far.
    pub fn distinct(&self) -> usize {
        self.command.len()
    }

    /// What was gathered.
    pub fn finish(self) -> Recorded {
        let list = |map: HashMap<(u32, u32), Entry>, names: &HashMap<(u32, u32), Call>| {
            let mut v: Vec<Seen> = map
                .into_iter()
                .map(|(k, e)| Seen {
                    call: names[&k].clone(),
                    count: e.count,
                    values: e.watched.map(|w| Values {
                        indexes: w.indexes,
                        mask: w.mask,
                        ..e.values
                    }),
                })
                .collect();
            v.sort_by(|a, b| a.call.cmp(&b.call));
            v
        };
        Recorded {
            calls: list(self.command, &self.names),
            runtime: list(self.runtime, &self.names),
            events: self.events,
            started: self.started,
            ..Recorded::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confine_abi::Arch;

    fn ev(arch: Arch, nr: u32, a0: u64) -> Event {
        Event {
            tid: 7,
            audit_arch: arch.audit_arch(),
            nr,
            args: [a0, 0, 0, 0, 0, 0],
        }
    }

    #[test]
    fn calls_before_the_execve_are_the_runtimes() {
        let mut r = Recording::new(ArgSpec::docker(), 2);
        assert!(!r.observe(&ev(Arch::X86_64, 157, 1))); // prctl
        assert!(r.observe(&ev(Arch::X86_64, 59, 0))); // execve
        assert!(r.observe(&ev(Arch::X86_64, 39, 0))); // getpid
        assert!(r.observe(&ev(Arch::X86_64, 39, 0)));
        let out = r.finish();
        assert_eq!(out.events, 4);
        assert_eq!(out.runtime.len(), 1);
        assert_eq!(out.runtime[0].call.name.as_deref(), Some("prctl"));
        let getpid = out.calls.iter().find(|s| s.call.nr == 39).unwrap();
        assert_eq!(getpid.count, 2);
        assert!(getpid.values.is_none());
    }

    #[test]
    fn counts_are_added_to_the_commands_calls() {
        let mut r = Recording::new(ArgSpec::default(), 2);
        r.add(&ev(Arch::X86_64, 39, 0), 3);
        assert!(!r.started);
        r.add(&ev(Arch::X86_64, 59, 0), 1);
        r.add(&ev(Arch::X86, 20, 0), 2);
        r.add(&ev(Arch::X86_64, 39, 0), 1);
        r.add(&ev(Arch::X86_64, 0, 0), 0);
        let out = r.finish();
        assert!(out.started);
        assert_eq!(out.events, 7);
        assert!(out.runtime.is_empty());
        let got: Vec<(&str, Option<&str>, u64)> = out
            .calls
            .iter()
            .map(|s| (s.call.abi.as_str(), s.call.name.as_deref(), s.count))
            .collect();
        assert_eq!(
            got,
            [
                ("x86", Some("getpid"), 2),
                ("x86_64", Some("getpid"), 4),
                ("x86_64", Some("execve"), 1)
            ]
        );
    }

    #[test]
    fn values_are_kept_up_to_the_limit() {
        let mut r = Recording::new(ArgSpec::docker(), 2);
        r.observe(&ev(Arch::X86_64, 59, 0));
        for fam in [2, 10, 2] {
            r.observe(&ev(Arch::X86_64, 41, fam)); // socket
        }
        // clone: only the namespace bits are kept
        r.observe(&ev(Arch::X86_64, 56, 0x0001_0f00 | 0x2000_0000));
        let out = r.finish();
        let socket = out.calls.iter().find(|s| s.call.nr == 41).unwrap();
        let v = socket.values.as_ref().unwrap();
        assert_eq!(v.tuples.len(), 2);
        assert!(!v.over_limit);
        let clone = out.calls.iter().find(|s| s.call.nr == 56).unwrap();
        let cv = clone.values.as_ref().unwrap();
        assert_eq!(cv.tuples.iter().next().unwrap(), &vec![0x2000_0000]);

        let mut r = Recording::new(ArgSpec::docker(), 2);
        r.observe(&ev(Arch::X86_64, 59, 0));
        for fam in [1, 2, 10] {
            r.observe(&ev(Arch::X86_64, 41, fam));
        }
        let out = r.finish();
        let socket = out.calls.iter().find(|s| s.call.nr == 41).unwrap();
        let v = socket.values.as_ref().unwrap();
        assert!(v.over_limit);
        assert_eq!(v.tuples.len(), 2);
    }
}
