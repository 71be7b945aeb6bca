//! Planning a run: every option checked, every file read, every program compiled and every
//! host decision taken before anything changes. The [`Plan`] lists what will be applied, in
//! runc's order ([`Plan::steps`]), and carries what [`Plan::execute`] hands to the kernel crate.

use crate::apparmor::{self, Choice};
use crate::isolation::{self, Ask, Privilege, ProcessScope};
use crate::note::{Note, Notes};
use crate::options::{self, SecurityOptions};
use crate::policy::{self as run_policy, Lowered, PolicyChoice};
use crate::users::{self, Db};
use crate::{descriptors, env, seccomp, Error, Result, RunRequest};
use confine_abi::{Arch, CapSet};
use confine_apparmor::detect::Detection;
use confine_bpf::Insn;
use confine_kernel::landlock::{Ruleset, RulesetSpec};
use confine_kernel::process::{self, CapSets};
use confine_kernel::spawn::Confinement;
use confine_kernel::terminal::{is_tty, Terminal};
use confine_kernel::InstallFlags;
use confine_profile::{caps, Host, KernelVersion};
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// What planning reads from the host: confine's privilege, its capabilities, the kernel.
#[derive(Clone, Debug)]
pub struct HostFacts {
    /// confine's ids and effective capabilities.
    pub who: Privilege,
    /// The highest capability of the running kernel.
    pub last_cap: u8,
    /// confine's bounding set.
    pub held: CapSet,
    /// The architecture the filter is compiled for.
    pub arch: Arch,
    /// The running kernel's version (None: unreadable, an error when a filter is compiled).
    pub kernel: Option<KernelVersion>,
    /// The kernel's Landlock ABI (0: none).
    pub landlock_abi: u32,
    /// AppArmor on this machine.
    pub apparmor: Detection,
}

impl HostFacts {
    /// Read them from the running kernel.
    pub fn read() -> Result<HostFacts> {
        let who = Privilege::current()?;
        let last_cap =
            process::last_cap().map_err(Error::io("reading /proc/sys/kernel/cap_last_cap"))?;
        let held = CapSet(process::bounding_set(last_cap)?);
        Ok(HostFacts {
            who,
            last_cap,
            held,
            arch: Arch::native(),
            kernel: confine_profile::resolve::running_kernel(),
            landlock_abi: process::landlock_abi().unwrap_or(0),
            apparmor: apparmor::detect(),
        })
    }
}

/// Where users and groups are looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Etc {
    /// `/etc/passwd`.
    pub passwd: PathBuf,
    /// `/etc/group`.
    pub group: PathBuf,
}

impl Default for Etc {
    fn default() -> Etc {
        Etc {
            passwd: "/etc/passwd".into(),
            group: "/etc/group".into(),
        }
    }
}

/// Everything decided before the isolation, which may be chosen again at execution (when no
/// user namespace can be had).
#[derive(Debug)]
pub(crate) struct Decided {
    pub who: Privilege,
    pub landlock_abi: u32,
    pub arch: Arch,
    pub last_cap: u8,
    pub held: CapSet,
    pub granted: CapSet,
    pub options: SecurityOptions,
    pub share_processes: bool,
    pub seccomp: Option<(Vec<Insn>, InstallFlags)>,
    /// Recording instead of a profile.
    pub record: Option<crate::Recording>,
    /// Recording by cgroup (eBPF), beside the profile (which a recording leaves unconfined).
    pub record_cgroup: Option<crate::CgroupRecording>,
    pub apparmor: Choice,
    /// Groups, gid, uid to switch to; None: confine's own.
    pub ids: Option<(Vec<u32>, u32, u32)>,
    pub root_command: bool,
    pub terminal: Terminal,
    pub cmd: OsString,
    pub candidates: Vec<CString>,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub listen: u32,
    pub keep_fds: u32,
    pub workdir: Option<CString>,
    /// The file-and-network policy, when one is given.
    pub policy: Option<PolicyChoice>,
}

/// A run, planned: what will be applied, in order, and what executing it needs.
#[derive(Debug)]
pub struct Plan {
    pub(crate) decided: Decided,
    pub(crate) confinement: Confinement,
    /// The command runs in a new user namespace (which may not be had: then Landlock alone).
    pub(crate) in_userns: bool,
}

