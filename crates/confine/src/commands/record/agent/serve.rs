//! Serving as the agent: the socket, the profile of each container as it ends, where it goes.
//!
//! Profile files are named when the container is handed over, in connection order, never
//! overwriting: NAME.json, then NAME~2.json … (`~` is not in a container name), and
//! NAME.exec.json for a process started in a running container (`runc exec`, a health
//! check). Each is written into a new temporary file in DIR and linked to its name only if
//! the name is still free (a file planted meanwhile moves it to the next name).

use super::{assumed, listener_path, load_base, runtime_of};
use crate::commands::record::{mark, runtime_list};
use crate::Outcome;
use anyhow::{bail, Context};
use confine_cli::RecordArgs;
use confine_profile::emit::{self, OutputFormat};
use confine_profile::{Action, Host, Resolved};
use confine_record::agent::{serve_agent, AgentEvent, AgentOptions, Container, MAX_CONTAINERS};
use confine_record::args::ArgSpec;
use confine_record::profile;
use confine_record::recording::Recorded;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A line on standard error; a standard error that fails (a closed pipe) does not stop the
/// agent, whose containers would then hang or lose their recordings.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The socket, created with mode 0600 (never through a path swapped afterwards); a stale
/// socket file (nobody listening) is replaced. Its device and inode, to remove it at the end
/// only if it is still this one.
fn bind(path: &Path) -> anyhow::Result<(std::os::unix::net::UnixListener, (u64, u64))> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::os::unix::net::UnixStream;
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
    let l = confine_kernel::unix::bind_private(path)
        .with_context(|| format!("--agent {}", path.display()))?;
    let m =
        std::fs::symlink_metadata(path).with_context(|| format!("--agent {}", path.display()))?;
    Ok((l, (m.dev(), m.ino())))
}

/// The profile files of this session.
struct Files {
    dir: PathBuf,
    taken: HashSet<String>,
}

impl Files {
    /// The first free name for `stem`: not given out in this session, not in DIR.
    fn reserve(&mut self, stem: &str) -> PathBuf {
        let mut k = 1u32;
        loop {
            let name = if k == 1 {
                format!("{stem}.json")
            } else {
                format!("{stem}~{k}.json")
            };
            let path = self.dir.join(&name);
            if !self.taken.contains(&name) && std::fs::symlink_metadata(&path).is_err() {
                self.taken.insert(name);
                return path;
            }
            k += 1;
        }
    }

    /// Write `text` under `path`, or the next free name of `stem` if something took `path`
    /// meanwhile; the name written.
    fn write(&mut self, stem: &str, mut path: PathBuf, text: &str) -> anyhow::Result<PathBuf> {
        for _ in 0..1000 {
            let mut f = tempfile::Builder::new()
                .prefix(".confine-")
                .tempfile_in(&self.dir)
                .with_context(|| format!("cannot write in {}", self.dir.display()))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.as_file().sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            match f.persist_noclobber(&path) {
                Ok(_) => return Ok(path),
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                    path = self.reserve(stem);
                }
                Err(e) => {
                    return Err(e.error).with_context(|| format!("cannot write {}", path.display()))
                }
            }
        }
        bail!(
            "cannot find a free name for {stem} in {}",
            self.dir.display()
        )
    }
}

/// The names the base allows only under argument conditions, with those rules.
fn conditional_only(base: &Resolved) -> HashMap<String, Vec<confine_profile::ResolvedRule>> {
    let allows =
        |r: &&confine_profile::ResolvedRule| matches!(r.action, Action::Allow | Action::Log);
    let whole: HashSet<&str> = base
        .rules
        .iter()
        .filter(allows)
        .filter(|r| r.args.is_empty())
        .flat_map(|r| r.names.iter().map(String::as_str))
        .collect();
    let mut out: HashMap<String, Vec<confine_profile::ResolvedRule>> = HashMap::new();
    for r in base
        .rules
        .iter()
        .filter(allows)
        .filter(|r| !r.args.is_empty())
    {
        for n in r.names.iter().filter(|n| !whole.contains(n.as_str())) {
            out.entry(n.clone()).or_default().push(r.clone());
        }
    }
    out
}

/// The base's rule `r` for `name` alone, as the JSON of an OCI rule (its `args`).
fn base_args(base: &Resolved, r: &confine_profile::ResolvedRule, name: &str) -> Value {
    let only = Resolved {
        rules: vec![confine_profile::ResolvedRule {
            names: std::sync::Arc::from(vec![name.to_string()]),
            action: Action::Allow,
            comment: None,
            ..r.clone()
        }],
        ..base.clone()
    };
    emit::to_value(&only, OutputFormat::Oci)["syscalls"][0]["args"].clone()
}

