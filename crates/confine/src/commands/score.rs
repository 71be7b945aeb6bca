//! `confine score`: the exposure score of confine-audit's rubric (docs/score.md) for a
//! profile, as `confine run` would apply it on this host, or for a live process; and the
//! [`Scorer`] that gives `confine inspect --all` its score column.

use super::lint::Subject as Program;
use crate::output::{self, Json, Report};
use crate::{host, Outcome};
use anyhow::{anyhow, Context};
use confine_abi::{Arch, CapSet};
use confine_apparmor::kernel::LabelState;
use confine_audit::score::{self, AppArmor, Caps, Filter, Landlock, Mac, Score, Seccomp, UserNs};
use confine_audit::Target;
use confine_bpf::stack::Stack;
use confine_bpf::Insn;
use confine_cli::ScoreArgs;
use confine_inspect::{ids, landlock::Lookup, Process, SeccompMode};
use confine_profile::{Host, KernelVersion, Resolution, Source};
use confine_seccomp::{compile_prepared, Generator, Options};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

/// Judge a filter stack of this machine.
fn judge(programs: &[Vec<Insn>], kernel: KernelVersion) -> anyhow::Result<Filter> {
    let stack = Stack::new(programs).context("the filters")?;
    Ok(Filter::judge(&Target::new(
        stack,
        Arch::native(),
        kernel,
        None,
    )))
}

/// The seccomp state of a profile as `confine run --security-opt seccomp=PROFILE` installs
/// it for `host`; `None` when the profile has errors (already reported).
fn profile_seccomp(spec: &Path, host: &Host) -> anyhow::Result<Option<(Seccomp, String)>> {
    if spec == Path::new("unconfined") {
        return Ok(Some((Seccomp::Disabled, "unconfined".into())));
    }
    let source = Source::from_arg(spec);
    let prepared = confine_seccomp::prepare(&source, host)?;
    super::print_diagnostics(prepared.reported());
    let name = match source {
        Source::Builtin => "docker-default".to_string(),
        _ => spec.display().to_string(),
    };
    match prepared.resolution {
        None => Ok(None),
        Some(Resolution::Unconfined) => Ok(Some((Seccomp::Disabled, name))),
        Some(Resolution::Filter(_)) => {
            let c = compile_prepared(prepared, Options::default(), Generator::Optimized)?;
            let program = Program::Profile(Box::new(c));
            let programs = vec![program.program().to_vec()];
            let target = program.target(&programs, host)?;
            Ok(Some((Seccomp::Filter(Filter::judge(&target)), name)))
        }
    }
}

/// What `confine run` adds on this machine: AppArmor docker-default where AppArmor is enabled.
/// Its Landlock domain of scopes alone restricts no file access and is not recorded, so it is
/// not counted (as `--pid` cannot see it either; docs/score.md).
fn run_mac() -> Mac {
    Mac {
        apparmor: super::apparmor::detect().enabled().then(|| AppArmor {
            label: "docker-default".into(),
            enforce: true,
        }),
        selinux: None,
        landlock: None,
    }
}

/// The subject of a profile: what `confine run` applies with the host's capabilities.
fn profile_subject(a: &ScoreArgs) -> anyhow::Result<Option<(score::Subject, String, Host)>> {
    let host = host::from_args(&a.host)?;
    let Some((seccomp, name)) = profile_seccomp(&a.profile, &host)? else {
        return Ok(None);
    };
    let uid = a.user.unwrap_or(0);
    let subject = score::Subject {
        seccomp,
        // Docker's sets: the bounding set granted; permitted (and effective) too for root, empty
        // for another user; inheritable and ambient empty
        caps: Caps {
            bounding: host.caps.0,
            permitted: if uid == 0 { host.caps.0 } else { 0 },
            ambient: 0,
        },
        no_new_privs: a.no_new_privileges,
        mac: run_mac(),
        userns: UserNs::Initial,
        uid,
        kernel: host.kernel,
    };
    Ok(Some((subject, name, host)))
}

/// Scores live processes, judging each distinct filter stack once.
pub(crate) struct Scorer {
    kernel: KernelVersion,
    /// Why this confine cannot read filters, if it cannot.
    no_filters: Option<String>,
    judged: HashMap<Vec<Vec<Insn>>, Result<Filter, String>>,
}