/// One step of a run, in the order it is applied (runc's, `confine_kernel::spawn`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// confine loads an AppArmor profile into the kernel (docker-default when missing, or
    /// `--apparmor-file`), before the command's process exists.
    LoadAppArmor {
        /// The profile (or the file).
        profile: String,
    },
    /// New pid (or only mount) namespaces, in a new user namespace or not, with confine's init.
    Namespaces {
        /// A new pid namespace.
        pid: bool,
        /// A new user namespace mapping confine's ids.
        user: bool,
    },
    /// Docker's masked and read-only paths under /proc, /sys read-only (in the init).
    SystemPaths {
        /// How many paths are masked.
        masked: usize,
        /// How many are made read-only.
        readonly: usize,
    },
    /// The command's own session, and its terminal.
    Session {
        /// The terminal arrangement.
        terminal: Terminal,
    },
    /// Every descriptor above 2 and the kept ones is closed on exec.
    CloseDescriptors {
        /// How many from 3 on are kept.
        keep: u32,
    },
    /// A new session keyring.
    SessionKeyring,
    /// The AppArmor exec transition.
    AppArmorExec {
        /// The profile.
        profile: String,
    },
    /// no_new_privs.
    NoNewPrivs,
    /// The Landlock domain: the isolation's scopes and the policy's rights, one ruleset.
    Landlock {
        /// Its ABI.
        abi: u32,
        /// The policy it enforces (None: the isolation's scopes alone).
        policy: Option<String>,
        /// Its path rules.
        path_rules: usize,
        /// Its TCP port rules.
        port_rules: usize,
    },
    /// The seccomp filter.
    Seccomp {
        /// Its length in instructions.
        instructions: usize,
    },
    /// Capabilities dropped from the bounding set.
    BoundingSet {
        /// The capabilities kept.
        keep: CapSet,
    },
    /// The ambient set emptied.
    ClearAmbient,
    /// Groups, gid and uid changed.
    Ids {
        /// The uid.
        uid: u32,
        /// The gid.
        gid: u32,
        /// The supplementary groups.
        groups: Vec<u32>,
    },
    /// The effective, permitted and inheritable sets.
    Capabilities {
        /// Effective and permitted.
        effective: CapSet,
    },
    /// SIGKILL when confine dies.
    ParentDeathSignal,
    /// The working directory.
    Workdir {
        /// The directory.
        dir: String,
    },
    /// Joining the recording's cgroup (eBPF recording), last before execve.
    JoinCgroup,
    /// execve along the search path.
    Exec {
        /// The command as given.
        command: String,
    },
}

impl Step {
    /// A short name for the step.
    pub fn name(&self) -> &'static str {
        match self {
            Step::LoadAppArmor { .. } => "load-apparmor",
            Step::Namespaces { .. } => "namespaces",
            Step::SystemPaths { .. } => "system-paths",
            Step::Session { .. } => "session",
            Step::CloseDescriptors { .. } => "close-descriptors",
            Step::SessionKeyring => "session-keyring",
            Step::AppArmorExec { .. } => "apparmor-exec",
            Step::NoNewPrivs => "no-new-privs",
            Step::Landlock { .. } => "landlock",
            Step::Seccomp { .. } => "seccomp",
            Step::BoundingSet { .. } => "bounding-set",
            Step::ClearAmbient => "clear-ambient",
            Step::Ids { .. } => "ids",
            Step::Capabilities { .. } => "capabilities",
            Step::ParentDeathSignal => "parent-death-signal",
            Step::Workdir { .. } => "workdir",
            Step::JoinCgroup => "join-cgroup",
            Step::Exec { .. } => "exec",
        }
    }
}

