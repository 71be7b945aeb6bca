//! `confine inspect`: how processes are confined, read from the kernel without side effects.
//!
//! Per process: procfs (`status`, `attr/*`, `ns/*`, `cgroup`, id maps) through
//! confine-inspect; with `--syscalls` the installed filters through PTRACE_SECCOMP_GET_FILTER,
//! decoded by path exploration (never by calling syscalls), identical stacks decoded once.

mod json;
mod landlock;
mod render;
mod table;

use super::score::Scorer;
use crate::Outcome;
use anyhow::{anyhow, bail, Context};
use confine_abi::{Arch, CapSet};
use confine_bpf::stack::{self as bpf_stack, ArchView, Difference};
use confine_bpf::Insn;
use confine_cli::InspectArgs;
use confine_inspect::SeccompMode;
use confine_inspect::{ns, Process};
use confine_profile::{load, Host, Parsed, Resolution, Source};
use confine_seccomp::{compile_prepared, Generator, Options as CompileOptions};
use std::collections::HashMap;
use std::path::Path;
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
    /// The programs, oldest first, with their flags (none when seccomp is disabled or strict).
    pub filters: Vec<confine_kernel::ptrace::Filter>,
    /// The process is in seccomp strict mode.
    pub strict: bool,
    /// Verdicts per ABI (shared between processes with identical stacks).
    pub decoded: Rc<Vec<ArchView>>,
    /// Conditions on arguments the kernel reads narrower than the filter compares them
    /// (shared as `decoded` is).
    pub widths: Rc<Vec<confine_audit::Finding>>,
    /// What the stack was identified as.
    pub identified: Option<String>,
    /// With `--compare PROFILE`: the comparison, or why it could not be made.
    pub compared: Option<Result<Compared, String>>,
}

/// The running filters judged against `--compare PROFILE`.
#[derive(Clone, Debug)]
pub struct Compared {
    /// The profile as named on the command line.
    pub profile: String,
    /// Whether they decide alike on every syscall.
    pub equivalent: bool,
    /// Why they differ as a whole, beyond the list: the process has no filter, is in strict
    /// mode, or the profile resolves to no filter.
    pub note: Option<String>,
    /// The syscalls decided differently (the running side first).
    pub differences: Vec<Difference>,
}

/// The profile of `--compare`, read and checked once before any process is looked at.
pub enum Against {
    /// The builtin docker-default.
    Builtin,
    /// A profile from a file or standard input, without errors, and its name.
    Profile(Box<Parsed>, String),
}

/// A profile compiled for this host and one bounding set.
#[derive(Clone)]
struct Reference {
    /// The program; `ret ALLOW` when the profile resolves to no filter.
    prog: Vec<Insn>,
    /// The profile resolves to no filter: Docker would run without seccomp.
    unconfined: bool,
}

/// What a process without a filter decides: every call allowed.
fn allow_all() -> Vec<Insn> {
    vec![Insn {
        code: 0x06, // BPF_RET | BPF_K
        jt: 0,
        jf: 0,
        k: confine_bpf::action::ALLOW,
    }]
}

