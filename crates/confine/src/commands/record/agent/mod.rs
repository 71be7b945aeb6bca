//! `confine record --agent SOCKET`: the OCI seccomp agent, and `--agent-profile`, the profile
//! that hands a container's calls to it.
//!
//! runc (1.1 and later) connects to the profile's `listenerPath` once per container and hands
//! over the notification descriptor; the agent records each container into DIR/NAME.json
//! when its last process is gone, and every running one (marked incomplete) at SIGTERM or
//! SIGINT. runc refuses SCMP_ACT_NOTIFY as the default action and on `write` (its own
//! hand-over writes), so the agent profile notifies every other known syscall, allows `write`
//! unseen, and the recorded profiles allow `write` as "assumed".

use crate::{output, Outcome};
use anyhow::{bail, Context};
use confine_abi::{Arch, SyscallTable};
use confine_cli::{RecordArgs, RuntimeArg};
use confine_profile::emit::{self, OutputFormat};
use confine_profile::{Action, Host, Resolution, Resolved, ResolvedRule, Source};
use confine_record::profile;
use std::collections::BTreeSet;
use std::sync::Arc;

mod serve;

/// The calls of runc's init, a Go program, that its runtime can make at any moment on the
/// thread that installed the filter (and on threads that thread starts), before runc has
/// handed the listener to the agent: notified then, nobody answers them and the container's
/// start hangs (seen here: 1 start in about 20 with `futex` notified; runc #4328 is the same
/// hang with `fcntl` in runc 1.2). Go's runtime/sys_linux_amd64.s: futex, usleep
/// (nanosleep), osyield (sched_yield), mmap, munmap, madvise, newosproc (clone, with
/// rt_sigprocmask around it), minit (sigaltstack, gettid), preemptM and signal forwarding
/// (getpid, tgkill), netpoll (epoll_pwait, epoll_ctl).
const GO_RUNTIME: [&str; 15] = [
    "clone",
    "epoll_ctl",
    "epoll_pwait",
    "futex",
    "getpid",
    "gettid",
    "madvise",
    "mmap",
    "munmap",
    "nanosleep",
    "rt_sigprocmask",
    "sched_yield",
    "sigaltstack",
    "tgkill",
    "write",
];

/// The calls the agent profile allows unseen, and recorded profiles allow as assumed:
/// `write`, which runc refuses to notify; with runc, its Go runtime's calls ([`GO_RUNTIME`]);
/// and the calls a process needs at any moment ([`profile::ALWAYS`], which recorded profiles
/// allow anyway), so that a container whose agent has stopped, and whose notified calls now
/// fail with ENOSYS, can still return from a signal handler and exit.
fn assumed(runtime: RuntimeArg) -> Vec<&'static str> {
    let mut v: BTreeSet<&'static str> = BTreeSet::from(["write"]);
    v.extend(profile::ALWAYS);
    if runtime == RuntimeArg::Runc {
        v.extend(GO_RUNTIME);
    }
    v.into_iter().collect()
}

/// The runtime the agent's containers run under (runc unless --runtime says otherwise).
fn runtime_of(a: &RecordArgs) -> RuntimeArg {
    a.runtime.unwrap_or(RuntimeArg::Runc)
}

fn listener_path(a: &RecordArgs) -> anyhow::Result<String> {
    let socket = a.agent.as_deref().expect("clap requires --agent");
    if !socket.is_absolute() {
        bail!(
            "--agent {}: the socket must be an absolute path (the runtime connects to it from the bundle's directory)",
            socket.display()
        );
    }
    socket
        .to_str()
        .map(str::to_string)
        .with_context(|| format!("--agent {}: not UTF-8", socket.display()))
}

/// The `--base` profile resolved for this host, checked: it must refuse by default (what it
/// does not name would run unseen) and trace nothing (a traced call runs as the tracer says,
/// unseen).
fn load_base(a: &RecordArgs, host: &Host) -> anyhow::Result<Option<Resolved>> {
    let Some(base) = &a.base else {
        return Ok(None);
    };
    let source = Source::from_arg(base);
    let parsed = confine_profile::load(&source)?;
    super::super::print_diagnostics(&parsed.diagnostics);
    let Some(p) = &parsed.profile else {
        bail!("--base {}: not a usable profile", source.label());
    };
    let Resolution::Filter(r) = confine_profile::resolve(p, host) else {
        bail!(
            "--base {}: it confines nothing (no default action and no rules)",
            source.label()
        );
    };
    if matches!(
        r.default_action,
        Action::Allow | Action::Log | Action::Trace
    ) {
        bail!(
            "--base {}: its default action is {}: the calls it does not name would run unseen by the agent",
            source.label(),
            r.default_action.as_str()
        );
    }
    if let Some(rule) = r.rules.iter().find(|r| r.action == Action::Trace) {
        bail!(
            "--base {}: it traces {} (SCMP_ACT_TRACE): a traced call runs as its tracer decides, unseen by the agent",
            source.label(),
            rule.names.join(", ")
        );
    }
    Ok(Some(r))
}

