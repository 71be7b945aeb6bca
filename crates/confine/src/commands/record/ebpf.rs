//! `confine record --mode ebpf|auto`: which mechanism records, and the run that records with
//! eBPF (a program counting the calls of a cgroup the command joins right before its
//! execve). The profile, verification and summary are shared with notify mode
//! (`super::conclude`).

use super::{conclude, runtime_list};
use crate::Outcome;
use anyhow::{bail, Context};
use confine_cli::{ModeArg, RecordArgs, RuntimeArg, UntilArg};
use confine_kernel::spawn::{detach, SingleThreaded};
use confine_record::args::ArgSpec;
use confine_record::ebpf::{self, cgroup::Cgroup, Counter, Layout};
use confine_record::recording::{Mode, Recording};
use confine_runtime::{CgroupRecording, Ended, Note, RunRequest};
use std::io::IsTerminal;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// The options only notify mode can honour.
fn notify_only(a: &RecordArgs) -> Option<&'static str> {
    if a.args.is_some() {
        Some("--args")
    } else if a.policy_out.is_some() {
        Some("--policy-out")
    } else if a.trace.is_some() {
        Some("--trace")
    } else {
        None
    }
}

/// Effective capabilities (CapEff of /proc/self/status).
fn effective_caps() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0)
}

/// What an eBPF recording needs, made before the command runs: its cgroup, and the programs
/// loaded and attached for it (the cgroup empty until the command joins). Dropped unused, the
/// cgroup is removed and the programs detached.
pub(super) struct Prepared {
    cg: Option<Cgroup>,
    counter: Counter,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(cg) = self.cg.take() {
            let _ = cg.remove(Duration::from_secs(5));
        }
    }
}

/// Make the cgroup, load and attach the programs, or say why eBPF cannot record here.
fn prepare() -> Result<Prepared, String> {
    const SYS_ADMIN: u64 = 1 << 21;
    const PERFMON: u64 = 1 << 38;
    const BPF: u64 = 1 << 39;
    let caps = effective_caps();
    if caps & SYS_ADMIN == 0 && caps & (PERFMON | BPF) != PERFMON | BPF {
        return Err("eBPF recording needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)".into());
    }
    let layout: Layout = ebpf::layout().map_err(|e| e.to_string())?;
    let root = match ebpf::cgroup::cgroup2_mount() {
        Ok(Some(root)) => root,
        _ => return Err(ebpf::Refusal::NoCgroup2.to_string()),
    };
    let cg = Cgroup::create(&root).map_err(|e| {
        format!(
            "cannot create the recording's cgroup under {}: {e}",
            root.display()
        )
    })?;
    // loaded and attached here, so that `auto` falls back to notify when either fails (the
    // cgroup is still empty: nothing is counted before the command joins)
    let ready = Counter::load(cg.id(), cg.level(), layout).and_then(|mut c| {
        c.attach()?;
        Ok(c)
    });
    match ready {
        Ok(counter) => Ok(Prepared {
            cg: Some(cg),
            counter,
        }),
        Err(e) => {
            let _ = cg.remove(Duration::from_secs(5));
            Err(e.to_string())
        }
    }
}

/// The mechanism for `a`: None for notify, the prepared recording for eBPF. An explicit
/// `--mode ebpf` that cannot be honoured is an error; `auto` says which it took, and why.
pub(super) fn choose(a: &RecordArgs) -> anyhow::Result<Option<Prepared>> {
    let say = |m: &str| {
        if !a.quiet {
            eprintln!("confine record: {m}");
        }
    };
    match a.mode {
        ModeArg::Notify => Ok(None),
        ModeArg::Ebpf => {
            if let Some(opt) = notify_only(a) {
                bail!("{opt} needs --mode notify: eBPF mode records counts only (no arguments, paths, ports or trace)");
            }
            prepare().map(Some).map_err(|why| {
                anyhow::anyhow!(
                    "cannot record with eBPF: {why}; --mode notify records unprivileged"
                )
            })
        }
        ModeArg::Auto => {
            if let Some(opt) = notify_only(a) {
                say(&format!("mode notify ({opt} needs it)"));
                return Ok(None);
            }
            match prepare() {
                Ok(p) => {
                    say("mode ebpf (root, and the program loads: counts only, near-zero overhead)");
                    Ok(Some(p))
                }
                Err(why) => {
                    say(&format!("mode notify ({why})"));
                    Ok(None)
                }
            }
        }
    }
}

