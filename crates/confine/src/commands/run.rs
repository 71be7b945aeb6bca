//! `confine run`: Docker's confinement for any command.
//!
//! Everything is parsed, resolved and compiled first; only then does the child change
//! anything (crates/kernel/src/spawn.rs applies the steps in runc's order). Any part of the
//! requested confinement that cannot be applied stops the command before it runs: exit 125.

use crate::precompiled;
use crate::Outcome;
use anyhow::{anyhow, bail, Context};
use confine_abi::{Arch, CapSet, SyscallTable};
use confine_bpf::compile::{build, optimize, Options};
use confine_bpf::{Emulator, Insn, SeccompData};
use confine_cli::RunArgs;
use confine_kernel::process::{self, CapSets};
use confine_kernel::spawn::{spawn, Confinement, Outcome as Ended, Stage};
use confine_kernel::InstallFlags;
use confine_profile::{caps, load, resolve, Flag, Host, Resolution, Source};
use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

enum SeccompChoice {
    Default,
    Unconfined,
    Profile(String),
}

struct Options_ {
    seccomp: SeccompChoice,
    apparmor: Option<String>,
    no_new_privs: bool,
}

fn security_options(a: &RunArgs) -> anyhow::Result<Options_> {
    let mut o = Options_ {
        seccomp: SeccompChoice::Default,
        apparmor: None,
        no_new_privs: false,
    };
    let mut set_seccomp = |v: &str| {
        o.seccomp = match v {
            "unconfined" => SeccompChoice::Unconfined,
            "builtin" => SeccompChoice::Profile("builtin".into()),
            p => SeccompChoice::Profile(p.into()),
        }
    };
    for opt in &a.security_opt {
        let (k, v) = opt.split_once(['=', ':']).unwrap_or((opt.as_str(), ""));
        match k {
            "seccomp" => set_seccomp(v),
            "apparmor" => o.apparmor = Some(v.to_string()),
            "no-new-privileges" => {
                o.no_new_privs = match v {
                    "" | "true" => true,
                    "false" => false,
                    _ => bail!("--security-opt no-new-privileges: `{v}` is not true or false"),
                }
            }
            "label" | "systempaths" | "mask" | "unmask" => bail!("--security-opt {k} is not supported by confine"),
            _ => bail!("unknown --security-opt `{opt}` (expected seccomp=, apparmor= or no-new-privileges)"),
        }
    }
    if let Some(s) = &a.seccomp {
        set_seccomp(s);
    }
    if let Some(n) = &a.apparmor {
        o.apparmor = Some(n.clone());
    }
    Ok(o)
}

/// Look a user or group up in an /etc file (`name:x:id:...`).
fn lookup(file: &str, name: &str) -> Option<(u32, Option<u32>)> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.first() != Some(&name) {
            return None;
        }
        let id = f.get(2)?.parse().ok()?;
        Some((id, f.get(3).and_then(|g| g.parse().ok())))
    })
}

fn passwd_gid(uid: u32) -> Option<u32> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.get(2)?.parse::<u32>().ok()? == uid)
            .then(|| f.get(3)?.parse().ok())
            .flatten()
    })
}

fn group_id(g: &str) -> anyhow::Result<u32> {
    match g.parse() {
        Ok(n) => Ok(n),
        Err(_) => lookup("/etc/group", g)
            .map(|(id, _)| id)
            .ok_or_else(|| anyhow!("unknown group `{g}`")),
    }
}

/// `UID[:GID]` or names, as docker run --user: a user without a group takes its passwd group
/// (0 when it has no entry).
fn user_ids(spec: &str) -> anyhow::Result<(u32, u32)> {
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let (uid, pw_gid) = match u.parse::<u32>() {
        Ok(n) => (n, passwd_gid(n)),
        Err(_) => {
            let (id, gid) = lookup("/etc/passwd", u).ok_or_else(|| {
                anyhow!("unable to find user {u}: no matching entries in passwd file")
            })?;
            (id, gid)
        }
    };
    let gid = match g {
        Some(g) => group_id(g)?,
        None => pw_gid.unwrap_or(0),
    };
    Ok((uid, gid))
}