/// The profile to start containers with.
fn agent_profile(a: &RecordArgs) -> anyhow::Result<(Resolved, usize)> {
    let path = listener_path(a)?;
    let host = Host::detect();
    let mut r = match &a.base {
        None => {
            let arches: Vec<Arch> = host.arch.abis().to_vec();
            let mut names: BTreeSet<&str> = BTreeSet::new();
            for arch in &arches {
                if let Ok(t) = SyscallTable::for_arch(*arch) {
                    names.extend(t.entries().map(|(_, n)| n));
                }
            }
            for n in assumed(runtime_of(a)) {
                names.remove(n);
            }
            let rule = |names: Vec<String>, action| ResolvedRule {
                names: Arc::from(names),
                action,
                errno_ret: None,
                args: Vec::new(),
                comment: None,
                source_index: 0,
            };
            Resolved {
                default_action: Action::Errno,
                default_errno_ret: None,
                architectures: arches,
                flags: None,
                listener_path: None,
                listener_metadata: None,
                rules: vec![
                    rule(
                        names.iter().map(|s| s.to_string()).collect(),
                        Action::Notify,
                    ),
                    rule(
                        assumed(runtime_of(a))
                            .iter()
                            .map(|s| s.to_string())
                            .collect(),
                        Action::Allow,
                    ),
                ],
                host,
            }
        }
        Some(_) => {
            let mut r = load_base(a, &host)?.expect("a base was given");
            let mut rules = Vec::new();
            for rule in r.rules.drain(..) {
                // LOG lets the call run too: notified, it is seen
                if !matches!(rule.action, Action::Allow | Action::Log) {
                    rules.push(rule);
                    continue;
                }
                let (kept, notified): (Vec<String>, Vec<String>) = rule
                    .names
                    .iter()
                    .cloned()
                    .partition(|n| assumed(runtime_of(a)).contains(&n.as_str()));
                for (names, action) in [(notified, Action::Notify), (kept, Action::Allow)] {
                    if !names.is_empty() {
                        rules.push(ResolvedRule {
                            names: Arc::from(names),
                            action,
                            ..rule.clone()
                        });
                    }
                }
            }
            r.rules = rules;
            r
        }
    };
    r.listener_path = Some(path);
    r.listener_metadata = a.agent_metadata.clone();
    let notified = r
        .rules
        .iter()
        .filter(|r| r.action == Action::Notify)
        .flat_map(|r| r.names.iter())
        .collect::<BTreeSet<_>>()
        .len();
    Ok((r, notified))
}

fn print_profile(a: &RecordArgs) -> anyhow::Result<Outcome> {
    let (r, notified) = agent_profile(a)?;
    let text = emit::to_json(&r, OutputFormat::Oci);
    output::emit(&text, a.output.as_deref())?;
    if !a.quiet {
        let arches: Vec<&str> = r.architectures.iter().map(|a| a.kernel_name()).collect();
        eprintln!(
            "confine record: the agent profile notifies {notified} syscalls ({}) to {}; allowed unseen, and as assumed in recorded profiles: {} (runc refuses to notify write; runc's Go runtime must not wait for an agent that has no listener yet; a container must be able to exit if its agent stops)",
            arches.join(", "),
            r.listener_path.as_deref().unwrap_or_default(),
            assumed(runtime_of(a)).join(", ")
        );
    }
    Ok(Outcome::Code(0))
}

/// `confine record --agent …`.
pub fn run(a: &RecordArgs) -> anyhow::Result<Outcome> {
    // the runtime starts the containers: options about starting the command do not apply
    let p = &a.process;
    let ignored = [
        (!p.cap_add.is_empty(), "--cap-add"),
        (!p.cap_drop.is_empty(), "--cap-drop"),
        (p.user.is_some(), "--user"),
        (!p.group_add.is_empty(), "--group-add"),
        (p.workdir.is_some(), "--workdir"),
        (!p.env.is_empty(), "--env"),
        (!p.env_file.is_empty(), "--env-file"),
        (p.tty, "--tty"),
        (p.interactive, "--interactive"),
        (p.preserve_fds != 0, "--preserve-fds"),
        (p.unsafe_share_processes, "--unsafe-share-processes"),
        (!a.security_opt.is_empty(), "--security-opt"),
        (a.until != confine_cli::UntilArg::All, "--until"),
    ];
    if let Some((_, opt)) = ignored.iter().find(|(set, _)| *set) {
        bail!("{opt} does not apply to --agent: the runtime starts the containers, as their configuration says");
    }
    if a.agent_profile {
        print_profile(a)
    } else {
        serve::serve(a)
    }
}
