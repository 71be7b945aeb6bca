//! The record of what a run's Landlock policy applied, kept where `confine inspect` reads it
//! (`confine_inspect::landlock`: a sealed memfd named after confine's pid and start time, in
//! confine's own descriptor table): the kernel does not show a process's Landlock domain, so
//! confine keeps it for as long as the command runs, and not a moment longer.
//! It matters most under `--landlock-compat best-effort`, where it lists what was dropped.

use crate::note::{Note, Notes};
use crate::policy::Lowered;
use confine_inspect::landlock::{self as rec, Compat as RecCompat, Record, RecordGuard};
use confine_policy::landlock::Compat;

/// The record of `l` (the policy `file`) for this process; None, with a note, when it cannot
/// be made.
pub(crate) fn of(file: &str, l: &Lowered, abi: u32, notes: Notes) -> Option<Record> {
    let compat = match l.compat {
        Compat::Require => RecCompat::Require,
        Compat::BestEffort => RecCompat::BestEffort,
    };
    let mut r = match Record::for_self(file, compat, abi) {
        Ok(r) => r,
        Err(e) => {
            notes(Note::NoRecord { why: e.to_string() });
            return None;
        }
    };
    r.set_handled(l.spec.handled_fs, l.spec.handled_net, l.spec.scoped);
    for (p, rights) in &l.spec.paths {
        r.add_path(&p.to_string_lossy(), *rights);
    }
    for &(port, rights) in &l.spec.tcp {
        r.add_port(port, rights);
    }
    r.dropped = l.dropped.clone();
    r.seccomp_sockets = l
        .plan
        .seccomp_sockets
        .iter()
        .map(|s| match s.protocol {
            None => format!("domain {} type {} ({})", s.domain, s.sock_type, s.because),
            Some(p) => format!(
                "domain {} type {} protocol {p} ({})",
                s.domain, s.sock_type, s.because
            ),
        })
        .collect();
    Some(r)
}

/// Keep `r` (the command's process is in a pid namespace under confine's init when
/// `init_between`) for as long as the guard lives. A record that cannot be kept is a note, not
/// a failure: the policy itself is in force either way.
pub(crate) fn write(mut r: Record, init_between: bool, notes: Notes) -> Option<RecordGuard> {
    r.init_not_in_domain = init_between;
    match rec::write(&r) {
        Ok(g) => Some(g),
        Err(e) => {
            notes(Note::NoRecord { why: e.to_string() });
            None
        }
    }
}
