//! The file-and-network policy of a run (`--policy FILE`, `--security-opt landlock=FILE`, and
//! the quick flags `--ro`, `--rw`, `--rox`, `--rwx`, `--bind-tcp`, `--connect-tcp`, `--scope`):
//! read, merged, lowered to what the kernel is to be told, every path checked on the host —
//! all before anything changes.
//!
//! The policy crate (`confine-policy`) lowers the policy to a Landlock plan as data; here the
//! plan meets the host: the kernel's ABI (under `--landlock-compat require` a right it lacks
//! stops the run, under `best-effort` it is dropped and said), the paths (each must exist:
//! Landlock opens them when the ruleset is built; a rule on a symlink is a rule on what it
//! points to, resolved once, when confine builds the ruleset), and the capability sets
//! (`capability.allowedCapabilities` limits what the command is granted).
//!
//! The Landlock rights of the policy and the process-isolation scopes of the run are put into
//! **one** ruleset by [`crate::plan`], never two stacked domains (two domains broke `refer` in
//! landrun #48: a link must be allowed by every layer, and the scope-only layer handles no
//! file right but still ends up in the check).

use crate::isolation::ProcessScope;
use crate::note::{Note, Notes};
use crate::options::SecurityOptions;
use crate::plan::HostFacts;
use crate::{Error, Result, RunRequest};
use confine_abi::{CapSet, Capability};
use confine_bpf::Insn;
use confine_kernel::landlock::SCOPES_ABI;
use confine_kernel::landlock::{
    self, access as landlock_bits, LandlockError as KernelError, Ruleset, RulesetSpec,
};
use confine_kernel::InstallFlags;
use confine_policy::landlock::{landlock, Compat, LandlockError, LandlockPlan, PathGrant};
use confine_policy::{Access, Extensions, PathRule, Policy, PortRule, Scope, Span};
use confine_seccomp::SocketRule;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The quick rules of `confine run`'s command line: a policy without a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuickRules {
    /// `--ro PATH`: read files and list directories beneath PATH.
    pub ro: Vec<PathBuf>,
    /// `--rw PATH`: read and write beneath PATH.
    pub rw: Vec<PathBuf>,
    /// `--rox PATH`: read and execute beneath PATH.
    pub rox: Vec<PathBuf>,
    /// `--rwx PATH`: read, write and execute beneath PATH.
    pub rwx: Vec<PathBuf>,
    /// `--bind-tcp PORT`: binding TCP is restricted to these ports.
    pub bind_tcp: Vec<u16>,
    /// `--connect-tcp PORT`: connecting over TCP is restricted to these ports.
    pub connect_tcp: Vec<u16>,
    /// `--scope`: IPC stopped at the domain's edge.
    pub scopes: Vec<Scope>,
}

impl QuickRules {
    /// Whether no quick rule was given.
    pub fn is_empty(&self) -> bool {
        *self == QuickRules::default()
    }

    fn has_paths(&self) -> bool {
        !(self.ro.is_empty() && self.rw.is_empty() && self.rox.is_empty() && self.rwx.is_empty())
    }
}

/// Which LSM enforces the policy (`--lsm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lsm {
    /// AppArmor: the policy rendered as a profile, loaded and entered.
    AppArmor,
    /// Landlock: the policy as a ruleset.
    Landlock,
    /// Both at once.
    Both,
}

impl Lsm {
    /// Whether Landlock enforces the policy.
    pub fn landlock(self) -> bool {
        matches!(self, Lsm::Landlock | Lsm::Both)
    }

    /// Whether AppArmor enforces the policy.
    pub fn apparmor(self) -> bool {
        matches!(self, Lsm::AppArmor | Lsm::Both)
    }
}

/// The name quick rules carry in messages and in the record.
pub const COMMAND_LINE: &str = "command line";

fn bad_policy(file: &str, message: impl Into<String>) -> Error {
    Error::Policy {
        file: file.to_string(),
        message: message.into(),
    }
}