/// What keeping a recorded profile within its base changed.
#[derive(Default)]
struct WithinBase {
    /// Names given the base's argument conditions.
    carried: BTreeSet<String>,
    /// Names the base does not allow at all, left out (from the runtime's list, the assumed
    /// calls, the ones always allowed: the recorded calls were all notified, so allowed).
    dropped: BTreeSet<String>,
}

/// Keep the recorded profile within the base: the names the base allows only under argument
/// conditions keep those conditions (joined with recorded values on other arguments: the
/// agent profile notified such calls only when the conditions held, so the container never
/// needed more), and names the base does not allow are left out.
fn within_base(
    doc: &mut Value,
    base: &Resolved,
    conditional: &HashMap<String, Vec<confine_profile::ResolvedRule>>,
) -> WithinBase {
    let allowed: HashSet<&str> = base
        .rules
        .iter()
        .filter(|r| matches!(r.action, Action::Allow | Action::Log))
        .flat_map(|r| r.names.iter().map(String::as_str))
        .collect();
    let mut out = WithinBase::default();
    let Some(rules) = doc.get_mut("syscalls").and_then(Value::as_array_mut) else {
        return out;
    };
    let mut kept: Vec<Value> = Vec::new();
    for rule in rules.drain(..) {
        if rule["action"] != "SCMP_ACT_ALLOW" {
            kept.push(rule);
            continue;
        }
        let names: Vec<String> = rule["names"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let recorded_args = rule.get("args").and_then(Value::as_array).cloned();
        let mut whole = Vec::new();
        for n in names {
            if !allowed.contains(n.as_str()) {
                out.dropped.insert(n);
                continue;
            }
            let Some(base_rules) = conditional.get(&n) else {
                whole.push(n);
                continue;
            };
            out.carried.insert(n.clone());
            for b in base_rules {
                let bargs = base_args(base, b, &n);
                let bargs = bargs.as_array().cloned().unwrap_or_default();
                let index = |a: &Value| a["index"].as_u64();
                let args = match &recorded_args {
                    // recorded values on arguments the base does not compare: both hold
                    Some(r) if r.iter().all(|x| bargs.iter().all(|y| index(x) != index(y))) => {
                        r.iter().chain(bargs.iter()).cloned().collect()
                    }
                    _ => bargs,
                };
                let joined = json!({"names": [n], "action": "SCMP_ACT_ALLOW", "args": args});
                if !kept.contains(&joined) {
                    kept.push(joined);
                }
            }
        }
        if !whole.is_empty() {
            let mut r = rule.clone();
            r["names"] = json!(whole);
            if !kept.contains(&r) {
                kept.push(r);
            }
        }
    }
    *rules = kept;
    out
}

/// What one container's profile needs besides its recording.
struct Context_<'a> {
    a: &'a RecordArgs,
    runtime: Vec<String>,
    assumed: Vec<&'static str>,
    base: Option<(
        Resolved,
        HashMap<String, Vec<confine_profile::ResolvedRule>>,
    )>,
}

