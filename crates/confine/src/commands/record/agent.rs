//! `confine record --agent SOCKET`: the OCI seccomp agent, and `--agent-profile`, the profile
//! that hands a container's calls to it.
//!
//! runc (1.1 and later) connects to the profile's `listenerPath` once per container and hands
//! over the notification descriptor; the agent records each container into DIR/NAME.json
//! when its last process is gone, and every running one (marked incomplete) at SIGTERM or
//! SIGINT. runc refuses SCMP_ACT_NOTIFY as the default action and on `write` (its own
//! hand-over writes), so the agent profile notifies every other known syscall, allows `write`
//! unseen, and the recorded profiles allow `write` as "assumed".

use super::runtime_list;
use crate::{output, Outcome};
use anyhow::{bail, Context};
use confine_abi::{Arch, SyscallTable};
use confine_cli::{RecordArgs, RuntimeArg};
use confine_profile::emit::{self, OutputFormat};
use confine_profile::{Action, Host, Resolution, Resolved, ResolvedRule, Source};
use confine_record::agent::{serve_agent, AgentEvent, AgentOptions, Container};
use confine_record::args::ArgSpec;
use confine_record::profile;
use confine_record::recording::Recorded;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
        Some(base) => {
            let source = Source::from_arg(base);
            let parsed = confine_profile::load(&source)?;
            super::super::print_diagnostics(&parsed.diagnostics);
            let Some(p) = &parsed.profile else {
                bail!("--base {}: not a usable profile", source.label());
            };
            let Resolution::Filter(mut r) = confine_profile::resolve(p, &host) else {
                bail!(
                    "--base {}: it confines nothing (no default action and no rules)",
                    source.label()
                );
            };
            if matches!(r.default_action, Action::Allow | Action::Log) {
                bail!(
                    "--base {}: its default action is {}: the calls it does not name would run unseen by the agent",
                    source.label(),
                    r.default_action.as_str()
                );
            }
            let mut rules = Vec::new();
            for rule in r.rules.drain(..) {
                if rule.action != Action::Allow {
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

/// The socket, bound with mode 0600; a stale socket file (nobody listening) is replaced.
fn bind(path: &Path) -> anyhow::Result<std::os::unix::net::UnixListener> {
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::net::{UnixListener, UnixStream};
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => bail!("--agent {}: another agent listens on it", path.display()),
            Err(_) => std::fs::remove_file(path).with_context(|| {
                format!("--agent {}: removing the stale socket", path.display())
            })?,
        },
        Ok(_) => bail!("--agent {}: exists and is not a socket", path.display()),
        Err(_) => {}
    }
    // the mode is narrowed right after bind; a process that connects in between is still
    // refused unless it is root or this user (SO_PEERCRED, checked per connection)
    let l = UnixListener::bind(path).with_context(|| format!("--agent {}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("--agent {}: setting its mode", path.display()))?;
    Ok(l)
}

/// Where a container's profile goes: NAME.json, NAME-2.json … when a name comes again.
fn file_for(dir: &Path, name: &str, used: &mut HashMap<String, u32>) -> PathBuf {
    let n = used.entry(name.to_string()).or_insert(0);
    *n += 1;
    if *n == 1 {
        dir.join(format!("{name}.json"))
    } else {
        dir.join(format!("{name}-{n}.json"))
    }
}

/// The profile of one container: its calls, the runtime's (as recorded before the execve and
/// as measured), and the assumed ones.
fn container_profile(
    rec: &Recorded,
    runtime: &[String],
    assumed: &[&str],
    limit: usize,
) -> (Value, profile::Built, Vec<String>) {
    let mut names: BTreeSet<String> = runtime.iter().cloned().collect();
    let recorded_runtime: Vec<String> = rec
        .runtime
        .iter()
        .filter_map(|s| s.call.name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    names.extend(recorded_runtime.iter().cloned());
    names.extend(assumed.iter().map(|s| s.to_string()));
    let names: Vec<String> = names.into_iter().collect();
    let built = profile::build(rec, profile::Runtime::Listed(&names), limit);
    let mut doc = built.profile.clone();
    let mark = match &rec.incomplete {
        Some(why) => format!("INCOMPLETE recording by confine record --agent: {why}"),
        None => "recorded by confine record --agent".to_string(),
    };
    super::mark(&mut doc, mark);
    (doc, built, recorded_runtime)
}

fn finished(
    c: &Container,
    rec: &Recorded,
    a: &RecordArgs,
    runtime: &[String],
    path: &Path,
) -> anyhow::Result<Value> {
    let (doc, built, recorded_runtime) =
        container_profile(rec, runtime, &assumed(runtime_of(a)), a.arg_limit as usize);
    output::write_atomic(path, &profile::render(&doc))?;
    let command: BTreeSet<&str> = rec
        .calls
        .iter()
        .filter_map(|s| s.call.name.as_deref())
        .collect();
    Ok(json!({
        "container": c,
        "profile": path.display().to_string(),
        "complete": rec.incomplete.is_none(),
        "incomplete": rec.incomplete,
        "events": rec.events,
        "syscalls": command.len(),
        "allowed": built.allowed.len(),
        "runtime_recorded": recorded_runtime,
        "assumed": assumed(runtime_of(a)),
        "widenings": built.widenings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        "notes": rec.notes,
        "duration_ms": rec.duration_ms,
    }))
}

/// Serve as the agent until SIGTERM or SIGINT.
fn serve(a: &RecordArgs) -> anyhow::Result<Outcome> {
    let socket = PathBuf::from(listener_path(a)?);
    let Some(dir) = &a.output else {
        bail!("--agent needs -o DIR, the directory the profiles go to");
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("-o {}: not a directory", dir.display()),
        Err(e) => bail!("-o {}: {e}", dir.display()),
    }
    let spec = match &a.args {
        None => ArgSpec::default(),
        Some(list) => ArgSpec::parse(list)?,
    };
    let runtime = runtime_list(runtime_of(a)).unwrap_or_default();
    // before any thread: every thread started later has them blocked too
    let signals = confine_kernel::unix::signals_to_fd(&[libc::SIGTERM, libc::SIGINT])
        .context("taking SIGTERM and SIGINT")?;
    let listener = bind(&socket)?;
    if !a.quiet {
        eprintln!(
            "confine record: agent listening on {}; profiles go to {} (SIGTERM or SIGINT ends it)",
            socket.display(),
            dir.display()
        );
    }
    let opts = AgentOptions {
        spec,
        limit: a.arg_limit as usize,
    };
    let mut used = HashMap::new();
    let (mut written, mut incomplete, mut refused, mut failed) = (0u32, 0u32, 0u32, 0u32);
    let served = serve_agent(listener, signals, opts, |e| match e {
        AgentEvent::Started(c) => {
            if !a.quiet {
                eprintln!(
                    "confine record: container {} (pid {}): recording as {}",
                    confine_record::printable(&c.id),
                    c.pid,
                    c.name
                );
            }
        }
        AgentEvent::Refused {
            connection,
            peer,
            why,
        } => {
            refused += 1;
            let from = match peer {
                Some((pid, uid, _)) => format!(" from pid {pid} (uid {uid})"),
                None => String::new(),
            };
            eprintln!(
                "confine record: agent: connection #{connection}{from} refused: {}",
                confine_record::printable(&why)
            );
        }
        AgentEvent::Finished {
            container,
            recorded,
        } => {
            let path = file_for(dir, &container.name, &mut used);
            match finished(&container, &recorded, a, &runtime, &path) {
                Ok(report) => {
                    written += 1;
                    if recorded.incomplete.is_some() {
                        incomplete += 1;
                    }
                    if a.json {
                        eprintln!("{report}");
                    } else if !a.quiet || recorded.incomplete.is_some() {
                        eprintln!(
                            "confine record: container {}: {} syscalls, {} events{} -> {}",
                            confine_record::printable(&container.id),
                            report["syscalls"],
                            recorded.events,
                            match &recorded.incomplete {
                                Some(why) => format!(", INCOMPLETE ({why})"),
                                None => String::new(),
                            },
                            path.display()
                        );
                    }
                }
                Err(e) => {
                    failed += 1;
                    eprintln!(
                        "confine record: container {}: {e:#}",
                        confine_record::printable(&container.id)
                    );
                }
            }
        }
    });
    let _ = std::fs::remove_file(&socket);
    let signal = served.context("the agent stopped")?;
    if !a.quiet {
        eprintln!(
            "confine record: agent stopped by signal {signal}: {written} profile(s) written ({incomplete} incomplete), {refused} connection(s) refused"
        );
    }
    Ok(Outcome::Code(if failed > 0 { 125 } else { 0 }))
}

/// `confine record --agent …`.
pub fn run(a: &RecordArgs) -> anyhow::Result<Outcome> {
    if a.agent_profile {
        print_profile(a)
    } else {
        serve(a)
    }
}