/// Read and load the policy file (located diagnostics go to `notes`; any error stops the run).
pub fn read(path: &Path, notes: Notes) -> Result<Policy> {
    let name = path.display().to_string();
    let bytes = crate::read_small_file(path).map_err(|source| Error::Read {
        context: format!("--policy {name}"),
        path: path.to_path_buf(),
        source,
    })?;
    let loaded = confine_policy::load(&name, &bytes);
    let mut errors = 0;
    for d in &loaded.diagnostics {
        if d.severity == confine_profile::diag::Severity::Error {
            errors += 1;
        }
        notes(Note::PolicyDiagnostic(d.to_string()));
    }
    match loaded.policy {
        Some(p) if errors == 0 => Ok(p),
        _ => Err(bad_policy(
            &name,
            format!(
                "policy {name} has {errors} error{}",
                if errors == 1 { "" } else { "s" }
            ),
        )),
    }
}

fn quick_path(flag: &'static str, p: &Path) -> Result<String> {
    let s = std::str::from_utf8(p.as_os_str().as_bytes())
        .map_err(|_| Error::option(flag, format!("{flag} {}: not UTF-8", p.display())))?;
    if !s.starts_with('/') {
        return Err(Error::option(
            flag,
            format!("{flag} {s}: not an absolute path (Landlock rules name absolute paths)"),
        ));
    }
    // the flags take paths, not AppArmor globs: a glob character would be widened silently
    if s.contains(['*', '?', '{', '}', '[', ']', '\\', '@']) {
        return Err(Error::option(
            flag,
            format!("{flag} {s}: glob characters are not taken here (give them in a --policy file, where each widening is reported)"),
        ));
    }
    // a directory is meant with everything beneath it: `dir/` in the policy's glob terms (which
    // AppArmor needs spelt out, and Landlock gives anyway)
    if !s.ends_with('/') && Path::new(s).is_dir() {
        return Ok(format!("{s}/"));
    }
    Ok(s.to_string())
}