impl Plan {
    /// What will be applied, in order.
    pub fn steps(&self) -> Vec<Step> {
        let (d, c) = (&self.decided, &self.confinement);
        let mut v = Vec::new();
        if d.apparmor.load_default.is_some() {
            v.push(Step::LoadAppArmor {
                profile: apparmor::DEFAULT_PROFILE.into(),
            });
        }
        if let Some((file, _)) = &d.apparmor.load_file {
            v.push(Step::LoadAppArmor {
                profile: file.display().to_string(),
            });
        }
        if let Some(n) = &c.namespace {
            v.push(Step::Namespaces {
                pid: n.pid,
                user: n.user.is_some(),
            });
            if n.sys_readonly || !n.masked.is_empty() || !n.readonly.is_empty() {
                v.push(Step::SystemPaths {
                    masked: n.masked.len(),
                    readonly: n.readonly.len(),
                });
            }
        }
        v.push(Step::Session {
            terminal: c.terminal,
        });
        v.push(Step::CloseDescriptors { keep: c.keep_fds });
        v.push(Step::SessionKeyring);
        if let Some(p) = &c.apparmor_exec {
            v.push(Step::AppArmorExec { profile: p.clone() });
        }
        if c.no_new_privs_first {
            v.push(Step::NoNewPrivs);
        }
        if let Some(r) = &c.landlock {
            let policy = d
                .policy
                .as_ref()
                .and_then(|p| p.landlock.as_ref().map(|l| (&p.file, l)));
            v.push(Step::Landlock {
                abi: r.abi,
                policy: policy.map(|(f, _)| f.clone()),
                path_rules: policy.map_or(0, |(_, l)| l.spec.paths.len()),
                port_rules: policy.map_or(0, |(_, l)| l.spec.tcp.len()),
            });
        }
        let seccomp = c.seccomp.as_ref().map(|(p, _)| Step::Seccomp {
            instructions: p.len(),
        });
        if !c.no_new_privs {
            v.extend(seccomp.clone());
        }
        if let Some(keep) = c.bounding {
            v.push(Step::BoundingSet { keep: CapSet(keep) });
        }
        v.push(Step::ClearAmbient);
        if let Some((groups, gid, uid)) = &c.ids {
            v.push(Step::Ids {
                uid: *uid,
                gid: *gid,
                groups: groups.clone(),
            });
        }
        if let Some(caps) = c.caps {
            v.push(Step::Capabilities {
                effective: CapSet(caps.effective),
            });
        }
        if c.no_new_privs {
            v.push(Step::NoNewPrivs);
            v.extend(seccomp);
        }
        v.push(Step::ParentDeathSignal);
        if let Some(w) = &c.workdir {
            v.push(Step::Workdir {
                dir: w.to_string_lossy().into_owned(),
            });
        }
        if c.join_cgroup.is_some() {
            v.push(Step::JoinCgroup);
        }
        v.push(Step::Exec {
            command: d.cmd.to_string_lossy().into_owned(),
        });
        v
    }

    /// The short names of [`Plan::steps`].
    pub fn describe(&self) -> Vec<&'static str> {
        self.steps().iter().map(Step::name).collect()
    }
}

/// Plan `req` on this machine: the descriptors to pass on are reserved first (so that nothing
/// opened while planning lands there), then everything is decided; nothing else changes.
/// Notes go to `notes` as they arise.
pub fn plan(req: &RunRequest, notes: Notes) -> Result<Plan> {
    let listen = descriptors::listen_fds();
    let keep_fds = descriptors::kept(listen, req.preserve_fds)?;
    descriptors::reserve(keep_fds)?;
    let opts = parse_options(req, notes)?;
    let facts = HostFacts::read()?;
    decide(req, opts, listen, keep_fds, &facts, &Etc::default(), notes)
}

/// Plan `req` for a host described by `facts`, with users and groups from `etc`; without
/// LISTEN_FDS and without reserving descriptors (for tests and dry runs).
pub fn plan_for(req: &RunRequest, facts: &HostFacts, etc: &Etc, notes: Notes) -> Result<Plan> {
    let keep_fds = descriptors::kept(0, req.preserve_fds)?;
    let opts = parse_options(req, notes)?;
    decide(req, opts, 0, keep_fds, facts, etc, notes)
}

fn parse_options(req: &RunRequest, notes: Notes) -> Result<SecurityOptions> {
    options::parse(
        &req.security_opt,
        req.seccomp.as_deref(),
        req.apparmor.as_deref(),
        notes,
    )
}

