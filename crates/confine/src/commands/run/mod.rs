//! `confine run`: Docker's confinement for any command.
//!
//! Thin: the command line becomes a [`RunRequest`], `confine_runtime` plans the run (every
//! option checked, every file read, the seccomp program compiled, before anything changes) and
//! executes it (crates/kernel/src/spawn applies the steps in runc's order); notes are printed
//! as they arise. Any part of the requested confinement that cannot be applied stops the
//! command before it runs: exit 125.

use crate::{exit, Outcome};
use confine_cli::{LandlockCompat, LsmArg, ProcessArgs, RunArgs, ScopeArg};
use confine_policy::landlock::Compat;
use confine_policy::Scope;
use confine_runtime::policy::{Lsm, QuickRules};
use confine_runtime::{Ended, Note, RunRequest};

/// The runtime's request for these arguments.
fn request(a: RunArgs) -> RunRequest {
    let mut req = RunRequest {
        command: a.command,
        security_opt: a.security_opt,
        seccomp: a.seccomp,
        apparmor: a.apparmor,
        apparmor_file: a.apparmor_file,
        privileged: a.privileged,
        policy: a.policy,
        rules: QuickRules {
            ro: a.ro,
            rw: a.rw,
            rox: a.rox,
            rwx: a.rwx,
            bind_tcp: a.bind_tcp,
            connect_tcp: a.connect_tcp,
            scopes: a
                .scope
                .iter()
                .map(|s| match s {
                    ScopeArg::Signal => Scope::Signal,
                    ScopeArg::AbstractUnix => Scope::AbstractUnix,
                })
                .collect(),
        },
        landlock_compat: match a.landlock_compat {
            LandlockCompat::Require => Compat::Require,
            LandlockCompat::BestEffort => Compat::BestEffort,
        },
        lsm: a.lsm.map(|l| match l {
            LsmArg::Apparmor => Lsm::AppArmor,
            LsmArg::Landlock => Lsm::Landlock,
            LsmArg::Both => Lsm::Both,
        }),
        record: None,
        ..RunRequest::default()
    };
    process(&mut req, a.process);
    req
}

/// The command's process as asked for (`confine run` and `confine record` alike).
pub fn process(req: &mut RunRequest, p: ProcessArgs) {
    req.user = p.user;
    req.group_add = p.group_add;
    req.env = p.env;
    req.env_file = p.env_file;
    req.workdir = p.workdir;
    req.tty = p.tty;
    req.interactive = p.interactive;
    req.cap_add = p.cap_add;
    req.cap_drop = p.cap_drop;
    req.preserve_fds = p.preserve_fds;
    req.unsafe_share_processes = p.unsafe_share_processes;
}

/// Build the confinement and run the command. Notes are printed as they arise (with `--quiet`
/// only the profile's own diagnostics); the exit code follows `docker run` ([`crate::exit`]).
pub fn run(a: RunArgs) -> anyhow::Result<Outcome> {
    let quiet = a.quiet;
    let print = &mut |n: Note| {
        if !quiet || n.is_diagnostic() {
            eprintln!("{n}");
        }
    };
    let ended = confine_runtime::plan(&request(a), print).and_then(|p| p.execute(print))?;
    if let Ended::NotExecuted { command, why } = &ended {
        eprintln!("confine: {command}: {why}");
    }
    Ok(Outcome::Code(exit::of_run(&ended)))
}
