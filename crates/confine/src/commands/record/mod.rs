//! `confine record`: run a command as `confine run` would, with a recording filter in place
//! of the seccomp profile, and write the profile (and policy) it needs.
//!
//! Two processes: confine runs the command (plan and execute, as `run`), and a detached
//! recorder (`confine_record::serve`) takes the command's seccomp listener when the command
//! hands it over, answers every call, and sends back what it gathered when the last recorded
//! process is gone. The profile, policy, trace and summary are written here.

use crate::{exit, output, Outcome};
use anyhow::{bail, Context};
use confine_cli::{RecordArgs, RuntimeArg, UntilArg};
use confine_kernel::notify::socket_pair;
use confine_kernel::spawn::{detach, SingleThreaded};
use confine_record::args::ArgSpec;
use confine_record::recording::Recorded;
use confine_record::{profile, Options};
use confine_runtime::{Ended, Note, Recording, RunRequest};
use std::fs::File;
use std::io::{IsTerminal, Read};
use std::os::fd::AsRawFd;
use std::path::Path;

mod agent;
mod ebpf;
mod summary;

pub(super) fn runtime_list(r: RuntimeArg) -> Option<Vec<String>> {
    let text = match r {
        RuntimeArg::Confine => return None,
        RuntimeArg::None => "",
        RuntimeArg::Runc => confine_record::RUNTIME_RUNC,
        RuntimeArg::Crun => confine_record::RUNTIME_CRUN,
    };
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect(),
    )
}

/// Say on the profile's first rule how it was made (complete or not).
pub(super) fn mark(doc: &mut serde_json::Value, text: String) {
    if let Some(first) = doc
        .get_mut("syscalls")
        .and_then(|s| s.as_array_mut())
        .and_then(|s| s.first_mut())
        .and_then(|r| r.as_object_mut())
    {
        first.insert("comment".into(), serde_json::Value::String(text));
    }
}

/// The run that records (or, with `socket` None, the run that verifies).
fn request(a: &RecordArgs, socket: Option<i32>) -> RunRequest {
    let mut req = RunRequest {
        command: a.command.clone(),
        security_opt: a.security_opt.clone(),
        seccomp: Some("unconfined".into()),
        record: socket.map(|socket| Recording {
            socket,
            wait_all: a.until == UntilArg::All,
        }),
        ..RunRequest::default()
    };
    super::run::process(&mut req, a.process.clone());
    req
}

