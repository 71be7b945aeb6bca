//! `confine inspect`: how processes are confined, read from the kernel without side effects.
//!
//! Per process: procfs (`status`, `attr/*`, `ns/*`, `cgroup`, id maps) through
//! confine-inspect; with `--syscalls` the installed filters through PTRACE_SECCOMP_GET_FILTER,
//! decoded by path exploration (never by calling syscalls), identical stacks decoded once.

mod json;
mod render;
mod table;

use crate::Outcome;
use anyhow::{anyhow, bail, Context};
use confine_abi::{Arch, CapSet};
use confine_bpf::compile::{build, optimize, Options as CompileOptions};
use confine_bpf::Insn;
use confine_cli::InspectArgs;
use confine_inspect::filters::{self, ArchView, Difference};
use confine_inspect::{ns, Process};
use confine_profile::{load, resolve, Host, Resolution, Source};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Facts about the machine, read once.
pub struct HostFacts {
    /// AppArmor is enabled in this kernel.
    pub apparmor_enabled: bool,
    /// The active LSMs.
    pub lsms: Option<Vec<String>>,
    /// Landlock's ABI, or why there is none.
    pub landlock: Result<u32, String>,
    /// The highest capability of this kernel.
    pub last_cap: Option<u8>,
    /// Markers of a container around confine itself.
    pub self_markers: Vec<String>,
}

/// The decoded filters of one process.
pub struct SeccompView {
    /// The programs, oldest first, with their flags.
    pub filters: Vec<confine_kernel::ptrace::Filter>,
    /// Verdicts per ABI (shared between processes with identical stacks).
    pub decoded: Rc<Vec<ArchView>>,
    /// What the stack was identified as.
    pub identified: Option<String>,
    /// Differences from `--compare PROFILE`.
    pub compared: Option<(String, Vec<Difference>)>,
}

/// Everything shown for one process.
pub struct Report {
    /// procfs.
    pub process: Process,
    /// With --syscalls: the filters, or why they could not be read.
    pub seccomp: Option<Result<SeccompView, String>>,
    /// With --threads: per thread, what differs from the main thread.
    pub threads: Vec<(u32, Vec<String>)>,
}

/// The colours, when enabled.
pub struct Style {
    pub on: bool,
}