fn environment(a: &RunArgs) -> anyhow::Result<Vec<CString>> {
    let mut env: BTreeMap<OsString, OsString> = std::env::vars_os().collect();
    let apply = |item: &str, env: &mut BTreeMap<OsString, OsString>| match item.split_once('=') {
        Some((k, v)) => {
            env.insert(k.into(), v.into());
        }
        None => {
            if let Some(v) = std::env::var_os(item) {
                env.insert(item.into(), v);
            } else {
                env.remove(OsStr::new(item));
            }
        }
    };
    for f in &a.env_file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("--env-file {}", f.display()))?;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            apply(line, &mut env);
        }
    }
    for e in &a.env {
        apply(e, &mut env);
    }
    env.into_iter()
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            CString::new(kv).map_err(|_| anyhow!("an environment variable contains a NUL byte"))
        })
        .collect()
}

/// Find the command as execvp would, with the PATH it will run with.
fn find_command(cmd: &OsStr, env: &[CString]) -> Result<PathBuf, (u8, String)> {
    let name = Path::new(cmd);
    let exists = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file());
    if cmd.as_bytes().contains(&b'/') {
        return if exists(name) {
            Ok(name.to_path_buf())
        } else {
            Err((
                127,
                format!("{}: no such file or directory", name.display()),
            ))
        };
    }
    let path = env
        .iter()
        .find_map(|e| {
            e.to_bytes()
                .strip_prefix(b"PATH=")
                .map(|p| OsStr::from_bytes(p).to_os_string())
        })
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| exists(p))
        .ok_or_else(|| {
            (
                127,
                format!("{}: executable file not found in $PATH", name.display()),
            )
        })
}

/// Without no_new_privs the filter goes in while confine still holds CAP_SYS_ADMIN, so the
/// calls confine makes after it must pass the profile (runc has the same constraint). The
/// program itself is run in the emulator for each of them.
fn check_after_install(prog: &[Insn], arch: Arch) -> anyhow::Result<()> {
    let t = SyscallTable::for_arch(arch)?;
    let emu = Emulator::new(prog).context("the compiled seccomp program")?;
    let needed: [(&str, [u64; 6]); 9] = [
        ("prctl", [24, 0, 0, 0, 0, 0]), // PR_CAPBSET_DROP
        ("prctl", [47, 4, 0, 0, 0, 0]), // PR_CAP_AMBIENT, CLEAR_ALL
        ("setgroups", [0; 6]),
        ("setresgid", [0; 6]),
        ("setresuid", [0; 6]),
        ("capset", [0; 6]),
        ("chdir", [0; 6]),
        ("execve", [0; 6]),
        ("write", [0; 6]),
    ];
    for (name, args) in needed {
        let Some(nr) = t.number(name) else { continue };
        let data = SeccompData {
            nr,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args,
        };
        let v = emu.run(&data, arch.is_little_endian()).ret;
        if v != confine_bpf::action::ALLOW && v != confine_bpf::action::LOG {
            bail!(
                "the seccomp profile does not allow {name} ({}), which confine must call after installing the filter (without no_new_privs the filter goes in while CAP_SYS_ADMIN is held, as in runc); add --security-opt no-new-privileges",
                confine_bpf::action::describe(v)
            );
        }
    }
    Ok(())
}

/// The program and install flags for a `--security-opt seccomp=` value, or None when the
/// profile resolves to no filter. The builtin profile with Docker's default capabilities comes
/// ready from build time (crate::precompiled); everything else is compiled here.
fn seccomp_program(spec: &str, host: &Host) -> anyhow::Result<Option<(Vec<Insn>, InstallFlags)>> {
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
    let parsed = load(&source)?;
    for d in &parsed.diagnostics {
        eprintln!("{d}");
    }
    let p = parsed
        .profile
        .as_ref()
        .ok_or_else(|| anyhow!("seccomp profile {} has errors", source.label()))?;
    let r = match resolve(p, host) {
        Resolution::Unconfined => return Ok(None),
        Resolution::Filter(r) => r,
    };
    if r.rules
        .iter()
        .any(|x| x.action == confine_profile::Action::Notify)
    {
        bail!("SCMP_ACT_NOTIFY needs a seccomp agent, which confine run does not provide yet");
    }
    let policy = build(&r, Options::default())
        .with_context(|| format!("seccomp profile {}", source.label()))?;
    let prog = optimize::generate(&policy)
        .with_context(|| format!("seccomp profile {}", source.label()))?;
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
            Ok(Outcome::Code(125))
        }
    }
}