/// Everything shown for one process.
pub struct Report {
    /// procfs.
    pub process: Process,
    /// With --syscalls: the filters, or why they could not be read.
    pub seccomp: Option<Result<SeccompView, String>>,
    /// With --threads: per thread, what differs from the main thread.
    pub threads: Vec<(u32, Vec<String>)>,
    /// A kernel thread (kthreadd and its children).
    pub kernel_thread: bool,
    /// The Landlock records of its ancestors (`None` for a saved procfs: records name live
    /// processes).
    pub landlock: Option<confine_inspect::landlock::Lookup>,
    /// With --all: the exposure score (`confine score --pid`), or why there is none.
    pub score: Option<Result<f64, String>>,
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

/// `--color auto`: colour only on a terminal, when `NO_COLOR` is unset or empty
/// (no-color.org), and when `TERM` is set and not `dumb` (as clap colours its own help and
/// errors).
fn colour_auto(
    tty: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    tty && no_color.is_none_or(|v| v.is_empty())
        && term.is_some_and(|t| !t.is_empty() && t != "dumb")
}

/// `--proc DIR` must be a mounted procfs (statfs f_type PROC_SUPER_MAGIC): pids found there
/// are the kernel's, and --syscalls reads the live process of the same number.
fn procfs_check(root: &Path) -> anyhow::Result<()> {
    use confine_kernel::fs::{filesystem_type, PROC_SUPER_MAGIC};
    let t = filesystem_type(root).with_context(|| format!("--proc {}", root.display()))?;
    if t != PROC_SUPER_MAGIC {
        bail!(
            "--proc {}: not a procfs (filesystem type {t:#x}, a procfs is {PROC_SUPER_MAGIC:#x}); for a saved copy of one, use --proc-copy DIR",
            root.display()
        );
    }
    Ok(())
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
pub(crate) fn why_no_filters() -> Option<String> {
    let me = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let s = confine_inspect::Status::parse(&me);
    if s.cap_eff.is_none_or(|c| c & (1 << 21) == 0) {
        return Some(
            "reading seccomp filters needs CAP_SYS_ADMIN (run confine as root on the host)".into(),
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

/// Read, check and print the diagnostics of the `--compare` profile; `None` when it has errors
/// (already reported).
fn against(spec: &Path) -> anyhow::Result<Option<Against>> {
    let source = Source::from_arg(spec);
    if source == Source::Builtin {
        return Ok(Some(Against::Builtin));
    }
    let parsed = load(&source)?;
    super::print_diagnostics(&parsed.diagnostics);
    if parsed.profile.is_none() {
        return Ok(None);
    }
    Ok(Some(Against::Profile(Box::new(parsed), source.label())))
}

/// confine's compilation of a profile for this host and a process's capabilities.
fn compile_for(against: &Against, caps: CapSet) -> anyhow::Result<Reference> {
    let host = Host {
        arch: Arch::native(),
        caps,
        kernel: confine_profile::resolve::running_kernel()
            .ok_or_else(|| anyhow!("cannot read the running kernel's version"))?,
    };
    let prepared = match against {
        Against::Builtin => {
            if let Some((p, _)) = confine_runtime::precompiled::builtin(&host) {
                return Ok(Reference {
                    prog: p.to_vec(),
                    unconfined: false,
                });
            }
            confine_seccomp::prepare(&Source::Builtin, &host)?
        }
        Against::Profile(parsed, label) => {
            confine_seccomp::prepare_parsed(label.clone(), (**parsed).clone(), &host)?
        }
    };
    if let Some(Resolution::Unconfined) = prepared.resolution {
        return Ok(Reference {
            prog: allow_all(),
            unconfined: true,
        });
    }
    let compiled = compile_prepared(prepared, CompileOptions::default(), Generator::Optimized)?;
    Ok(Reference {
        prog: compiled.program,
        unconfined: false,
    })
}

/// The conditions of a stack on arguments the kernel reads narrower than they are compared
/// (none when the stack cannot be explored: `decode` has said why).
fn arg_widths(stack: &[Vec<Insn>]) -> Vec<confine_audit::Finding> {
    let Ok(stack) = bpf_stack::Stack::new(stack) else {
        return Vec::new();
    };
    // the widths do not depend on the kernel version
    let kernel = confine_profile::KernelVersion {
        kernel: 0,
        major: 0,
    };
    let t = confine_audit::Target::new(stack, Arch::native(), kernel, None);
    confine_audit::arg_width(&t)
}

/// A filter stack and the bounding set it is judged with.
type StackKey = (Vec<Vec<Insn>>, u64);

/// Decoding and identification, cached by the filter stack and the capability set.
#[derive(Default)]
struct Decoder {
    decoded: HashMap<Vec<Vec<Insn>>, Rc<Vec<ArchView>>>,
    widths: HashMap<Vec<Vec<Insn>>, Rc<Vec<confine_audit::Finding>>>,
    /// The builtin's compilation (for identification) per bounding set.
    builtin: HashMap<u64, Result<Reference, String>>,
    /// The `--compare` profile's compilation per bounding set.
    reference: HashMap<u64, Result<Reference, String>>,
    identified: HashMap<StackKey, Option<String>>,
    compared: HashMap<StackKey, Result<Compared, String>>,
}

impl Decoder {
    fn builtin(&mut self, caps: u64) -> Result<Reference, String> {
        self.builtin
            .entry(caps)
            .or_insert_with(|| {
                compile_for(&Against::Builtin, CapSet(caps)).map_err(|e| format!("{e:#}"))
            })
            .clone()
    }

    /// The process's filters (none when seccomp is disabled), decoded, identified and
    /// compared with `compare`.
    fn view(
        &mut self,
        pid: u32,
        mode: SeccompMode,
        caps: u64,
        compare: Option<(&str, &Against)>,
    ) -> Result<SeccompView, String> {
        if mode == SeccompMode::Strict {
            // no filter to decode: strict mode allows read, write, _exit and sigreturn only
            return Ok(SeccompView {
                filters: Vec::new(),
                strict: true,
                decoded: Rc::new(Vec::new()),
                widths: Rc::new(Vec::new()),
                identified: None,
                compared: compare.map(|(name, _)| Ok(Compared {
                    profile: name.to_string(),
                    equivalent: false,
                    note: Some("the process is in seccomp strict mode (only read, write, _exit and sigreturn are allowed), which no profile installs".into()),
                    differences: Vec::new(),
                })),
            });
        }
        let filters = if mode == SeccompMode::Filter {
            confine_kernel::ptrace::seccomp_filters_with_flags(pid as i32).map_err(|e| {
                match e.raw_os_error() {
                    Some(1) | Some(13) => format!("permission denied reading the filters of {pid}"),
                    Some(3) => format!("process {pid} exited"),
                    _ => format!("reading the filters of {pid}: {e}"),
                }
            })?
        } else {
            Vec::new()
        };
        let stack: Vec<Vec<Insn>> = filters.iter().map(|f| f.prog.clone()).collect();
        let decoded = if stack.is_empty() {
            Rc::new(Vec::new())
        } else {
            match self.decoded.get(&stack) {
                Some(d) => d.clone(),
                None => {
                    let d = Rc::new(
                        bpf_stack::decode(&stack, Arch::native()).map_err(|e| e.to_string())?,
                    );
                    self.decoded.insert(stack.clone(), d.clone());
                    d
                }
            }
        };
        let widths = match self.widths.get(&stack) {
            _ if stack.is_empty() => Rc::new(Vec::new()),
            Some(w) => w.clone(),
            None => {
                let w = Rc::new(arg_widths(&stack));
                self.widths.insert(stack.clone(), w.clone());
                w
            }
        };
        let key = (stack.clone(), caps);
        let identified = match self.identified.get(&key) {
            _ if stack.is_empty() => None,
            Some(i) => i.clone(),
            None => {
                let i = self.identify(&stack, caps);
                self.identified.insert(key.clone(), i.clone());
                i
            }
        };
        let compared = compare.map(|(name, against)| match self.compared.get(&key) {
            Some(r) => r.clone(),
            None => {
                let r = self.compare(&stack, caps, name, against);
                self.compared.insert(key.clone(), r.clone());
                r
            }
        });
        Ok(SeccompView {
            filters,
            strict: false,
            decoded,
            widths,
            identified,
            compared,
        })
    }

    /// Compare a stack (empty: no filter) with the profile compiled for `caps`.
    fn compare(
        &mut self,
        stack: &[Vec<Insn>],
        caps: u64,
        name: &str,
        against: &Against,
    ) -> Result<Compared, String> {
        let reference = self
            .reference
            .entry(caps)
            .or_insert_with(|| compile_for(against, CapSet(caps)).map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(|e| format!("cannot compile {name} for this process: {e}"))?;
        let running = if stack.is_empty() {
            vec![allow_all()]
        } else {
            stack.to_vec()
        };
        let differences = bpf_stack::compare(&running, &[reference.prog], Arch::native())
            .map_err(|e| e.to_string())?;
        let note = match (stack.is_empty(), reference.unconfined) {
            (true, true) => None,
            (true, false) => Some(
                "the process has no seccomp filter (every syscall is allowed); the profile installs one"
                    .to_string(),
            ),
            (false, true) => Some(
                "the profile resolves to no filter (Docker runs without seccomp); the process has one"
                    .to_string(),
            ),
            (false, false) => None,
        };
        Ok(Compared {
            profile: name.to_string(),
            equivalent: differences.is_empty(),
            note,
            differences,
        })
    }

    /// Known programs: confine's own compilation of docker-default for this host and the
    /// process's capabilities (exactly), or a filter that decides like it.
    fn identify(&mut self, stack: &[Vec<Insn>], caps: u64) -> Option<String> {
        let reference = self.builtin(caps).ok()?.prog;
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
        let diffs = bpf_stack::compare(stack, &[reference], Arch::native()).ok()?;
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
        confine_inspect::read_text(&root.join(format!("{pid}/task/{tid}/status")))
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
    let root = match &a.proc_copy {
        Some(copy) => copy.clone(),
        None => {
            let root = a.proc_root.clone();
            procfs_check(&root)?;
            root
        }
    };
    // the profile first: an unreadable or wrong profile is bad input whatever the processes
    let compare_name = a.compare.as_ref().map(|p| p.display().to_string());
    let against = match &a.compare {
        None => None,
        Some(spec) => match against(spec)? {
            Some(x) => Some(x),
            None => return Ok(Outcome::BadInput),
        },
    };
    let compare = compare_name.as_deref().zip(against.as_ref());
    let syscalls = a.syscalls || compare.is_some();
    if syscalls {
        if let Some(why) = why_no_filters() {
            bail!("{why}");
        }
    }
    // the `--all` table's score column (live processes only: a saved procfs has no filters)
    let mut scorer = match (a.all && a.proc_copy.is_none(), Scorer::new()) {
        (true, Ok(s)) => Some(s),
        _ => None,
    };
    let opts = confine_inspect::Options {
        apparmor_enabled: match &a.lsm {
            Some(_) => lsm("apparmor"),
            None => facts.apparmor_enabled,
        },
        selinux_active: lsm("selinux"),
        namespaces: (!a.all).then(|| ns::Reference::load(&root)),
        details: !a.all || a.json,
        // the --all table's score column judges the user namespace by the maps
        id_maps: !a.all || scorer.is_some(),
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
                colour_auto(
                    std::io::stdout().is_terminal(),
                    std::env::var_os("NO_COLOR").as_deref(),
                    std::env::var_os("TERM").as_deref(),
                )
            }
        },
    };
    // the kernel shows no process's Landlock domain: read what confine run recorded (not for
    // a saved procfs, whose pids are not the live ones)
    let mut records = a
        .proc_copy
        .is_none()
        .then(|| confine_inspect::landlock::Finder::new(&root));
    let mut decoder = Decoder::default();
    let mut reports = Vec::new();
    let mut missing = false;
    let mut kernel_threads = 0;
    for pid in pids {
        let process = match confine_inspect::read(&root, pid, &opts) {
            Ok(p) => p,
            // with --all, processes that exit while the list is read are simply skipped;
            // one whose status cannot be read (in a saved copy, over 16 MiB, say) is named
            Err(confine_inspect::InspectError::Gone(_)) if a.all => continue,
            Err(e) if a.all => {
                eprintln!("confine: {e}");
                continue;
            }
            Err(e) => {
                eprintln!("confine: {e}");
                missing = true;
                continue;
            }
        };
        // with --all, the kernel's own threads only when asked for
        let kernel_thread = confine_inspect::is_kernel_thread(&root, &process);
        if a.all && !a.kernel_threads && kernel_thread {
            kernel_threads += 1;
            continue;
        }
        let caps = process.status.cap_bnd.unwrap_or(0);
        let seccomp = match process.status.seccomp {
            Some(SeccompMode::Filter) if syscalls => {
                Some(decoder.view(pid, SeccompMode::Filter, caps, compare))
            }
            // without a filter there is nothing to decode, but a comparison to make
            Some(m @ (SeccompMode::Disabled | SeccompMode::Strict)) if compare.is_some() => {
                Some(decoder.view(pid, m, caps, compare))
            }
            m if compare.is_some() => Some(Err(format!(
                "cannot compare: the seccomp mode of process {pid} is {}",
                m.map_or("not shown by this kernel".to_string(), |m| m.name())
            ))),
            _ => None,
        };
        let threads = if a.threads {
            thread_differences(&root, pid)
        } else {
            Vec::new()
        };
        let landlock = records.as_mut().map(|f| f.find(pid));
        let score = scorer.as_mut().map(|s| {
            let known = match &seccomp {
                Some(Ok(v)) if !v.filters.is_empty() => {
                    Some(v.filters.iter().map(|f| f.prog.clone()).collect())
                }
                _ => None,
            };
            s.subject(&process, landlock.as_ref(), known)
                .map(|subject| confine_audit::score::score(&subject).total())
        });
        reports.push(Report {
            process,
            seccomp,
            threads,
            kernel_thread,
            landlock,
            score,
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
        if kernel_threads > 0 {
            out.push_str(&format!(
                "({kernel_threads} kernel threads left out: --kernel-threads shows them)\n"
            ));
        }
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
    // with --compare, a process whose filters could not be compared is an error, not a finding
    let compared = |r: &Report| match &r.seccomp {
        Some(Ok(v)) => v.compared.clone(),
        Some(Err(e)) => Some(Err(e.clone())),
        None => None,
    };
    let mut failed = false;
    let mut differs = false;
    for r in reports.iter().filter(|_| compare.is_some()) {
        match compared(r) {
            Some(Ok(c)) => differs |= !c.equivalent,
            // with --all, a process that ended during the scan (gone, or a zombie: its filters
            // were released with it) is no failure
            Some(Err(_)) if a.all && has_ended(&root, r.process.pid) => {}
            Some(Err(e)) => {
                eprintln!(
                    "confine: process {}: not compared with {}: {e}",
                    r.process.pid,
                    compare_name.as_deref().unwrap_or_default()
                );
                failed = true;
            }
            None => {}
        }
    }
    Ok(if missing || failed {
        Outcome::BadInput
    } else if differs {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Whether process `pid` is gone or a zombie now (its state in `stat`, after the command name).
fn has_ended(root: &Path, pid: u32) -> bool {
    match std::fs::read(root.join(pid.to_string()).join("stat")) {
        Err(_) => true,
        Ok(b) => {
            let after = b
                .iter()
                .rposition(|&c| c == b')')
                .map_or(&b[..0], |i| &b[i + 1..]);
            matches!(
                after.iter().find(|c| !c.is_ascii_whitespace()),
                Some(b'Z' | b'X')
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::colour_auto;
    use std::ffi::OsStr;

    #[test]
    fn colour_needs_a_terminal_no_no_color_and_a_term_that_is_not_dumb() {
        let xterm = Some(OsStr::new("xterm-256color"));
        assert!(colour_auto(true, None, xterm));
        // NO_COLOR counts only when non-empty
        assert!(colour_auto(true, Some(OsStr::new("")), xterm));
        assert!(!colour_auto(true, Some(OsStr::new("1")), xterm));
        assert!(!colour_auto(true, None, Some(OsStr::new("dumb"))));
        assert!(!colour_auto(true, None, None));
        assert!(!colour_auto(false, None, xterm));
    }
}