impl Style {
    pub fn head(&self, s: &str) -> String {
        if self.on {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn warn(&self, s: &str) -> String {
        if self.on {
            format!("\x1b[33m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn host_facts() -> HostFacts {
    let d = super::apparmor::detect();
    HostFacts {
        apparmor_enabled: d.enabled(),
        lsms: d.lsms,
        landlock: confine_kernel::process::landlock_abi().map_err(|e| match e.raw_os_error() {
            Some(95) => "built in but not enabled (not in the lsm= list)".to_string(),
            Some(38) => "not built into this kernel".to_string(),
            _ => e.to_string(),
        }),
        last_cap: confine_kernel::process::last_cap().ok(),
        self_markers: confine_inspect::container::self_markers(Path::new("/")),
    }
}

/// Why this confine cannot read filters, or None.
fn why_no_filters() -> Option<String> {
    let me = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let s = confine_inspect::Status::parse(&me);
    if s.cap_eff.is_none_or(|c| c & (1 << 21) == 0) {
        return Some(
            "reading seccomp filters needs CAP_SYS_ADMIN (run confine inspect --syscalls as root on the host)"
                .into(),
        );
    }
    if s.seccomp
        .is_some_and(|m| m != confine_inspect::SeccompMode::Disabled)
    {
        return Some(
            "reading seccomp filters needs a confine that is not itself under seccomp (the kernel refuses PTRACE_SECCOMP_GET_FILTER to filtered callers; inside a container, run it on the host)"
                .into(),
        );
    }
    None
}

/// confine's compilation of a profile for this host and a process's capabilities.
fn compile_for(spec: &Path, caps: CapSet) -> anyhow::Result<Vec<Insn>> {
    let host = Host {
        arch: Arch::native(),
        caps,
        kernel: confine_profile::resolve::running_kernel()
            .ok_or_else(|| anyhow!("cannot read the running kernel's version"))?,
    };
    let source = Source::from_arg(spec);
    if matches!(source, Source::Builtin) {
        if let Some((p, _)) = crate::precompiled::builtin(&host) {
            return Ok(p.to_vec());
        }
    }
    let parsed = load(&source)?;
    let p = parsed
        .profile
        .as_ref()
        .ok_or_else(|| anyhow!("seccomp profile {} has errors", source.label()))?;
    match resolve(p, &host) {
        Resolution::Unconfined => bail!("{} resolves to no filter (unconfined)", source.label()),
        Resolution::Filter(r) => {
            let policy = build(&r, CompileOptions::default())?;
            Ok(optimize::generate(&policy)?)
        }
    }
}

/// A filter stack and the bounding set it is judged with.
type StackKey = (Vec<Vec<Insn>>, u64);

/// Decoding and identification, cached by the filter stack and the capability set.
#[derive(Default)]
struct Decoder {
    decoded: HashMap<Vec<Vec<Insn>>, Rc<Vec<ArchView>>>,
    reference: HashMap<(PathBuf, u64), Result<Vec<Insn>, String>>,
    identified: HashMap<StackKey, Option<String>>,
    compared: HashMap<StackKey, Result<Vec<Difference>, String>>,
}

impl Decoder {
    fn reference(&mut self, spec: &Path, caps: u64) -> Result<Vec<Insn>, String> {
        self.reference
            .entry((spec.to_path_buf(), caps))
            .or_insert_with(|| compile_for(spec, CapSet(caps)).map_err(|e| format!("{e:#}")))
            .clone()
    }

    fn view(&mut self, pid: u32, caps: u64, compare: Option<&Path>) -> Result<SeccompView, String> {
        let filters =
            confine_kernel::ptrace::seccomp_filters_with_flags(pid as i32).map_err(|e| match e
                .raw_os_error()
            {
                Some(1) | Some(13) => format!("permission denied reading the filters of {pid}"),
                Some(3) => format!("process {pid} exited"),
                _ => format!("reading the filters of {pid}: {e}"),
            })?;
        let stack: Vec<Vec<Insn>> = filters.iter().map(|f| f.prog.clone()).collect();
        let decoded = match self.decoded.get(&stack) {
            Some(d) => d.clone(),
            None => {
                let d = Rc::new(filters::decode(&stack, Arch::native())?);
                self.decoded.insert(stack.clone(), d.clone());
                d
            }
        };
        let key = (stack.clone(), caps);
        let identified = match self.identified.get(&key) {
            Some(i) => i.clone(),
            None => {
                let i = self.identify(&stack, caps);
                self.identified.insert(key.clone(), i.clone());
                i
            }
        };
        let compared = match compare {
            None => None,
            Some(spec) => {
                let r = match self.compared.get(&key) {
                    Some(r) => r.clone(),
                    None => {
                        let r = self
                            .reference(spec, caps)
                            .and_then(|p| filters::compare(&stack, &[p], Arch::native()));
                        self.compared.insert(key.clone(), r.clone());
                        r
                    }
                };
                Some((spec.display().to_string(), r?))
            }
        };
        Ok(SeccompView {
            filters,
            decoded,
            identified,
            compared,
        })
    }

    /// Known programs: confine's own compilation of docker-default for this host and the
    /// process's capabilities (exactly), or a filter that decides like it.
    fn identify(&mut self, stack: &[Vec<Insn>], caps: u64) -> Option<String> {
        let reference = self.reference(Path::new("builtin"), caps).ok()?;
        let caps_text = if CapSet(caps) == CapSet::docker_default() {
            "Docker's default capabilities".to_string()
        } else {
            "this process's bounding set".to_string()
        };
        if stack.len() == 1 && stack[0] == reference {
            return Some(format!(
                "docker-default, confine's compilation for this host and {caps_text}"
            ));
        }
        let diffs = filters::compare(stack, &[reference], Arch::native()).ok()?;
        if diffs.is_empty() {
            return Some(format!(
                "decides exactly as docker-default for this host and {caps_text} (another compiler's program)"
            ));
        }
        let newer = diffs.iter().all(|d| {
            d.name
                .is_some_and(|n| confine_abi::syscalls::UNKNOWN_TO_LIBSECCOMP_2_5_4.contains(&n))
        });
        newer.then(|| {
            format!(
                "docker-default for this host and {caps_text}, as runc + libseccomp 2.5.4 compile it ({} syscalls newer than libseccomp decided by the default action)",
                diffs.len()
            )
        })
    }
}

/// Where the threads of `pid` differ from its main thread.
fn thread_differences(root: &Path, pid: u32) -> Vec<(u32, Vec<String>)> {
    let Ok(tids) = confine_inspect::threads(root, pid) else {
        return Vec::new();
    };
    let read = |tid: u32| {
        std::fs::read_to_string(root.join(format!("{pid}/task/{tid}/status")))
            .ok()
            .map(|t| confine_inspect::Status::parse(&t))
    };
    let Some(main) = read(pid) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for tid in tids.into_iter().filter(|t| *t != pid) {
        let Some(t) = read(tid) else { continue };
        let mut d = Vec::new();
        let mut cmp = |what: &str, a: String, b: String| {
            if a != b {
                d.push(format!("{what}: {b} (main thread: {a})"));
            }
        };
        let ids = |v: Option<[u32; 4]>| {
            v.map(|a| a.map(|x| x.to_string()).join(" "))
                .unwrap_or_else(|| "?".into())
        };
        let opt = |v: Option<String>| v.unwrap_or_else(|| "?".into());
        cmp("uid", ids(main.uid), ids(t.uid));
        cmp("gid", ids(main.gid), ids(t.gid));
        for (n, a, b) in [
            ("CapEff", main.cap_eff, t.cap_eff),
            ("CapPrm", main.cap_prm, t.cap_prm),
            ("CapInh", main.cap_inh, t.cap_inh),
            ("CapBnd", main.cap_bnd, t.cap_bnd),
            ("CapAmb", main.cap_amb, t.cap_amb),
        ] {
            cmp(
                n,
                opt(a.map(|m| format!("{m:016x}"))),
                opt(b.map(|m| format!("{m:016x}"))),
            );
        }
        cmp(
            "NoNewPrivs",
            opt(main.no_new_privs.map(|x| u8::from(x).to_string())),
            opt(t.no_new_privs.map(|x| u8::from(x).to_string())),
        );
        cmp(
            "Seccomp",
            opt(main.seccomp.map(|m| m.name())),
            opt(t.seccomp.map(|m| m.name())),
        );
        cmp(
            "Seccomp_filters",
            opt(main.seccomp_filters.map(|n| n.to_string())),
            opt(t.seccomp_filters.map(|n| n.to_string())),
        );
        if !d.is_empty() {
            out.push((tid, d));
        }
    }
    out
}

/// Run.
pub fn run(a: InspectArgs) -> anyhow::Result<Outcome> {
    let mut facts = host_facts();
    if let Some(l) = &a.lsm {
        facts.lsms = Some(l.split(',').map(str::to_string).collect());
    }
    let lsm = |n: &str| {
        facts
            .lsms
            .as_ref()
            .is_some_and(|l| l.iter().any(|m| m == n))
    };
    let root = a.proc_root.clone();
    let syscalls = a.syscalls || a.compare.is_some();
    if syscalls {
        if let Some(why) = why_no_filters() {
            bail!("{why}");
        }
    }
    let opts = confine_inspect::Options {
        apparmor_enabled: match &a.lsm {
            Some(_) => lsm("apparmor"),
            None => facts.apparmor_enabled,
        },
        selinux_active: lsm("selinux"),
        namespaces: (!a.all).then(|| ns::Reference::load(&root)),
        details: !a.all || a.json,
        id_maps: !a.all,
    };
    let pids: Vec<u32> = if a.all {
        confine_inspect::pids(&root).with_context(|| format!("listing {}", root.display()))?
    } else if a.pids.is_empty() {
        vec![std::process::id()]
    } else {
        a.pids.clone()
    };
    let style = Style {
        on: match a.color.as_str() {
            "always" => true,
            "never" => false,
            _ => {
                use std::io::IsTerminal;
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        },
    };
    let mut decoder = Decoder::default();
    let mut reports = Vec::new();
    let mut missing = false;
    for pid in pids {
        let process = match confine_inspect::read(&root, pid, &opts) {
            Ok(p) => p,
            // with --all, processes that exit while the list is read are simply skipped
            Err(_) if a.all => continue,
            Err(e) => {
                eprintln!("confine: {e}");
                missing = true;
                continue;
            }
        };
        let seccomp = (syscalls
            && process.status.seccomp == Some(confine_inspect::SeccompMode::Filter))
        .then(|| {
            decoder.view(
                pid,
                process.status.cap_bnd.unwrap_or(0),
                a.compare.as_deref(),
            )
        });
        let threads = if a.threads {
            thread_differences(&root, pid)
        } else {
            Vec::new()
        };
        reports.push(Report {
            process,
            seccomp,
            threads,
        });
    }
    let mut out = String::new();
    if a.json {
        for r in &reports {
            out.push_str(&serde_json::to_string(&json::report(r, &facts, syscalls))?);
            out.push('\n');
        }
    } else if a.all {
        out = table::render(&reports, &facts, &style);
    } else {
        for (i, r) in reports.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&render::report(
                r,
                &facts,
                &style,
                a.hex,
                root == Path::new("/proc"),
            ));
        }
    }
    crate::output::emit(&out, None)?;
    let differs = reports.iter().any(|r| {
        matches!(&r.seccomp, Some(Ok(v)) if v.compared.as_ref().is_some_and(|(_, d)| !d.is_empty()))
            || (a.compare.is_some()
                && r.process.status.seccomp != Some(confine_inspect::SeccompMode::Filter))
    });
    Ok(if missing {
        Outcome::BadInput
    } else if differs {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
