//! `confine run`: Docker's confinement for any command.
//!
//! Everything is parsed, resolved and compiled first; only then does the child change
//! anything (crates/kernel/src/spawn.rs applies the steps in runc's order). Any part of the
//! requested confinement that cannot be applied stops the command before it runs: exit 125.

mod env;
mod isolation;
mod options;
mod users;

use crate::precompiled;
use crate::Outcome;
use anyhow::{anyhow, bail, Context};
use confine_abi::{Arch, CapSet, SyscallTable};
use confine_bpf::{Emulator, Insn, SeccompData};
use confine_cli::RunArgs;
use confine_kernel::process::{self, CapSets};
use confine_kernel::spawn::{spawn, Command, Confinement, Outcome as Ended, SingleThreaded, Stage};
use confine_kernel::terminal::{is_tty, Terminal};
use confine_kernel::InstallFlags;
use confine_profile::{caps, Flag, Host, Resolution, Source};
use confine_seccomp::{compile_prepared, Generator, Options};
use isolation::Privilege;
use options::SeccompChoice;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The largest file `run` reads (env files, /etc/passwd, /etc/group, AppArmor files).
const MAX_FILE: u64 = 16 << 20;

/// Read a regular file of at most 16 MiB (confine-input: a FIFO, a device or a larger file is
/// an error naming it, never a hang or an unbounded read).
pub(crate) fn read_small_file(path: &Path) -> Result<Vec<u8>, confine_input::InputError> {
    confine_input::read(path, MAX_FILE)
}