/// The profile of one container: its calls, the runtime's (as recorded before the execve and
/// as measured), the assumed ones, the base's conditions; and its report.
fn container_profile(cx: &Context_<'_>, c: &Container, rec: &Recorded) -> (Value, Value) {
    let mut names: BTreeSet<String> = cx.runtime.iter().cloned().collect();
    let recorded_runtime: Vec<String> = rec
        .runtime
        .iter()
        .filter_map(|s| s.call.name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    names.extend(recorded_runtime.iter().cloned());
    names.extend(cx.assumed.iter().map(|s| s.to_string()));
    let names: Vec<String> = names.into_iter().collect();
    let built = profile::build(
        rec,
        profile::Runtime::Listed(&names),
        cx.a.arg_limit as usize,
    );
    let mut doc = built.profile.clone();
    let within = match &cx.base {
        Some((base, conditional)) => within_base(&mut doc, base, conditional),
        None => WithinBase::default(),
    };
    mark(
        &mut doc,
        match &rec.incomplete {
            Some(why) => format!("INCOMPLETE recording by confine record --agent: {why}"),
            None => "recorded by confine record --agent".to_string(),
        },
    );
    let command: BTreeSet<&str> = rec
        .calls
        .iter()
        .filter_map(|s| s.call.name.as_deref())
        .collect();
    let report = json!({
        "container": c,
        "complete": rec.incomplete.is_none(),
        "incomplete": rec.incomplete,
        "events": rec.events,
        "syscalls": command.len(),
        "allowed": built.allowed.len(),
        "runtime_recorded": recorded_runtime,
        "assumed": cx.assumed,
        "base_conditions": within.carried,
        "beyond_base_left_out": within.dropped,
        "widenings": built.widenings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        "notes": rec.notes,
        "duration_ms": rec.duration_ms,
    });
    (doc, report)
}

/// Serve as the agent until SIGTERM, SIGINT, SIGHUP or SIGQUIT.
pub fn serve(a: &RecordArgs) -> anyhow::Result<Outcome> {
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
    let base = load_base(a, &Host::detect())?.map(|b| {
        let c = conditional_only(&b);
        (b, c)
    });
    let cx = Context_ {
        a,
        runtime: runtime_list(runtime_of(a)).unwrap_or_default(),
        assumed: assumed(runtime_of(a)),
        base,
    };
    // two descriptors a container (its connection and listener), and a margin
    let nofile = confine_kernel::unix::raise_nofile().unwrap_or(1024);
    let max_containers = (nofile.saturating_sub(64) / 2).clamp(1, MAX_CONTAINERS as u64) as usize;
    // before any thread: every thread started later has them blocked too
    let signals = confine_kernel::unix::signals_to_fd(&[
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGQUIT,
    ])
    .context("taking SIGTERM, SIGINT, SIGHUP and SIGQUIT")?;
    let (listener, id) = bind(&socket)?;
    if !a.quiet {
        say(&format!(
            "confine record: agent listening on {}; profiles go to {} (SIGTERM or SIGINT ends it)",
            socket.display(),
            dir.display()
        ));
    }
    let opts = AgentOptions {
        spec,
        limit: a.arg_limit as usize,
        max_containers,
    };
    let mut files = Files {
        dir: dir.clone(),
        taken: HashSet::new(),
    };
    let mut reserved: HashMap<u64, (String, PathBuf)> = HashMap::new();
    let (mut written, mut incomplete, mut refused, mut failed) = (0u32, 0u32, 0u32, 0u32);
    let served = serve_agent(listener, signals, opts, |e| match e {
        AgentEvent::Started(c) => {
            let stem = if c.exec {
                format!("{}.exec", c.name)
            } else {
                c.name.clone()
            };
            let path = files.reserve(&stem);
            if !a.quiet {
                say(&format!(
                    "confine record: {} {} (pid {}): recording into {}",
                    if c.exec {
                        "exec in container"
                    } else {
                        "container"
                    },
                    confine_record::printable(&c.id),
                    c.pid,
                    path.display()
                ));
            }
            reserved.insert(c.connection, (stem, path));
        }
        AgentEvent::Notice(n) => say(&format!("confine record: agent: {n}")),
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
            say(&format!(
                "confine record: agent: connection #{connection}{from} refused: {}",
                confine_record::printable(&why)
            ));
        }
        AgentEvent::Finished {
            container,
            recorded,
        } => {
            let (stem, path) = reserved
                .remove(&container.connection)
                .unwrap_or_else(|| (container.name.clone(), files.reserve(&container.name)));
            let (doc, mut report) = container_profile(&cx, &container, &recorded);
            match files.write(&stem, path, &profile::render(&doc)) {
                Ok(path) => {
                    written += 1;
                    if recorded.incomplete.is_some() {
                        incomplete += 1;
                    }
                    report["profile"] = json!(path.display().to_string());
                    if a.json {
                        say(&report.to_string());
                    } else if !a.quiet || recorded.incomplete.is_some() {
                        say(&format!(
                            "confine record: {} {}: {} syscalls, {} events{} -> {}",
                            if container.exec {
                                "exec in container"
                            } else {
                                "container"
                            },
                            confine_record::printable(&container.id),
                            report["syscalls"],
                            recorded.events,
                            match &recorded.incomplete {
                                Some(why) => format!(", INCOMPLETE ({why})"),
                                None => String::new(),
                            },
                            path.display()
                        ));
                    }
                }
                Err(e) => {
                    failed += 1;
                    say(&format!(
                        "confine record: container {}: {e:#}",
                        confine_record::printable(&container.id)
                    ));
                }
            }
        }
    });
    // remove the socket only if it is still the one bound (not a file put in its place)
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    if let Ok(m) = std::fs::symlink_metadata(&socket) {
        if m.file_type().is_socket() && (m.dev(), m.ino()) == id {
            let _ = std::fs::remove_file(&socket);
        }
    }
    let signal = served.context("the agent stopped")?;
    if !a.quiet {
        say(&format!(
            "confine record: agent stopped by signal {signal}: {written} profile(s) written ({incomplete} incomplete), {refused} connection(s) refused{}",
            if failed > 0 {
                format!(", {failed} profile(s) could not be written")
            } else {
                String::new()
            }
        ));
    }
    Ok(Outcome::Code(if failed > 0 { 125 } else { 0 }))
}
