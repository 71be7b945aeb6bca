//! `confine seccomp lint`: findings about what a profile's program (or a raw program)
//! decides, from confine-audit.

use super::disasm::read_program;
use super::prepared_filter;
use crate::output::{self, Json, Report};
use crate::{host, Outcome};
use anyhow::Context;
use confine_audit::{Finding, Profiled, Severity, Target};
use confine_bpf::stack::Stack;
use confine_bpf::{decode, Insn};
use confine_cli::{FailOn, LintArgs};
use confine_profile::Host;
use confine_seccomp::{compile_prepared, Compiled, Generator, Options};
use serde_json::json;

/// What is judged, owned: a compiled profile, or a raw program.
pub(crate) enum Subject {
    /// A profile and its program.
    Profile(Box<Compiled>),
    /// A raw program.
    Raw(Vec<Insn>),
}

impl Subject {
    /// The profile at `spec`, compiled for `host` as `confine run` would install it; `None`
    /// when it has errors (already reported).
    pub(crate) fn profile(
        spec: &std::path::Path,
        host: &Host,
        options: Options,
    ) -> anyhow::Result<Option<Self>> {
        let Some(prepared) = prepared_filter(spec, host)? else {
            return Ok(None);
        };
        let c = compile_prepared(prepared, options, Generator::Optimized)?;
        Ok(Some(Subject::Profile(Box::new(c))))
    }

    /// A raw program from `file`, checked as the kernel checks it.
    pub(crate) fn raw(file: &std::path::Path) -> anyhow::Result<Self> {
        let bytes = read_program(file)?;
        let prog = decode(&bytes).with_context(|| file.display().to_string())?;
        Ok(Subject::Raw(prog))
    }

    /// The program.
    pub(crate) fn program(&self) -> &[Insn] {
        match self {
            Subject::Profile(c) => &c.program,
            Subject::Raw(p) => p,
        }
    }

    /// The target to judge: borrows `programs` (the one program, as a stack).
    pub(crate) fn target<'a>(
        &'a self,
        programs: &'a [Vec<Insn>],
        host: &Host,
    ) -> anyhow::Result<Target<'a>> {
        let stack = Stack::new(programs).context("the program")?;
        let profile = match self {
            Subject::Profile(c) => Some(Profiled {
                resolved: c.resolved(),
                policy: &c.policy,
            }),
            Subject::Raw(_) => None,
        };
        Ok(Target::new(stack, host.arch, host.kernel, profile))
    }
}

/// The least severe finding that fails, `None` for never.
fn threshold(f: FailOn) -> Option<Severity> {
    match f {
        FailOn::Info => Some(Severity::Info),
        FailOn::Low => Some(Severity::Low),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::High => Some(Severity::High),
        FailOn::Never => None,
    }
}

/// Lint a profile or a raw program.
pub fn run(a: LintArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let (subject, name) = match &a.bpf {
        Some(f) => (Subject::raw(f)?, f.display().to_string()),
        None => match Subject::profile(
            &a.profile,
            &host,
            Options {
                arg_width: super::arg_width(a.arg_width),
                ..Options::default()
            },
        )? {
            Some(s) => (s, a.profile.display().to_string()),
            None => return Ok(Outcome::BadInput),
        },
    };
    let programs = vec![subject.program().to_vec()];
    let target = subject.target(&programs, &host)?;
    let report = LintReport {
        name,
        host,
        findings: confine_audit::lint(&target),
        fail_on: threshold(a.fail_on),
    };
    output::print(&report, a.json, None)
}

/// The findings of one lint.
struct LintReport {
    name: String,
    host: Host,
    findings: Vec<Finding>,
    fail_on: Option<Severity>,
}

/// One finding as JSON.
pub(crate) fn finding_json(f: &Finding) -> serde_json::Value {
    json!({
        "id": f.id,
        "severity": f.severity.name(),
        "syscalls": f.syscalls,
        "abis": f.abis.iter().map(|a| a.native_name()).collect::<Vec<_>>(),
        "message": f.message,
        "rule": f.rule,
        "examples": f.examples.iter().map(|e| json!({
            "abi": e.abi.native_name(),
            "syscall": e.syscall,
            "nr": e.nr,
            "args": e.args.iter().map(|&v| confine_audit::word(v)).collect::<Vec<_>>(),
            "action": confine_bpf::action::describe(e.ret),
        })).collect::<Vec<_>>(),
        "reference": f.reference,
    })
}

impl LintReport {
    fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .iter()
            .rev()
            .map(|&s| (s, self.findings.iter().filter(|f| f.severity == s).count()))
            .collect()
    }
}

impl Report for LintReport {
    fn text(&self) -> String {
        let mut s = String::new();
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(sev, n)| format!("{n} {sev}"))
            .collect();
        s.push_str(&format!(
            "{} on {} (kernel {}.{}): {} finding(s): {}\n",
            self.name,
            self.host.arch.native_name(),
            self.host.kernel.kernel,
            self.host.kernel.major,
            self.findings.len(),
            counts.join(", ")
        ));
        for f in &self.findings {
            let abis: Vec<&str> = f.abis.iter().map(|a| a.native_name()).collect();
            s.push_str(&format!(
                "\n{:<6} {}{}\n",
                f.severity.name().to_uppercase(),
                f.id,
                if abis.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", abis.join(", "))
                }
            ));
            s.push_str(&format!("       {}\n", f.message));
            if let Some(r) = &f.rule {
                s.push_str(&format!("       rule: {r}\n"));
            }
            for e in &f.examples {
                s.push_str(&format!("       e.g. {e}\n"));
            }
            s.push_str(&format!("       see {}\n", f.reference));
        }
        s
    }

    fn json(&self) -> Json {
        Json::Document(json!({
            "profile": self.name,
            "arch": self.host.arch.native_name(),
            "kernel": format!("{}.{}", self.host.kernel.kernel, self.host.kernel.major),
            "counts": self.counts().iter().map(|(s, n)| (s.name().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "findings": self.findings.iter().map(finding_json).collect::<Vec<_>>(),
        }))
    }

    fn outcome(&self) -> Outcome {
        match self.fail_on {
            Some(t) if self.findings.iter().any(|f| f.severity >= t) => Outcome::Findings,
            _ => Outcome::Clean,
        }
    }
}