/// The calls confine makes after the filter is in must pass it (runc has the same
/// constraint). Without no_new_privs the filter goes in while CAP_SYS_ADMIN is still held,
/// before the capability and id changes; with it, just before the last steps. The program
/// itself is run in the emulator for each call. A profile that denies execve is named as such.
fn check_after_install(prog: &[Insn], arch: Arch, before_ids: bool) -> anyhow::Result<()> {
    let t = SyscallTable::for_arch(arch)?;
    let emu = Emulator::new(prog).context("the compiled seccomp program")?;
    let verdict = |name: &str, args: [u64; 6]| {
        let nr = t.number(name)?;
        let data = SeccompData {
            nr,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args,
        };
        let v = emu.run(&data, arch.is_little_endian()).ret;
        (v != confine_bpf::action::ALLOW && v != confine_bpf::action::LOG).then_some(v)
    };
    if let Some(v) = verdict("execve", [0; 6]) {
        bail!(
            "the seccomp profile denies execve ({}): no command could ever start under it",
            confine_bpf::action::describe(v)
        );
    }
    let ids: [(&str, [u64; 6]); 6] = [
        ("prctl", [24, 0, 0, 0, 0, 0]), // PR_CAPBSET_DROP
        ("prctl", [47, 4, 0, 0, 0, 0]), // PR_CAP_AMBIENT, CLEAR_ALL
        ("setgroups", [0; 6]),
        ("setresgid", [0; 6]),
        ("setresuid", [0; 6]),
        ("capset", [0; 6]),
    ];
    let last: [(&str, [u64; 6]); 4] = [
        ("prctl", [1, 9, 0, 0, 0, 0]), // PR_SET_PDEATHSIG, SIGKILL
        ("getppid", [0; 6]),
        ("chdir", [0; 6]),
        ("exit_group", [125, 0, 0, 0, 0, 0]),
    ];
    let needed = if before_ids { &ids[..] } else { &[] };
    for &(name, args) in needed.iter().chain(&last) {
        if let Some(v) = verdict(name, args) {
            bail!(
                "the seccomp profile does not allow {name} ({}), which confine must call after installing the filter{}",
                confine_bpf::action::describe(v),
                if before_ids {
                    " (without no_new_privs the filter goes in while CAP_SYS_ADMIN is held, as in runc); add --security-opt no-new-privileges"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}

/// The program and install flags for a `--security-opt seccomp=` value, or None when the
/// profile resolves to no filter. The builtin profile with Docker's default capabilities comes
/// ready from build time (crate::precompiled); everything else is compiled here.
fn seccomp_program(spec: &OsStr, host: &Host) -> anyhow::Result<Option<(Vec<Insn>, InstallFlags)>> {
    let source = Source::from_arg(spec);
    if matches!(source, Source::Builtin) {
        if let Some((prog, f)) = precompiled::builtin(host) {
            let flags = InstallFlags {
                log: f.log,
                spec_allow: f.spec_allow,
                wait_killable_recv: f.wait_killable_recv,
                new_listener: false,
                tsync: false,
            };
            return Ok(Some((prog.to_vec(), flags)));
        }
    }
    let prepared = confine_seccomp::prepare(&source, host)?;
    // the parser's own diagnostics; an unconfined profile's say that it confines nothing
    for d in &prepared.parsed.diagnostics {
        eprintln!("{d}");
    }
    let r = match &prepared.resolution {
        None => bail!("seccomp profile {} has errors", source.label()),
        Some(Resolution::Unconfined) => return Ok(None),
        Some(Resolution::Filter(r)) => r,
    };
    if r.rules
        .iter()
        .any(|x| x.action == confine_profile::Action::Notify)
    {
        bail!("SCMP_ACT_NOTIFY needs a seccomp agent, which confine run does not provide yet");
    }
    let compiled = compile_prepared(prepared, Options::default(), Generator::Optimized)?;
    let (policy, prog) = (compiled.policy, compiled.program);
    let flags = InstallFlags {
        log: policy.flags.contains(&Flag::Log),
        spec_allow: policy.flags.contains(&Flag::SpecAllow),
        wait_killable_recv: policy.flags.contains(&Flag::WaitKillableRecv),
        new_listener: false,
        tsync: false,
    };
    Ok(Some((prog, flags)))
}

/// Build the confinement and run the command.
pub fn run(a: RunArgs) -> anyhow::Result<Outcome> {
    match prepare_and_run(&a) {
        Ok(o) => Ok(o),
        Err(e) => {
            eprintln!("confine: {e:#}");
            Ok(Outcome::Code(crate::exit::RUN_ERROR))
        }
    }
}

/// The AppArmor profile to execute the command in, and what must be loaded first; as Docker:
/// docker-default when AppArmor is enabled (loaded when missing), a note when not; an
/// explicitly named profile must be loaded already.
struct AppArmorChoice {
    profile: Option<String>,
    load_default: Option<String>,
    load_file: Option<String>,
}

fn apparmor_choice(a: &RunArgs, named: Option<&str>) -> anyhow::Result<AppArmorChoice> {
    let aa = super::apparmor::detect();
    let mut c = AppArmorChoice {
        profile: None,
        load_default: None,
        load_file: None,
    };
    if let Some(file) = &a.apparmor_file {
        if let Some(why) = aa.why_cannot_load() {
            bail!("--apparmor-file {}: {why}", file.display());
        }
        let bytes =
            read_small_file(file).with_context(|| format!("--apparmor-file {}", file.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow!("--apparmor-file {}: not UTF-8", file.display()))?;
        let parser_path = aa.parser.as_deref().expect("checked by why_cannot_load");
        let names =
            confine_apparmor::parser::profile_names(parser_path, &text, &Default::default())
                .map_err(|e| anyhow!("AppArmor profile {}: {e}", file.display()))?;
        let [name] = names.as_slice() else {
            bail!(
                "--apparmor-file {} defines {} profiles, not one",
                file.display(),
                names.len()
            );
        };
        c.load_file = Some(text);
        c.profile = Some(name.clone());
        return Ok(c);
    }
    match named {
        Some("unconfined") => {}
        Some(name) => {
            if let Some(why) = aa.why_not_enabled() {
                bail!("AppArmor profile {name} requested, but {why}");
            }
            if !confine_apparmor::kernel::is_loaded(name)
                .context("reading the kernel's list of AppArmor profiles")?
            {
                bail!("AppArmor profile {name} is not loaded (load it with: confine apparmor load FILE)");
            }
            c.profile = Some(name.to_string());
        }
        None if a.privileged => {}
        None => match aa.why_not_enabled() {
            Some(why) => eprintln!("confine: {why}: running without an AppArmor profile"),
            None => {
                const DEFAULT: &str = "docker-default";
                if !confine_apparmor::kernel::is_loaded(DEFAULT)
                    .context("reading the kernel's list of AppArmor profiles")?
                {
                    // rendered now, loaded once everything else has been checked
                    if let Some(why) = aa.why_cannot_load() {
                        bail!("AppArmor profile docker-default is not loaded and cannot be: {why}");
                    }
                    let t = confine_cli::TemplateArgs {
                        name: DEFAULT.into(),
                        daemon_profile: None,
                        abi: "auto".into(),
                        no_includes: false,
                        apparmor_dir: "/etc/apparmor.d".into(),
                    };
                    c.load_default = Some(confine_apparmor::template::render(
                        &super::apparmor::params(&t)?,
                    ));
                }
                c.profile = Some(DEFAULT.to_string());
            }
        },
    }
    Ok(c)
}

/// Descriptors passed by systemd socket activation (`LISTEN_FDS` for confine's own pid), as
/// runc takes them: they come first, and the command gets `LISTEN_FDS` and its own
/// `LISTEN_PID`.
fn listen_fds() -> u32 {
    let pid_matches = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    if !pid_matches {
        return 0;
    }
    std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Keep descriptors 3 .. 3+n for the command: any of them not open now is taken by
/// /dev/null, so that nothing confine opens later lands there and leaks into the command.
fn reserve_descriptors(n: u32) -> anyhow::Result<()> {
    use std::os::fd::IntoRawFd;
    let open = |fd: u32| Path::new(&format!("/proc/self/fd/{fd}")).exists();
    while let Some(free) = (3..3 + n).find(|&fd| !open(fd)) {
        let f = std::fs::File::open("/dev/null").context("opening /dev/null")?;
        let got = f.into_raw_fd() as u32;
        if got != free {
            bail!("cannot keep descriptor {free} for --preserve-fds");
        }
    }
    Ok(())
}

fn prepare_and_run(a: &RunArgs) -> anyhow::Result<Outcome> {
    let listen = listen_fds();
    let keep_fds = listen
        .checked_add(a.preserve_fds)
        .filter(|n| *n < 1 << 20)
        .ok_or_else(|| anyhow!("--preserve-fds {} is too large", a.preserve_fds))?;
    reserve_descriptors(keep_fds)?;
    let opts = options::parse(a)?;
    let who = Privilege::current()?;
    let last_cap = process::last_cap().context("reading /proc/sys/kernel/cap_last_cap")?;
    let held = CapSet(process::bounding_set(last_cap)?);
    // capabilities as docker run grants them, limited to what confine itself can hand on
    let granted = if a.privileged {
        held
    } else {
        let t = caps::tweak(CapSet::docker_default(), &a.cap_add, &a.cap_drop, held)
            .context("--cap-add/--cap-drop")?;
        let missing = CapSet(t.0 & !held.0);
        if !missing.is_empty() {
            bail!("cannot grant {missing}: confine's own bounding set does not hold it");
        }
        t
    };

    // seccomp: docker's choice of profile
    let profile = match (&opts.seccomp, a.privileged) {
        (SeccompChoice::Unconfined, _) | (SeccompChoice::Default, true) => None,
        (SeccompChoice::Default, false) => Some(std::ffi::OsString::from("builtin")),
        (SeccompChoice::Profile(p), _) => Some(p.clone()),
    };
    let host = Host {
        arch: Arch::native(),
        caps: granted,
        kernel: confine_profile::resolve::running_kernel()
            .ok_or_else(|| anyhow!("cannot read the running kernel's version"))?,
    };
    let seccomp = match profile {
        None => None,
        Some(spec) => seccomp_program(&spec, &host)?,
    };
    let aa = apparmor_choice(a, opts.apparmor.as_deref())?;

    // who the command runs as: runc's lookup; without the privilege to change ids, confine's
    // own (rootless use)
    let passwd = users::Db::read("/etc/passwd")?;
    let group = users::Db::read("/etc/group")?;
    let can_change_ids = who.has("SETUID") && who.has("SETGID");
    let spec = match (&a.user, can_change_ids) {
        (Some(u), _) => Some(u.clone()),
        (None, true) => None,
        (None, false) => Some(format!("{}:{}", who.uid, who.gid)),
    };
    let user = users::resolve(spec.as_deref(), &a.group_add, &passwd, &group)?;
    let ids = if can_change_ids {
        Some((user.groups.clone(), user.gid, user.uid))
    } else if (user.uid, user.gid) == (who.uid, who.gid) && a.group_add.is_empty() {
        None
    } else {
        bail!(
            "running as {}:{} needs CAP_SETUID and CAP_SETGID, which confine (uid {}) lacks",
            user.uid,
            user.gid,
            who.uid
        );
    };
    let root_command = user.uid == 0;

    // the terminal: never the caller's (docker run gives pipes without -t, a new pty with it)
    let terminal = if a.tty {
        Terminal::Pty {
            interactive: a.interactive,
        }
    } else if (0..3).any(is_tty) {
        Terminal::Relay {
            stdin: a.interactive,
        }
    } else {
        Terminal::Inherit
    };

    let mut env = env::build(&a.env_file, &a.env, a.tty, user.home.as_deref())?;
    if listen > 0 {
        env.set("LISTEN_FDS", listen.to_string());
    }
    let path_var = env.get("PATH").map(OsStr::to_os_string);
    let envp = env.into_cstrings()?;
    let cmd = a.command[0].as_os_str();
    let candidates = env::candidates(cmd, path_var.as_deref())?;
    let argv = a
        .command
        .iter()
        .map(|s| CString::new(s.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| anyhow!("an argument contains a NUL byte"))?;
    let workdir = a
        .workdir
        .as_ref()
        .map(|w| CString::new(w.as_os_str().as_bytes()))
        .transpose()
        .map_err(|_| anyhow!("the working directory contains a NUL byte"))?;
    // The one change before the child: docker-default goes into the kernel when missing, as
    // dockerd loads it before creating a container.
    if let Some(text) = &aa.load_default {
        super::apparmor::load_text(text, false, &Default::default(), &super::apparmor::detect())
            .context("loading AppArmor profile docker-default")?;
    }
    if let (Some(text), Some(file)) = (&aa.load_file, &a.apparmor_file) {
        super::apparmor::load_text(text, false, &Default::default(), &super::apparmor::detect())
            .with_context(|| format!("loading AppArmor profile {}", file.display()))?;
    }
    let command = Command {
        candidates: &candidates,
        argv: &argv,
        envp: &envp,
        listen_pid: listen > 0,
    };
    // an unprivileged run tries a user namespace first, then a Landlock domain alone
    let mut landlock_only = false;
    loop {
        let plan = isolation::plan(
            &who,
            a.unsafe_share_processes,
            !opts.system_paths_unconfined,
            granted,
            root_command,
            seccomp.is_some(),
            landlock_only,
        )?;
        let no_new_privs = opts.no_new_privs || plan.no_new_privs_first;
        if plan.no_new_privs_first && !opts.no_new_privs {
            eprintln!("confine: note: setting no_new_privs: without CAP_SYS_ADMIN the seccomp filter and the Landlock domain need it");
        }
        if let Some((prog, _)) = &seccomp {
            check_after_install(prog, host.arch, !no_new_privs)?;
        }
        // the bounding set: dropping needs CAP_SETPCAP (in a user namespace, the init's); without
        // it it stays, and no_new_privs keeps the command from gaining what it holds
        let in_userns = plan.namespace.as_ref().is_some_and(|n| n.user.is_some());
        // a user namespace maps only the caller's own ids: other ids or groups (root without
        // CAP_SYS_ADMIN, say) need the Landlock path, where CAP_SETUID can change them
        let ids = match (&ids, in_userns) {
            (Some((groups, gid, uid)), true) => {
                if (*uid, *gid) != (who.uid, who.gid) || !groups.is_empty() {
                    eprintln!(
                        "confine: note: a user namespace would map only {}:{}, not {uid}:{gid} and its groups: isolating the command with a Landlock domain instead",
                        who.uid, who.gid
                    );
                    landlock_only = true;
                    continue;
                }
                None
            }
            (ids, _) => ids.clone(),
        };
        let bounding = if who.has("SETPCAP") || in_userns {
            Some(granted.0)
        } else {
            let extra = CapSet(held.0 & !granted.0);
            if !extra.is_empty() {
                if !no_new_privs {
                    bail!("cannot drop {extra} from the bounding set without CAP_SETPCAP; add --security-opt no-new-privileges");
                }
                eprintln!(
                    "confine: note: the bounding set keeps {} capabilities Docker would drop (dropping needs CAP_SETPCAP); no_new_privs keeps the command from gaining them",
                    extra.0.count_ones()
                );
            }
            None
        };
        let caps = Some(if root_command {
            CapSets {
                effective: granted.0,
                permitted: granted.0,
                inheritable: 0,
            }
        } else {
            CapSets::default()
        });

        let confinement = Confinement {
            apparmor_exec: aa.profile.clone(),
            seccomp: seccomp.clone(),
            no_new_privs,
            no_new_privs_first: plan.no_new_privs_first,
            landlock: plan.landlock,
            bounding,
            last_cap,
            caps,
            ids,
            workdir: workdir.clone(),
            namespace: plan.namespace,
            keep_fds,
            terminal,
        };
        // confine starts no thread: a second one here is a bug, refused before anything runs
        let one = SingleThreaded::check().context("cannot start the command")?;
        let outcome = spawn(&command, &confinement, one)?;
        if let (Ended::Failed(stage @ (Stage::Clone | Stage::Namespace), e), true) =
            (&outcome, in_userns)
        {
            eprintln!(
                "confine: note: no user namespace here ({} failed: {e}): isolating the command with a Landlock domain instead",
                stage.describe()
            );
            landlock_only = true;
            continue;
        }
        return match outcome {
            Ended::Exited(c) => Ok(Outcome::Code(c as u8)),
            Ended::Signaled(s) => Ok(Outcome::Code((128 + s) as u8)),
            Ended::Failed(Stage::Exec, e) => {
                let name = cmd.to_string_lossy();
                let (code, why) = match e.raw_os_error() {
                    Some(libc::ENOENT) if cmd.as_bytes().contains(&b'/') => {
                        (127, "no such file or directory".to_string())
                    }
                    Some(libc::ENOENT) => (127, "executable file not found in $PATH".to_string()),
                    Some(libc::EACCES) if candidates.len() == 1 && Path::new(cmd).is_dir() => {
                        (126, "is a directory".to_string())
                    }
                    Some(libc::EACCES) => (126, "permission denied".to_string()),
                    _ => (126, e.to_string()),
                };
                eprintln!("confine: {name}: {why}");
                Ok(Outcome::Code(code))
            }
            Ended::Failed(stage, e) => bail!(
                "cannot apply the confinement: {} failed: {e}; the command did not run",
                stage.describe()
            ),
        };
    }
}