/// Add the quick rules to `policy` (or make a policy of them). Path flags restrict both file
/// access and execution: `--ro` and `--rw` paths cannot be executed from, `--rox` and `--rwx`
/// ones can.
pub fn merge(policy: Option<Policy>, q: &QuickRules) -> Result<Option<Policy>> {
    if q.is_empty() {
        return Ok(policy);
    }
    let mut p = policy.unwrap_or_else(|| Policy {
        file: COMMAND_LINE.into(),
        ..Policy::default()
    });
    let at = Span::default();
    let flags: [(&'static str, &Vec<PathBuf>, &[Access]); 4] = [
        ("--ro", &q.ro, &[Access::ReadOnly]),
        ("--rw", &q.rw, &[Access::ReadWrite]),
        ("--rox", &q.rox, &[Access::ReadOnly, Access::Execute]),
        ("--rwx", &q.rwx, &[Access::ReadWrite, Access::Execute]),
    ];
    for (flag, paths, access) in flags {
        for path in paths {
            let path = quick_path(flag, path)?;
            for &a in access {
                p.paths.push(PathRule {
                    path: path.clone(),
                    access: a,
                    span: at,
                });
            }
        }
    }
    if q.has_paths() {
        p.filesystem = true;
        p.executable = true;
    }
    if !(q.bind_tcp.is_empty() && q.connect_tcp.is_empty() && q.scopes.is_empty()) {
        let ext = p.extensions.get_or_insert_with(|| Extensions {
            version: 1,
            ..Extensions::default()
        });
        for (flag, ports, list) in [
            ("--bind-tcp", &q.bind_tcp, &mut ext.tcp_bind),
            ("--connect-tcp", &q.connect_tcp, &mut ext.tcp_connect),
        ] {
            for &port in ports {
                if port == 0 {
                    return Err(Error::option(flag, format!("{flag} 0: ports are 1-65535")));
                }
                list.get_or_insert_with(Vec::new)
                    .push(PortRule { port, span: at });
            }
        }
        for s in &q.scopes {
            if !ext.scopes.contains(s) {
                ext.scopes.push(*s);
            }
        }
    }
    Ok(Some(p))
}

/// The capabilities the policy leaves of `granted` (`capability.allowedCapabilities`; absent:
/// all of them). Those it takes away are said.
pub fn limit_capabilities(policy: &Policy, granted: CapSet, notes: Notes) -> CapSet {
    let Some(allowed) = &policy.capabilities else {
        return granted;
    };
    let allowed: CapSet = allowed
        .iter()
        .filter_map(|c| Capability::parse(c).ok())
        .collect();
    let kept = CapSet(granted.0 & allowed.0);
    let removed = CapSet(granted.0 & !allowed.0);
    if !removed.is_empty() {
        notes(Note::PolicyCapabilities {
            file: policy.file.clone(),
            removed: removed.to_string(),
        });
    }
    kept
}

/// The policy's Landlock side, checked against this host, and its ruleset built.
#[derive(Debug)]
pub struct Lowered {
    /// The plan (after any best-effort drops, including rules on missing paths).
    pub plan: LandlockPlan,
    /// What the kernel is told: the policy's rights and the isolation's scopes.
    pub spec: RulesetSpec,
    /// `--landlock-compat`.
    pub compat: Compat,
    /// Under best-effort, every right or rule left out, as said to the user.
    pub dropped: Vec<String>,
    /// The ruleset, built once here (None when the policy lowered to nothing: best-effort on
    /// a kernel without what it needs).
    pub ruleset: Option<Ruleset>,
}

/// Lower `policy` for a kernel with Landlock ABI `abi` and build its ruleset, with `scoped`
/// (the isolation's scopes) added: one ruleset for both. Under `Require`, a right the ABI
/// lacks, a path that cannot be opened or a socket rule that cannot be had is an error; under
/// `BestEffort`, each is dropped and listed in `dropped` (and said as a warning).
pub fn lower(
    policy: &Policy,
    abi: u32,
    compat: Compat,
    scoped: u64,
    notes: Notes,
) -> Result<Lowered> {
    let mut plan = match landlock(policy, abi, compat) {
        Ok(p) => p,
        Err(e @ LandlockError::Abi { .. }) => {
            return Err(Error::Unavailable(format!(
                "policy {}: {e}; the command did not run (give --landlock-compat best-effort to run without them, each listed)",
                policy.file
            )))
        }
        Err(e) => {
            if let Some(d) = e.diagnostic() {
                notes(Note::PolicyDiagnostic(d.to_string()));
            }
            return Err(bad_policy(&policy.file, e.to_string()));
        }
    };
    if abi == 0 {
        // best-effort without Landlock at all: the whole policy is dropped (and said)
        plan.paths.clear();
        plan.ports.clear();
    }
    for w in plan.widening_diagnostics(&policy.file) {
        notes(Note::PolicyDiagnostic(w.to_string()));
    }
    let dropped: Vec<String> = plan.dropped.iter().map(|g| g.to_string()).collect();
    let spec = RulesetSpec {
        handled_fs: plan.handled_fs,
        handled_net: plan.handled_net,
        scoped: plan.scoped,
        paths: plan
            .paths
            .iter()
            .map(|g| (PathBuf::from(&g.path), g.rights))
            .collect(),
        tcp: plan.ports.iter().map(|p| (p.port, p.rights)).collect(),
    };
    let mut l = Lowered {
        plan,
        spec,
        compat,
        dropped,
        ruleset: None,
    };
    // a literal path that is a directory: Landlock allows everything beneath it (AppArmor
    // would read it as the entry alone); said, with the spelling that means it
    for g in l
        .plan
        .paths
        .iter()
        .filter(|g| !g.beneath && g.span.line > 0)
    {
        if Path::new(&g.path).is_dir() {
            notes(Note::PolicyDiagnostic(format!(
                "{}warning: `{}` is a directory: Landlock allows everything beneath it; write `{}/` to mean that (AppArmor reads `{}` as the directory entry alone) [literal-directory]",
                located(policy, Some(g)),
                g.path,
                g.path,
                g.path
            )));
        }
    }
    if l.spec.handled_fs != 0 || l.spec.handled_net != 0 || l.spec.scoped != 0 {
        l.spec.scoped |= scoped;
        if compat == Compat::BestEffort {
            // one pass for the paths that do not exist (not a rebuild for each)
            drop_missing(policy, &mut l);
        }
        let r = build_checked(policy, &mut l)?;
        // a rule is on the file its path names: said where that is another (a symlink on
        // the way), and the resolved path is what the record shows and the init opens again
        for (from, to) in &r.resolved {
            let at = l.plan.paths.iter().find(|g| Path::new(&g.path) == from);
            notes(Note::PolicyDiagnostic(format!(
                "{}note: `{}` resolves to `{}`: the rule is on `{}` (symlinks are followed once, when the ruleset is built) [symlink-resolved]",
                located(policy, at),
                from.display(),
                to.display(),
                to.display()
            )));
            // /proc and /dev/pts paths are opened again by the init, through its own mounts,
            // as written (/proc/self is then the command's side)
            if ["/proc", "/dev/pts"].iter().any(|m| from.starts_with(m)) {
                continue;
            }
            for (p, _) in l.spec.paths.iter_mut().filter(|(p, _)| p == from) {
                *p = to.clone();
            }
        }
        l.ruleset = Some(r);
    }
    if policy.executable && l.plan.handled_fs & landlock_bits::FS_EXECUTE != 0 {
        notes(Note::ExecuteViaLoader {
            file: policy.file.clone(),
        });
    }
    // said however much is left, nothing included
    for what in &l.dropped {
        notes(Note::LandlockDropped {
            file: policy.file.clone(),
            what: what.clone(),
        });
    }
    Ok(l)
}

/// Under best-effort, leave out (and list) the paths that do not exist, in one pass.
fn drop_missing(policy: &Policy, l: &mut Lowered) {
    let mut missing = Vec::new();
    for (p, _) in &l.spec.paths {
        if let Err(e) = std::fs::metadata(p) {
            let at = l.plan.paths.iter().find(|g| Path::new(&g.path) == p);
            missing.push((
                p.clone(),
                format!(
                    "{}path {}: {e} (the rule is left out)",
                    located(policy, at),
                    p.display()
                ),
            ));
        }
    }
    for (p, what) in missing {
        l.spec.paths.retain(|(q, _)| *q != p);
        l.plan.paths.retain(|g| Path::new(&g.path) != p);
        l.dropped.push(what);
    }
}

/// Build `l`'s ruleset: a path that cannot be opened stops the run under require, and is
/// left out (and listed in `l.dropped`) under best-effort.
fn build_checked(policy: &Policy, l: &mut Lowered) -> Result<Ruleset> {
    loop {
        match landlock::build(&l.spec) {
            Ok(r) => return Ok(r),
            Err(KernelError::Open { path, source }) if l.compat == Compat::BestEffort => {
                let at = l.plan.paths.iter().find(|g| Path::new(&g.path) == path);
                let what = format!(
                    "{}path {}: {source} (the rule is left out)",
                    located(policy, at),
                    path.display()
                );
                l.spec.paths.retain(|(p, _)| *p != path);
                l.plan.paths.retain(|g| Path::new(&g.path) != path);
                l.dropped.push(what);
            }
            Err(KernelError::Open { path, source }) => {
                let at = l.plan.paths.iter().find(|g| Path::new(&g.path) == path);
                return Err(bad_policy(&policy.file, format!("{}path {}: {source} (Landlock rules name existing files; give --landlock-compat best-effort to leave it out)", located(policy, at), path.display())));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `FILE:LINE:COL: ` of a rule written in the policy file (nothing for a quick flag's).
fn located(policy: &Policy, at: Option<&PathGrant>) -> String {
    match at {
        Some(g) if g.span.line > 0 => {
            format!("{}:{}:{}: ", policy.file, g.span.line, g.span.column)
        }
        _ => String::new(),
    }
}

/// The policy of a run, as the LSMs will enforce it.
#[derive(Debug)]
pub(crate) struct PolicyChoice {
    /// The policy file (or `command line`).
    pub file: String,
    /// The Landlock side, checked against this host.
    pub landlock: Option<Lowered>,
    /// The AppArmor side: the profile's name and text, to load and enter.
    pub apparmor: Option<(String, String)>,
}

/// The policy as an AppArmor profile for this host (its name from the SPO object's
/// `metadata.name`, else the file's stem, else `confine-policy`); what AppArmor cannot say
/// exactly goes to `notes` as located notes. The profile replaces docker-default, as an SPO
/// profile replaces a container's: it cannot be combined with another profile.
fn render_apparmor(
    req: &RunRequest,
    opts: &SecurityOptions,
    facts: &HostFacts,
    policy: &Policy,
    notes: Notes,
) -> Result<(String, String)> {
    if req.apparmor_file.is_some() || opts.apparmor.is_some() {
        return Err(Error::option(
            "--lsm",
            "the policy is enforced through a profile of its own: it cannot be combined with --apparmor, --apparmor-file or --security-opt apparmor= (give --lsm landlock to keep that profile)",
        ));
    }
    if let Some(why) = facts.apparmor.why_cannot_load() {
        return Err(Error::AppArmor {
            profile: policy.file.clone(),
            message: format!(
                "policy {}: cannot load its AppArmor profile: {why}",
                policy.file
            ),
        });
    }
    let name =
        confine_apparmor::policy::profile_name(policy.name.as_deref(), Path::new(&policy.file));
    let params = crate::apparmor::host_params(
        &name,
        None,
        Path::new("/etc/apparmor.d"),
        confine_apparmor::template::AbiChoice::Auto,
        false,
    )?;
    let r = confine_apparmor::policy::render(policy, &params)
        .map_err(|e| bad_policy(&policy.file, e.to_string()))?;
    for a in &r.approximations {
        notes(Note::PolicyDiagnostic(a.to_string()));
    }
    Ok((name, r.text))
}

/// Read, merge and lower the run's policy, and choose the LSM: `--lsm`, else Landlock for
/// `--security-opt landlock=`, else AppArmor where it is enabled and Landlock otherwise.
/// None when no policy was given.
pub(crate) fn choose(
    req: &RunRequest,
    opts: &SecurityOptions,
    facts: &HostFacts,
    notes: Notes,
) -> Result<Option<(Policy, PolicyChoice)>> {
    let file = req.policy.as_ref().or(opts.landlock_policy.as_ref());
    let loaded = file.map(|f| read(f, notes)).transpose()?;
    let Some(policy) = merge(loaded, &req.rules)? else {
        return Ok(None);
    };
    let lsm = match req.lsm {
        Some(l) => l,
        None if req.policy.is_none() && opts.landlock_policy.is_some() => Lsm::Landlock,
        None if facts.apparmor.enabled() => Lsm::AppArmor,
        None => Lsm::Landlock,
    };
    if lsm.apparmor() && !facts.apparmor.enabled() {
        return Err(Error::Unavailable(format!(
            "--lsm {}: {}; give --lsm landlock",
            if lsm == Lsm::Both { "both" } else { "apparmor" },
            facts
                .apparmor
                .why_not_enabled()
                .unwrap_or_else(|| "AppArmor is not enabled".into())
        )));
    }
    let apparmor = if lsm.apparmor() {
        Some(render_apparmor(req, opts, facts, &policy, notes)?)
    } else {
        None
    };
    let landlock = if lsm.landlock() {
        // the isolation's scopes go into the same ruleset: from ABI 6 unless processes are
        // shared (before, the isolation's stand-in domain adds nothing a policy lacks)
        let abi = facts.landlock_abi;
        let scoped = if abi >= SCOPES_ABI && !req.unsafe_share_processes {
            ProcessScope { abi }.scoped()
        } else {
            0
        };
        let l = lower(&policy, abi, req.landlock_compat, scoped, notes)?;
        Some(l)
    } else {
        None
    };
    let choice = PolicyChoice {
        file: policy.file.clone(),
        landlock,
        apparmor,
    };
    Ok(Some((policy, choice)))
}

/// Say which LSM enforces the policy, and what (once everything is decided).
pub(crate) fn announce(c: &PolicyChoice, notes: Notes) {
    let mut by = Vec::new();
    let mut what = Vec::new();
    if let Some((name, _)) = &c.apparmor {
        by.push(format!("AppArmor (profile {name})"));
    }
    if let Some(l) = &c.landlock {
        by.push(format!(
            "Landlock (ABI {}, {})",
            l.plan.abi,
            match l.compat {
                Compat::Require => "require",
                Compat::BestEffort => "best-effort",
            }
        ));
        what.push(summary(l));
    }
    if c.apparmor.is_some() && c.landlock.is_none() {
        what.push("file, network and capability rules".into());
    }
    notes(Note::PolicyEnforced {
        file: c.file.clone(),
        by: by.join(" and "),
        summary: what.join("; "),
    });
}

/// One line on what the Landlock side enforces (`12 path rules, TCP bind 1 port, scopes
/// signal`).
pub fn summary(l: &Lowered) -> String {
    use confine_policy::landlock::{NET_BIND_TCP, NET_CONNECT_TCP, SCOPE_SIGNAL};
    let p = &l.plan;
    let mut parts = Vec::new();
    if p.handled_fs != 0 {
        parts.push(format!(
            "{} path rule{}",
            p.paths.len(),
            if p.paths.len() == 1 { "" } else { "s" }
        ));
    }
    for (bit, name) in [(NET_BIND_TCP, "bind"), (NET_CONNECT_TCP, "connect")] {
        if p.handled_net & bit != 0 {
            let ports: Vec<String> = p
                .ports
                .iter()
                .filter(|g| g.rights & bit != 0)
                .map(|g| g.port.to_string())
                .collect();
            parts.push(format!("TCP {name} [{}]", ports.join(",")));
        }
    }
    if p.scoped != 0 {
        let mut s = Vec::new();
        if p.scoped & SCOPE_SIGNAL != 0 {
            s.push("signal");
        }
        if p.scoped & !SCOPE_SIGNAL != 0 {
            s.push("abstract-unix");
        }
        parts.push(format!("scopes {}", s.join(",")));
    }
    if !p.seccomp_sockets.is_empty() {
        parts.push(format!(
            "{} socket type{} refused by seccomp",
            p.seccomp_sockets.len(),
            if p.seccomp_sockets.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    if parts.is_empty() {
        parts.push("nothing (every rule dropped)".into());
    }
    parts.join(", ")
}

/// The seccomp program with the policy's socket rules in front (`allowUdp: false`,
/// `allowRaw: false`, which Landlock cannot refuse): `socket(2)` of those kinds fails with
/// EACCES, on every ABI of `arch` (see `confine_seccomp::sockets`). Without a program (an
/// unconfined or privileged run), the guard alone. A guard that cannot be had stops the run
/// under require, and is said and left out under best-effort.
pub(crate) fn guard_sockets(
    l: &mut Lowered,
    file: &str,
    arch: confine_abi::Arch,
    program: Option<(Vec<Insn>, InstallFlags)>,
    notes: Notes,
) -> Result<Option<(Vec<Insn>, InstallFlags)>> {
    if l.plan.seccomp_sockets.is_empty() {
        return Ok(program);
    }
    let rules: Vec<SocketRule> = l
        .plan
        .seccomp_sockets
        .iter()
        .map(|s| match s.protocol {
            None => SocketRule::new(s.domain, s.sock_type),
            Some(p) => SocketRule::with_protocol(s.domain, s.sock_type, p),
        })
        .collect();
    let guarded = confine_seccomp::with_guard(arch, &rules, program.as_ref().map(|(p, _)| &p[..]));
    match guarded {
        Ok(prog) => Ok(Some((prog, program.map(|(_, f)| f).unwrap_or_default()))),
        Err(e) if l.compat == Compat::BestEffort => {
            let what = format!("the seccomp socket rules ({}): {e}", l.plan.seccomp_sockets[0].because);
            notes(Note::LandlockDropped {
                file: file.to_string(),
                what: what.clone(),
            });
            l.dropped.push(what);
            l.plan.seccomp_sockets.clear();
            Ok(program)
        }
        Err(e) => Err(bad_policy(
            file,
            format!("policy {file}: {}: the seccomp socket rules cannot be added: {e}; the command did not run", l.plan.seccomp_sockets[0].because),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> QuickRules {
        QuickRules {
            ro: vec!["/usr".into()],
            rwx: vec!["/tmp".into()],
            bind_tcp: vec![8080],
            scopes: vec![Scope::Signal, Scope::Signal],
            ..QuickRules::default()
        }
    }

    #[test]
    fn quick_rules_make_a_policy() {
        let p = merge(None, &quick()).unwrap().unwrap();
        assert_eq!(p.file, COMMAND_LINE);
        assert!(p.filesystem && p.executable);
        let rules: Vec<(&str, Access)> = p.paths.iter().map(|r| (&*r.path, r.access)).collect();
        assert_eq!(
            rules,
            [
                ("/usr/", Access::ReadOnly),
                ("/tmp/", Access::ReadWrite),
                ("/tmp/", Access::Execute)
            ]
        );
        let ext = p.extensions.unwrap();
        assert_eq!(ext.tcp_bind.unwrap().len(), 1);
        assert!(ext.tcp_connect.is_none());
        assert_eq!(ext.scopes, [Scope::Signal]);
    }

    #[test]
    fn no_quick_rules_leave_the_policy_alone() {
        assert_eq!(merge(None, &QuickRules::default()).unwrap(), None);
    }

    #[test]
    fn bad_quick_paths_are_refused_with_their_flag() {
        for (q, flag) in [
            (
                QuickRules {
                    ro: vec!["usr".into()],
                    ..QuickRules::default()
                },
                "--ro",
            ),
            (
                QuickRules {
                    rw: vec!["/tmp/*".into()],
                    ..QuickRules::default()
                },
                "--rw",
            ),
            (
                QuickRules {
                    bind_tcp: vec![0],
                    ..QuickRules::default()
                },
                "--bind-tcp",
            ),
        ] {
            match merge(None, &q) {
                Err(Error::Option { option, .. }) => assert_eq!(option, flag),
                other => panic!("{flag}: {other:?}"),
            }
        }
    }

    #[test]
    fn missing_paths_stop_require_and_are_dropped_by_best_effort() {
        let q = QuickRules {
            ro: vec!["/usr".into(), "/nonexistent-confine-test".into()],
            ..QuickRules::default()
        };
        let p = merge(None, &q).unwrap().unwrap();
        let mut notes = Vec::new();
        let e = lower(&p, 7, Compat::Require, 0, &mut |n| notes.push(n)).unwrap_err();
        assert!(e.to_string().contains("/nonexistent-confine-test"), "{e}");
        let l = lower(&p, 7, Compat::BestEffort, 0, &mut |n| notes.push(n)).unwrap();
        assert_eq!(l.spec.paths.len(), 1);
        assert_eq!(l.dropped.len(), 1);
        assert!(notes
            .iter()
            .any(|n| matches!(n, Note::LandlockDropped { .. })));
    }

    #[test]
    fn an_old_abi_is_refused_naming_the_right_and_the_abi() {
        let p = merge(None, &quick()).unwrap().unwrap();
        let e = lower(&p, 3, Compat::Require, 0, &mut |_| {}).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("ABI 4") && m.contains("TCP bind"), "{m}");
        assert!(m.contains("ABI 6") && m.contains("signal"), "{m}");
        let l = lower(&p, 3, Compat::BestEffort, 0, &mut |_| {}).unwrap();
        assert_eq!(l.spec.handled_net, 0);
        assert_eq!(l.spec.scoped, 0);
        assert_eq!(l.dropped.len(), 2);
    }

    /// A policy whose every rule is dropped still says so (found in the VM: the early return
    /// for an empty ruleset skipped the warnings).
    #[test]
    fn everything_dropped_is_still_said() {
        let q = QuickRules {
            connect_tcp: vec![443],
            ..QuickRules::default()
        };
        let p = merge(None, &q).unwrap().unwrap();
        let mut notes = Vec::new();
        let l = lower(&p, 2, Compat::BestEffort, 0, &mut |n| notes.push(n)).unwrap();
        assert!(l.ruleset.is_none());
        assert_eq!(l.dropped.len(), 1);
        assert!(
            matches!(&notes[..], [Note::LandlockDropped { what, .. }] if what.contains("ABI 4")),
            "{notes:?}"
        );
    }

    #[test]
    fn allowed_capabilities_limit_the_grant() {
        let p = Policy {
            capabilities: Some(vec!["net_bind_service".into(), "chown".into()]),
            ..Policy::default()
        };
        let mut notes = Vec::new();
        let kept = limit_capabilities(&p, CapSet::docker_default(), &mut |n| notes.push(n));
        assert_eq!(kept, CapSet::parse_list("CHOWN,NET_BIND_SERVICE").unwrap());
        assert_eq!(notes.len(), 1);
    }
}