impl Scorer {
    /// A scorer for this machine.
    pub(crate) fn new() -> anyhow::Result<Scorer> {
        Ok(Scorer {
            kernel: confine_profile::resolve::running_kernel()
                .ok_or_else(|| anyhow!("cannot read the running kernel's version"))?,
            no_filters: super::inspect::why_no_filters(),
            judged: HashMap::new(),
        })
    }

    /// The filters of `pid` judged (`known`: already read by the caller).
    fn filter(&mut self, pid: u32, known: Option<Vec<Vec<Insn>>>) -> Result<Filter, String> {
        let programs = match known {
            Some(p) => p,
            None => {
                if let Some(why) = &self.no_filters {
                    return Err(why.clone());
                }
                confine_kernel::ptrace::seccomp_filters(pid as i32).map_err(|e| {
                    match e.raw_os_error() {
                        Some(1) | Some(13) => {
                            format!("permission denied reading the filters of {pid}")
                        }
                        Some(3) => format!("process {pid} exited"),
                        _ => format!("reading the filters of {pid}: {e}"),
                    }
                })?
            }
        };
        let kernel = self.kernel;
        self.judged
            .entry(programs)
            .or_insert_with_key(|p| judge(p, kernel).map_err(|e| format!("{e:#}")))
            .clone()
    }

    /// The subject of a process read from procfs (with its id maps), its Landlock records
    /// when looked up, and its filters when the caller has them.
    pub(crate) fn subject(
        &mut self,
        p: &Process,
        landlock: Option<&Lookup>,
        filters: Option<Vec<Vec<Insn>>>,
    ) -> Result<score::Subject, String> {
        let s = &p.status;
        let seccomp = match s.seccomp {
            Some(SeccompMode::Disabled) => Seccomp::Disabled,
            Some(SeccompMode::Strict) => Seccomp::Strict,
            Some(SeccompMode::Filter) => Seccomp::Filter(self.filter(p.pid, filters)?),
            Some(SeccompMode::Unknown(m)) => return Err(format!("unknown seccomp mode {m}")),
            None => return Err("the kernel does not show the seccomp mode".into()),
        };
        let (Some(bounding), Some(permitted), Some(uids)) = (s.cap_bnd, s.cap_prm, s.uid) else {
            return Err(format!("process {}: capabilities or ids unreadable", p.pid));
        };
        let apparmor = match &p.apparmor {
            LabelState::Label(l) => Some(AppArmor {
                label: l.name.clone(),
                enforce: l
                    .mode
                    .as_deref()
                    .is_none_or(|m| m == "enforce" || m == "kill"),
            }),
            _ => None,
        };
        let landlock = landlock
            .and_then(|l| l.found.iter().find(|f| f.in_domain && f.verified))
            .map(|f| Landlock {
                fs: !f.record.handled_fs_names.is_empty(),
            });
        let userns = match &p.uid_map {
            Some(m) if !ids::is_identity(m) => UserNs::Nested {
                root_on_host: m
                    .iter()
                    .find(|r| r.inside == 0 && r.count > 0)
                    .map(|r| r.outside),
            },
            // unreadable counts as the host's: never a guess in the process's favour
            _ => UserNs::Initial,
        };
        Ok(score::Subject {
            seccomp,
            caps: Caps {
                bounding,
                permitted,
                ambient: s.cap_amb.unwrap_or(0),
            },
            // not shown (kernels before 4.10): counted as not set
            no_new_privs: s.no_new_privs.unwrap_or(false),
            mac: Mac {
                apparmor,
                selinux: p.selinux.as_ref().and_then(|c| c.as_ref().ok()).cloned(),
                landlock,
            },
            userns,
            // real, effective or saved uid 0 can act as root again
            uid: if uids[..3].contains(&0) { 0 } else { uids[1] },
            kernel: self.kernel,
        })
    }
}

/// The subject of a live process.
fn pid_subject(pid: u32) -> anyhow::Result<score::Subject> {
    let root = Path::new("/proc");
    let d = super::apparmor::detect();
    let lsm = |n: &str| d.lsms.as_ref().is_some_and(|l| l.iter().any(|m| m == n));
    let opts = confine_inspect::Options {
        apparmor_enabled: d.enabled(),
        selinux_active: lsm("selinux"),
        namespaces: None,
        details: false,
        id_maps: true,
    };
    let p = confine_inspect::read(root, pid, &opts)?;
    let records = confine_inspect::landlock::find(root, pid);
    let mut scorer = Scorer::new()?;
    scorer
        .subject(&p, Some(&records), None)
        .map_err(|e| anyhow!("cannot score process {pid}: {e}"))
}