fn prepare_and_run(a: &RunArgs) -> anyhow::Result<Outcome> {
    let opts = security_options(a)?;
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
        (SeccompChoice::Default, false) => Some("builtin".to_string()),
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
    if let Some((prog, _)) = &seccomp {
        if !opts.no_new_privs {
            check_after_install(prog, host.arch)?;
        }
    }

    // AppArmor, as Docker: docker-default when enabled (loaded first when missing), a note
    // when not; an explicitly named profile must be loaded already.
    let aa = super::apparmor::detect();
    let mut load_default = None;
    let mut load_file = None;
    let apparmor = match (opts.apparmor.as_deref(), &a.apparmor_file) {
        (_, Some(file)) => {
            if let Some(why) = aa.why_cannot_load() {
                bail!("--apparmor-file {}: {why}", file.display());
            }
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("--apparmor-file {}", file.display()))?;
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
            load_file = Some(text);
            Some(name.clone())
        }
        (o, None) => match o {
            Some("unconfined") => None,
            Some(name) => {
                if let Some(why) = aa.why_not_enabled() {
                    bail!("AppArmor profile {name} requested, but {why}");
                }
                if !confine_apparmor::kernel::is_loaded(name)
                    .context("reading the kernel's list of AppArmor profiles")?
                {
                    bail!("AppArmor profile {name} is not loaded (load it with: confine apparmor load FILE)");
                }
                Some(name.to_string())
            }
            None if a.privileged => None,
            None => match aa.why_not_enabled() {
                Some(why) => {
                    eprintln!("confine: {why}: running without an AppArmor profile");
                    None
                }
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
                        load_default = Some(confine_apparmor::template::render(
                            &super::apparmor::params(&t)?,
                        ));
                    }
                    Some(DEFAULT.to_string())
                }
            },
        },
    };

    let ids = match &a.user {
        None => None,
        Some(spec) => {
            let (uid, gid) = user_ids(spec)?;
            let groups = a
                .group_add
                .iter()
                .map(|g| group_id(g))
                .collect::<anyhow::Result<Vec<u32>>>()?;
            Some((groups, gid, uid))
        }
    };
    let ids = match (ids, a.group_add.is_empty()) {
        (None, false) => Some((
            a.group_add
                .iter()
                .map(|g| group_id(g))
                .collect::<anyhow::Result<Vec<u32>>>()?,
            0,
            0,
        )),
        (ids, _) => ids,
    };
    let root = ids.as_ref().is_none_or(|(_, _, uid)| *uid == 0);
    let final_caps = if root {
        CapSets {
            effective: granted.0,
            permitted: granted.0,
            inheritable: 0,
        }
    } else {
        CapSets::default()
    };

    let env = environment(a)?;
    let cmd = &a.command[0];
    let path = match find_command(cmd, &env) {
        Ok(p) => p,
        Err((code, msg)) => {
            eprintln!("confine: {msg}");
            return Ok(Outcome::Code(code));
        }
    };
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| anyhow!("the command path contains a NUL byte"))?;
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
    if let Some(text) = load_default {
        super::apparmor::load_text(&text, false, &Default::default(), &aa)
            .context("loading AppArmor profile docker-default")?;
    }
    if let (Some(text), Some(file)) = (load_file, &a.apparmor_file) {
        super::apparmor::load_text(&text, false, &Default::default(), &aa)
            .with_context(|| format!("loading AppArmor profile {}", file.display()))?;
    }
    let confinement = Confinement {
        apparmor_exec: apparmor,
        seccomp,
        no_new_privs: opts.no_new_privs,
        bounding: granted.0,
        last_cap,
        caps: final_caps,
        ids,
        workdir,
    };
    match spawn(&c_path, &argv, &env, &confinement)? {
        Ended::Exited(c) => Ok(Outcome::Code(c as u8)),
        Ended::Signaled(s) => Ok(Outcome::Code((128 + s) as u8)),
        Ended::Failed(Stage::Exec, e) => {
            eprintln!("confine: {}: {e}", path.display());
            Ok(Outcome::Code(if e.raw_os_error() == Some(2) {
                127
            } else {
                126
            }))
        }
        Ended::Failed(stage, e) => bail!(
            "cannot apply the confinement: {} failed: {e}; the command did not run",
            stage.describe()
        ),
    }
}