fn decide(
    req: &RunRequest,
    opts: SecurityOptions,
    listen: u32,
    keep_fds: u32,
    facts: &HostFacts,
    etc: &Etc,
    notes: Notes,
) -> Result<Plan> {
    let (who, held) = (facts.who, facts.held);
    // capabilities as docker run grants them, limited to what confine itself can hand on
    let granted = if req.privileged {
        held
    } else {
        let t = caps::tweak(CapSet::docker_default(), &req.cap_add, &req.cap_drop, held)
            .map_err(Error::Capabilities)?;
        let missing = CapSet(t.0 & !held.0);
        if !missing.is_empty() {
            return Err(Error::Unavailable(format!(
                "cannot grant {missing}: confine's own bounding set does not hold it"
            )));
        }
        t
    };

    // the file-and-network policy: read, lowered and checked against this host; its
    // allowedCapabilities limit the grant
    let (policy, granted) = match run_policy::choose(req, &opts, facts, notes)? {
        Some((p, choice)) => {
            let granted = run_policy::limit_capabilities(&p, granted, notes);
            (Some(choice), granted)
        }
        None => (None, granted),
    };

    // seccomp: docker's choice of profile
    let profile = seccomp::profile(&opts.seccomp, req.privileged);
    let host = Host {
        arch: facts.arch,
        caps: granted,
        kernel: facts
            .kernel
            .ok_or_else(|| Error::Unavailable("cannot read the running kernel's version".into()))?,
    };
    let seccomp = match profile {
        None => None,
        Some(spec) => seccomp::program(&spec, &host, opts.arg_width, opts.seccomp_verify, notes)?,
    };
    // the policy's socket rules (what Landlock cannot refuse) go in front of the filter
    let mut policy = policy;
    let seccomp = match policy
        .as_mut()
        .and_then(|p| p.landlock.as_mut().map(|l| (p.file.clone(), l)))
    {
        Some((file, l)) => run_policy::guard_sockets(l, &file, facts.arch, seccomp, notes)?,
        None => seccomp,
    };
    if let Some(p) = &policy {
        run_policy::announce(p, notes);
    }
    // recording: one filter that hands every call to the recorder, in the profile's place
    let seccomp = match req.record {
        None => seccomp,
        Some(_) if policy.is_some() => return Err(Error::Unavailable(
            "recording does not take a file-and-network policy; record first, then run with both"
                .into(),
        )),
        Some(_) => Some((
            vec![Insn::stmt(
                confine_bpf::insn::class::RET | confine_bpf::insn::op::K,
                confine_kernel::notify::RET_USER_NOTIF,
            )],
            InstallFlags {
                new_listener: true,
                ..InstallFlags::default()
            },
        )),
    };
    let aa = apparmor::choose(
        req.apparmor_file.as_deref(),
        opts.apparmor.as_deref(),
        req.privileged,
        &facts.apparmor,
        notes,
    )?;

    // a policy enforced by AppArmor: its own profile, loaded before the command starts, in
    // place of docker-default
    let aa = match policy.as_ref().and_then(|p| {
        p.apparmor
            .as_ref()
            .map(|(name, text)| (p.file.clone(), name.clone(), text.clone()))
    }) {
        Some((file, name, text)) => apparmor::Choice {
            profile: Some(name),
            load_default: None,
            load_file: Some((PathBuf::from(format!("policy {file}")), text)),
        },
        None => aa,
    };

    // who the command runs as: runc's lookup; without the privilege to change ids, confine's
    // own (rootless use)
    let passwd = Db::read(&etc.passwd)?;
    let group = Db::read(&etc.group)?;
    let can_change_ids = who.has("SETUID") && who.has("SETGID");
    let spec = match (&req.user, can_change_ids) {
        (Some(u), _) => Some(u.clone()),
        (None, true) => None,
        (None, false) => Some(format!("{}:{}", who.uid, who.gid)),
    };
    let user = users::resolve(spec.as_deref(), &req.group_add, &passwd, &group)?;
    let ids = if can_change_ids {
        Some((user.groups.clone(), user.gid, user.uid))
    } else if (user.uid, user.gid) == (who.uid, who.gid) && req.group_add.is_empty() {
        None
    } else {
        return Err(Error::Unavailable(format!(
            "running as {}:{} needs CAP_SETUID and CAP_SETGID, which confine (uid {}) lacks",
            user.uid, user.gid, who.uid
        )));
    };

    // the terminal: never the caller's (docker run gives pipes without -t, a new pty with it)
    let terminal = if req.tty {
        Terminal::Pty {
            interactive: req.interactive,
        }
    } else if (0..3).any(is_tty) {
        Terminal::Relay {
            stdin: req.interactive,
        }
    } else {
        Terminal::Inherit
    };

    let mut env = env::build(&req.env_file, &req.env, req.tty, user.home.as_deref())?;
    if listen > 0 {
        env.set("LISTEN_FDS", listen.to_string());
    }
    let path_var = env.get("PATH").map(OsStr::to_os_string);
    let envp = env.into_cstrings()?;
    let cmd = req
        .command
        .first()
        .ok_or_else(|| Error::option("CMD", "the command is empty"))?
        .clone();
    let candidates = env::candidates(&cmd, path_var.as_deref())?;
    let argv = req
        .command
        .iter()
        .map(|s| CString::new(s.as_bytes()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| Error::option("CMD", "an argument contains a NUL byte"))?;
    let workdir = req
        .workdir
        .as_ref()
        .map(|w| CString::new(w.as_os_str().as_bytes()))
        .transpose()
        .map_err(|_| Error::option("--workdir", "the working directory contains a NUL byte"))?;
    let decided = Decided {
        who,
        landlock_abi: facts.landlock_abi,
        arch: facts.arch,
        last_cap: facts.last_cap,
        held,
        granted,
        options: opts,
        share_processes: req.unsafe_share_processes,
        seccomp,
        apparmor: aa,
        ids,
        root_command: user.uid == 0,
        terminal,
        cmd,
        candidates,
        argv,
        envp,
        listen,
        keep_fds,
        workdir,
        policy,
        record: req.record,
        record_cgroup: req.record_cgroup,
    };
    let (confinement, in_userns) = isolate(&decided, false, notes)?;
    Ok(Plan {
        decided,
        confinement,
        in_userns,
    })
}

/// Choose the isolation and build the confinement; an unprivileged run tries a user namespace
/// first, then (`landlock_only`) a Landlock domain alone. Returns whether the command is put
/// in a new user namespace.
pub(crate) fn isolate(
    d: &Decided,
    mut landlock_only: bool,
    notes: Notes,
) -> Result<(Confinement, bool)> {
    let opts = &d.options;
    loop {
        let ask = Ask {
            share_processes: d.share_processes,
            system_paths: !opts.system_paths_unconfined,
            granted: d.granted,
            root_command: d.root_command,
            filters: d.seccomp.is_some(),
            landlock_only,
        };
        let plan = isolation::plan(&d.who, d.landlock_abi, ask, notes)?;
        let no_new_privs = opts.no_new_privs || plan.no_new_privs_first;
        if plan.no_new_privs_first && !opts.no_new_privs {
            notes(Note::NoNewPrivsNeeded);
        }
        // (a recording filter lets every call through once the recorder has seen it)
        if let (Some((prog, _)), None) = (&d.seccomp, d.record) {
            seccomp::check_after_install(prog, d.arch, !no_new_privs)?;
        }
        // the bounding set: dropping needs CAP_SETPCAP (in a user namespace, the init's);
        // without it it stays, and no_new_privs keeps the command from gaining what it holds
        let in_userns = plan.namespace.as_ref().is_some_and(|n| n.user.is_some());
        // a user namespace maps only the caller's own ids: other ids or groups (root without
        // CAP_SYS_ADMIN, say) need the Landlock path, where CAP_SETUID can change them
        let ids = match (&d.ids, in_userns) {
            (Some((groups, gid, uid)), true) => {
                if (*uid, *gid) != (d.who.uid, d.who.gid) || !groups.is_empty() {
                    notes(Note::UserNamespaceMapsOnlyOwnIds {
                        uid: d.who.uid,
                        gid: d.who.gid,
                        want_uid: *uid,
                        want_gid: *gid,
                    });
                    landlock_only = true;
                    continue;
                }
                None
            }
            (ids, _) => ids.clone(),
        };
        let bounding = if d.who.has("SETPCAP") || in_userns {
            Some(d.granted.0)
        } else {
            let extra = CapSet(d.held.0 & !d.granted.0);
            if !extra.is_empty() {
                if !no_new_privs {
                    return Err(Error::Unavailable(format!("cannot drop {extra} from the bounding set without CAP_SETPCAP; add --security-opt no-new-privileges")));
                }
                notes(Note::BoundingSetKept {
                    count: extra.0.count_ones(),
                });
            }
            None
        };
        let caps = Some(if d.root_command {
            CapSets {
                effective: d.granted.0,
                permitted: d.granted.0,
                inheritable: 0,
            }
        } else {
            CapSets::default()
        });
        // one Landlock ruleset: the policy's rights and the isolation's scopes together
        let policy = d.policy.as_ref().and_then(|p| p.landlock.as_ref());
        let (landlock, spec) = ruleset(plan.landlock, policy)?;
        // rules on paths are opened again by the init, through its own mounts
        let landlock_rebuild = spec.filter(|s| plan.namespace.is_some() && names_new_mounts(s));
        // landlock_restrict_self needs no_new_privs without CAP_SYS_ADMIN (in a user
        // namespace the command holds it there)
        let mut no_new_privs_first = plan.no_new_privs_first;
        let mut no_new_privs = no_new_privs;
        if landlock.is_some() && !in_userns && !d.who.has("SYS_ADMIN") && !no_new_privs_first {
            no_new_privs_first = true;
            if !no_new_privs {
                notes(Note::NoNewPrivsNeeded);
            }
            no_new_privs = true;
        }
        // a recorder without CAP_SYS_PTRACE reaches the command only while it is still the
        // caller's own user (see `Confinement::record_dumpable`)
        if d.record.is_some()
            && !d.who.has("SYS_PTRACE")
            && ids
                .as_ref()
                .is_some_and(|(_, gid, uid)| (*uid, *gid) != (d.who.uid, d.who.gid))
        {
            return Err(Error::Unavailable(
                "recording a command that runs as another user needs CAP_SYS_PTRACE (the recorder must reach the command's listener)".into(),
            ));
        }
        let confinement = Confinement {
            apparmor_exec: d.apparmor.profile.clone(),
            seccomp: d.seccomp.clone(),
            no_new_privs,
            no_new_privs_first,
            landlock,
            landlock_rebuild,
            bounding,
            last_cap: d.last_cap,
            caps,
            ids,
            workdir: d.workdir.clone(),
            namespace: plan.namespace,
            keep_fds: d.keep_fds,
            terminal: d.terminal,
            record_to: d.record.map(|r| r.socket),
            record_dumpable: d.record.is_some() && !d.who.has("SYS_PTRACE"),
            wait_all: d.record.is_some_and(|r| r.wait_all)
                || d.record_cgroup.is_some_and(|r| r.wait_all),
            join_cgroup: d.record_cgroup.map(|r| r.procs),
        };
        return Ok((confinement, in_userns));
    }
}

/// The one Landlock ruleset of a run: the isolation's scope alone (as it always was), or the
/// policy's rights with the isolation's scopes added (and then its spec, for the init to build
/// again); None when neither asks for anything.
fn ruleset(
    scope: Option<ProcessScope>,
    policy: Option<&Lowered>,
) -> Result<(Option<Ruleset>, Option<RulesetSpec>)> {
    let scope_only = |s: ProcessScope| {
        Ruleset::process_scope(s.abi).map_err(Error::io(format!(
            "creating a Landlock ruleset (ABI {})",
            s.abi
        )))
    };
    let Some(policy) = policy else {
        return Ok((scope.map(scope_only).transpose()?, None));
    };
    match &policy.ruleset {
        // a policy that lowered to nothing (best-effort on a kernel without what it needs)
        None => Ok((scope.map(scope_only).transpose()?, None)),
        Some(r) => {
            let r = r
                .try_clone()
                .map_err(Error::io("duplicating the Landlock ruleset"))?;
            Ok((Some(r), Some(policy.spec.clone())))
        }
    }
}

/// Whether a rule names a file on a filesystem of which the namespace's init mounts a new
/// instance (procfs with a pid namespace, devpts): rules opened outside would name the host's
/// files, not the command's, and must be opened again inside. Other mounts the init makes are
/// bind mounts of the same files (the same inodes, to which Landlock ties its rules), or masks.
/// A symlink elsewhere that resolves into /proc is resolved outside: its rule then allows
/// nothing inside (it fails closed).
fn names_new_mounts(spec: &RulesetSpec) -> bool {
    spec.paths
        .iter()
        .any(|(p, _)| ["/proc", "/dev/pts"].iter().any(|m| p.starts_with(m)))
}