/// Run.
pub fn run(a: ScoreArgs) -> anyhow::Result<Outcome> {
    let (subject, what) = match a.pid {
        Some(pid) => (pid_subject(pid)?, What::Process(pid)),
        None => match profile_subject(&a)? {
            Some((s, name, host)) => (s, What::Profile { name, host }),
            None => return Ok(Outcome::BadInput),
        },
    };
    let report = ScoreReport {
        score: score::score(&subject),
        subject,
        what,
        threshold: a.threshold,
    };
    output::print(&report, a.json, None)
}

/// What was scored.
enum What {
    Profile { name: String, host: Host },
    Process(u32),
}

struct ScoreReport {
    what: What,
    subject: score::Subject,
    score: Score,
    threshold: Option<f64>,
}

/// A capability set in words.
fn caps_words(c: u64) -> String {
    if c == 0 {
        "no capabilities".into()
    } else if CapSet(c) == CapSet::docker_default() {
        "Docker's default capabilities".into()
    } else if CapSet(c) == CapSet::all_known() {
        "every capability".into()
    } else {
        format!("{} capabilities", c.count_ones())
    }
}

impl ScoreReport {
    fn head(&self) -> String {
        let s = &self.subject;
        let user = if s.uid == 0 {
            "root".to_string()
        } else {
            format!("uid {}", s.uid)
        };
        let nnp = if s.no_new_privs {
            "no_new_privs"
        } else {
            "no_new_privs off"
        };
        match &self.what {
            What::Profile { name, host } => format!(
                "{name} as `confine run` applies it on {} (kernel {}.{}): {user}, {} bounding, {nnp}",
                host.arch.native_name(),
                host.kernel.kernel,
                host.kernel.major,
                caps_words(s.caps.bounding)
            ),
            What::Process(pid) => format!(
                "process {pid} (kernel {}.{}): {user}, {} bounding, {nnp}",
                s.kernel.kernel,
                s.kernel.major,
                caps_words(s.caps.bounding)
            ),
        }
    }
}

impl Report for ScoreReport {
    fn text(&self) -> String {
        let mut out = format!("{}\n", self.head());
        out.push_str(&format!(
            "{:<20} {:>6} {:>8} {:>6}  {}\n",
            "ITEM", "WEIGHT", "EXPOSURE", "SCORE", "REASON"
        ));
        for l in &self.score.lines {
            out.push_str(&format!(
                "{:<20} {:>6} {:>8} {:>6.2}  {}\n",
                l.item.id,
                l.item.weight,
                l.exposure.map_or("n/a".to_string(), |e| format!("{e:.2}")),
                self.score.contribution(l),
                l.reason
            ));
        }
        out.push_str(&format!(
            "score {:.1} of 10.0 (0.0 nothing exposed, 10.0 everything; rubric: docs/score.md)",
            self.score.total()
        ));
        if let Some(t) = self.threshold {
            out.push_str(&format!(
                "; {} the threshold {t:.1}",
                if self.score.total() > t {
                    "above"
                } else {
                    "within"
                }
            ));
        }
        out.push('\n');
        out
    }

    fn json(&self) -> Json {
        let subject = match &self.what {
            What::Profile { name, host } => json!({
                "profile": name,
                "arch": host.arch.native_name(),
                "kernel": format!("{}.{}", host.kernel.kernel, host.kernel.major),
            }),
            What::Process(pid) => json!({
                "pid": pid,
                "kernel": format!("{}.{}", self.subject.kernel.kernel, self.subject.kernel.major),
            }),
        };
        Json::Document(json!({
            "subject": subject,
            "score": self.score.total(),
            "exact": self.score.exact(),
            "threshold": self.threshold,
            "items": self.score.lines.iter().map(|l| json!({
                "id": l.item.id,
                "title": l.item.title,
                "section": l.item.section.name(),
                "weight": l.item.weight,
                "exposure": l.exposure,
                "contribution": self.score.contribution(l),
                "reason": l.reason,
            })).collect::<Vec<_>>(),
        }))
    }

    fn outcome(&self) -> Outcome {
        match self.threshold {
            Some(t) if self.score.total() > t => Outcome::Findings,
            _ => Outcome::Clean,
        }
    }
}