/// The live line's process, ended when `end` is dropped.
fn start_live(counter: &Counter) -> anyhow::Result<std::os::fd::OwnedFd> {
    let map = counter
        .counts_map()
        .try_clone_to_owned()
        .context("starting the live line")?;
    let (r, w) = confine_kernel::terminal::pipe().context("starting the live line")?;
    let one = SingleThreaded::check().context("starting the live line")?;
    let keep = [map.as_raw_fd(), r.as_raw_fd()];
    detach(&keep, move || ebpf::live(map, r), one).context("starting the live line")?;
    Ok(w)
}

/// Record `a`'s command with eBPF.
pub(super) fn run(a: RecordArgs, mut prepared: Prepared) -> anyhow::Result<Outcome> {
    let cg = prepared
        .cg
        .take()
        .expect("a prepared recording has its cgroup");
    let counter = &mut prepared.counter;
    let started = Instant::now();
    let counted = (|| {
        let live = (!a.quiet && std::io::stderr().is_terminal())
            .then(|| start_live(counter))
            .transpose()?;
        let mut req = RunRequest {
            command: a.command.clone(),
            security_opt: a.security_opt.clone(),
            seccomp: Some("unconfined".into()),
            record_cgroup: Some(CgroupRecording {
                procs: cg.procs().as_raw_fd(),
                wait_all: a.until == UntilArg::All,
            }),
            ..RunRequest::default()
        };
        super::super::run::process(&mut req, a.process.clone());
        let quiet = a.quiet;
        let print = &mut |n: Note| {
            if !quiet || n.is_diagnostic() {
                eprintln!("{n}");
            }
        };
        let ran = confine_runtime::plan(&req, print).and_then(|p| p.execute(print));
        counter.detach();
        drop(live);
        let counts = counter.counts().context("reading the recording's map");
        let losses = counter.losses().context("reading the recording's map");
        anyhow::Ok((ran, counts, losses))
    })();
    // the program and its maps go now (they would with confine's exit anyway)
    drop(prepared);
    // the command's leftovers (--until main without a pid namespace) are killed with it
    if let Err(e) = cg.remove(Duration::from_secs(5)) {
        eprintln!("confine record: cannot remove the recording's cgroup: {e}");
    }
    let (ran, counts, losses) = counted?;
    let ended = ran?;
    let mut rec = Recording::new(ArgSpec::default(), a.arg_limit as usize);
    let mut reasons = Vec::new();
    match counts {
        Ok(c) => ebpf::add_counts(&mut rec, &c),
        Err(e) => reasons.push(format!("{e:#}")),
    }
    let mut by_kind = None;
    match losses {
        Ok(l) => {
            reasons.extend(l.reasons());
            by_kind = Some(l.by_kind());
        }
        Err(e) => reasons.push(format!("{e:#}")),
    }
    let incomplete = (!reasons.is_empty()).then(|| reasons.join("; "));
    let mut rec = rec.finish();
    rec.mode = Mode::Ebpf;
    rec.incomplete = incomplete;
    rec.ebpf_losses = by_kind;
    rec.duration_ms = started.elapsed().as_millis() as u64;
    if let Ended::NotExecuted { command, why } = &ended {
        eprintln!("confine: {command}: {why}");
        return Ok(Outcome::Code(crate::exit::of_run(&ended)));
    }
    if let (None, Ended::Signaled(s)) = (&rec.incomplete, &ended) {
        rec.incomplete = Some(format!(
            "the command was killed by signal {s}: calls it did not reach are missing"
        ));
    }
    conclude(
        &a,
        rec,
        ended,
        runtime_list(a.runtime.unwrap_or(RuntimeArg::Confine)),
    )
}