/// Create `path` for writing: a new or truncated regular file, never through a symlink at its
/// last component.
fn create(path: &Path) -> anyhow::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)
        .and_then(|f| {
            // an existing file keeps its mode otherwise: the trace holds every call's arguments
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            Ok(f)
        })
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Record the command; the exit status follows `docker run`.
pub fn run(a: RecordArgs) -> anyhow::Result<Outcome> {
    if a.agent.is_some() {
        return agent::run(&a);
    }
    // descriptors 3 .. 3+N go to the command (--preserve-fds, LISTEN_FDS): reserved before
    // the recorder's socket, pipe, cgroup or eBPF descriptors are opened, so that none of
    // them lands there and is passed on
    let listen = confine_runtime::descriptors::listen_fds();
    let keep = confine_runtime::descriptors::kept(listen, a.process.preserve_fds)?;
    confine_runtime::descriptors::reserve(keep)?;
    if a.security_opt.iter().any(|o| {
        o.to_str()
            .is_some_and(|s| s.starts_with("seccomp=") || s.starts_with("seccomp:"))
    }) {
        bail!("--security-opt seccomp= cannot be given to record: the recording takes the profile's place");
    }
    if let Some(prepared) = ebpf::choose(&a)? {
        return ebpf::run(a, prepared);
    }
    let spec = match &a.args {
        None => ArgSpec::default(),
        Some(list) => ArgSpec::parse(list)?,
    };
    let runtime = runtime_list(a.runtime.unwrap_or(RuntimeArg::Confine));
    let trace = a.trace.as_deref().map(create).transpose()?;
    let (ours, theirs) = socket_pair().context("creating the recorder's socket")?;
    let (result_r, result_w) =
        confine_kernel::terminal::pipe().context("creating the recorder's pipe")?;
    let live = !a.quiet && std::io::stderr().is_terminal();
    let mut keep = vec![ours.as_raw_fd(), result_w.as_raw_fd()];
    keep.extend(trace.as_ref().map(|t| t.as_raw_fd()));
    let options = Options {
        spec,
        limit: a.arg_limit as usize,
        trace,
        live,
        files: a.policy_out.is_some(),
    };
    let one = SingleThreaded::check().context("cannot start the recorder")?;
    detach(
        &keep,
        move || confine_record::serve(ours, File::from(result_w), options),
        one,
    )
    .context("cannot start the recorder")?;

    let quiet = a.quiet;
    let print = &mut |n: Note| {
        if !quiet || n.is_diagnostic() {
            eprintln!("{n}");
        }
    };
    let ran = confine_runtime::plan(&request(&a, Some(theirs.as_raw_fd())), print)
        .and_then(|p| p.execute(print));
    // the recorder's end of the hand-over closes with the command's: it ends when the last
    // recorded process has, which is now; a recorder that does not answer (stopped by a
    // command that could signal it) is not waited for forever
    drop(theirs);
    let mut text = String::new();
    let mut result = File::from(result_r).take(256 << 20);
    loop {
        match confine_kernel::notify::poll_one(result.get_ref().as_raw_fd(), 30_000)? {
            None => bail!("the recorder did not send its result within 30 s of the command's end"),
            Some(_) => {
                let mut chunk = [0u8; 65536];
                let n = result
                    .read(&mut chunk)
                    .context("reading the recorder's result")?;
                if n == 0 {
                    break;
                }
                text.push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        }
    }
    let ended = ran?;
    let mut rec: Recorded = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("the recorder ended without a result ({e})"))?;
    if let Some(why) = &rec.failed {
        bail!("nothing was recorded: {why}; the command was stopped before it ran");
    }
    if let Ended::NotExecuted { command, why } = &ended {
        eprintln!("confine: {command}: {why}");
        return Ok(Outcome::Code(exit::of_run(&ended)));
    }
    if let (None, Ended::Signaled(s)) = (&rec.incomplete, &ended) {
        rec.incomplete = Some(format!(
            "the command was killed by signal {s}: paths it did not reach are missing"
        ));
    }
    conclude(&a, rec, ended, runtime)
}

/// The profile, policy, verification and summary of a recording (either mode).
fn conclude(
    a: &RecordArgs,
    mut rec: Recorded,
    ended: Ended,
    runtime: Option<Vec<String>>,
) -> anyhow::Result<Outcome> {
    let known = confine_runtime::seccomp::calls_after_install(true);
    let rt = match &runtime {
        None => profile::Runtime::Confine(known),
        Some(list) => profile::Runtime::Listed(list),
    };
    // (the policy's completeness is known before the profile is marked)
    if rec
        .files
        .as_ref()
        .is_some_and(|f| f.overflow || f.unreadable_count > 0)
    {
        rec.incomplete.get_or_insert_with(|| {
            "some paths or addresses could not be recorded (see the policy notes)".into()
        });
    }
    let built = profile::build(&rec, rt, a.arg_limit as usize);
    let mut doc = built.profile.clone();
    mark(
        &mut doc,
        match &rec.incomplete {
            Some(why) => format!("INCOMPLETE recording by confine record: {why}"),
            None => "recorded by confine record".to_string(),
        },
    );
    if let Some(out) = &a.output {
        output::write_atomic(out, &profile::render(&doc))?;
    }
    if let Some(p) = &a.policy_out {
        let activity = rec.files.clone().unwrap_or_default();
        let (yaml, notes) =
            confine_record::policy::render(&activity, a.collapse.unwrap_or(0) as usize);
        for n in &notes {
            if !a.quiet {
                eprintln!("confine record: policy: {n}");
            }
        }
        output::write_atomic(p, &yaml)?;
    }
    let verified = if a.verify {
        Some(summary::verify(a, &doc, &ended)?)
    } else {
        None
    };
    let s = summary::Summary::new(&rec, &built, &ended, verified.as_ref());
    if let Some(r) = &a.report {
        output::write_atomic(
            r,
            &format!("{}\n", serde_json::to_string_pretty(&s.json())?),
        )?;
    }
    if a.json {
        eprintln!("{}", serde_json::to_string(&s.json())?);
    } else {
        eprint!("{}", s.text());
    }
    Ok(Outcome::Code(exit::of_run(&ended)))
}
