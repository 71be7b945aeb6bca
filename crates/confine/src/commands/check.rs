//! `confine seccomp check`

use crate::output::{self, Json, Report};
use crate::{host, Outcome};
use confine_abi::SyscallTable;
use confine_bpf::action::Ret;
use confine_cli::CheckArgs;
use confine_profile::diag::NotShown;
use confine_profile::{Diagnostic, Flag, Host, KernelVersion, Parsed, Resolved, Severity, Source};
use confine_seccomp::policy::Leaf;
use confine_seccomp::{build, optimize, CompileError, Options};
use serde_json::json;

/// The first kernel that accepts each filter flag confine run passes (seccomp(2)).
const FLAG_SINCE: [(Flag, u8, u8); 3] = [
    (Flag::Log, 4, 14),
    (Flag::SpecAllow, 4, 17),
    (Flag::WaitKillableRecv, 5, 19),
];

/// What `confine run` would meet with this profile on the host, found by compiling it: a
/// refusal of the compiler (libseccomp's EEXIST, a merge libseccomp loops on), a program over
/// the kernel's 4096 instructions (errors); filter flags the kernel refuses, and `execve`
/// denied, so that no command could start (warnings).
fn for_this_host(
    parsed: &Parsed,
    r: &Resolved,
    host: &Host,
    kernel_words: &str,
    file: &str,
) -> anyhow::Result<Vec<Diagnostic>> {
    // a diagnostic at a rule of the resolved profile (its source rule), or at the top
    let at = |resolved_rule: Option<usize>, severity, code, message: String| {
        let source = resolved_rule.and_then(|i| {
            let src = r.rules.get(i)?.source_index;
            Some((src, parsed.profile.as_ref()?.syscalls.get(src)?))
        });
        let pos = parsed.lines.pos(source.map_or(0, |(_, rule)| rule.at));
        Diagnostic {
            severity,
            code,
            file: file.to_string(),
            line: pos.line,
            column: pos.col,
            rule: source.map(|(i, _)| i),
            syscall: source.and_then(|(_, rule)| rule.names.first().cloned()),
            message,
        }
    };
    let refused = |e: CompileError| match e {
        // the rule is named by the diagnostic itself, in the source's numbering
        CompileError::Conflict { rule, ref name, .. }
        | CompileError::SharedNode { rule, ref name, .. } => {
            let text = e.to_string();
            let text = text
                .strip_prefix(&format!("rule {rule} ({name}) "))
                .unwrap_or(&text)
                .to_string();
            at(Some(rule), Severity::Error, "compile", text)
        }
        e => at(
            None,
            Severity::Error,
            "compile",
            format!("{e} (confine run would refuse the profile on this host)"),
        ),
    };
    let policy = match build(r, Options::default()) {
        Ok(p) => p,
        Err(e) => return Ok(vec![refused(e)]),
    };
    let mut out = Vec::new();
    if let Err(e) = optimize::generate(&policy) {
        out.push(refused(e));
    }
    for flag in &policy.flags {
        let Some(&(_, major, minor)) = FLAG_SINCE.iter().find(|(f, _, _)| f == flag) else {
            continue;
        };
        let since = KernelVersion {
            kernel: major,
            major: minor,
        };
        let implicit = if parsed.profile.as_ref().is_some_and(|p| p.flags.is_none()) {
            " (added as runc adds it when a profile sets no flags; runc leaves it out on kernels without it, confine run does not)"
        } else {
            ""
        };
        if host.kernel < since {
            out.push(at(None, Severity::Warning, "kernel-flag", format!(
                "filter flag {flag} needs Linux {major}.{minor}; {kernel_words} refuses it (EINVAL), so confine run would fail to install the filter{implicit}"
            )));
        } else if *flag == Flag::WaitKillableRecv {
            out.push(at(None, Severity::Warning, "kernel-flag", format!(
                "filter flag {flag} is accepted only with a notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), which confine run does not open: the kernel would refuse the filter (EINVAL)"
            )));
        }
    }
    let table = SyscallTable::for_arch(host.arch)?;
    if let Some(nr) = table.number("execve") {
        let audit = host.arch.audit_arch();
        if let Leaf::Ret(v) = policy.leaf(audit, nr) {
            if v != Ret::Allow && v != Ret::Log {
                let rule = policy.origin(host.arch, nr).map(|o| o.rule);
                out.push(at(rule, Severity::Warning, "denies-execve", format!(
                    "execve on {} is {}: a command run with this profile (confine run, docker run) could never start",
                    host.arch.kernel_name(),
                    v
                )));
            }
        }
    }
    Ok(out)
}

/// Check every profile, print every finding.
pub fn run(a: CheckArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let kernel_words = format!(
        "{}kernel {}.{}",
        if a.host.kernel.is_none() {
            "the running "
        } else {
            ""
        },
        host.kernel.kernel,
        host.kernel.major
    );
    let mut files = Vec::new();
    for spec in &a.profiles {
        let source = Source::from_arg(spec);
        let label = source.label();
        let (omitted, diagnostics): (NotShown, Vec<Diagnostic>) =
            match confine_seccomp::prepare(&source, &host) {
                Err(e) => (
                    NotShown::default(),
                    vec![Diagnostic {
                        severity: Severity::Error,
                        code: "read",
                        file: label.clone(),
                        line: 1,
                        column: 1,
                        rule: None,
                        syscall: None,
                        message: e.to_string(),
                    }],
                ),
                Ok(prepared) => {
                    let mut d = prepared.diagnostics.clone();
                    if let Some(r) = prepared.resolved() {
                        d.extend(for_this_host(
                            &prepared.parsed,
                            r,
                            &host,
                            &kernel_words,
                            &label,
                        )?);
                    }
                    (prepared.parsed.not_shown, d)
                }
            };
        files.push(FileReport {
            label,
            diagnostics,
            omitted,
        });
    }
    let report = CheckReport {
        files,
        strict: a.strict,
    };
    output::print(&report, a.json, None)
}

/// The findings for one profile.
struct FileReport {
    label: String,
    diagnostics: Vec<Diagnostic>,
    /// Findings the parser counted without keeping them (beyond 200); its one `not-shown`
    /// diagnostic stands for them.
    omitted: NotShown,
}

impl FileReport {
    /// The findings of `severity`: those kept (not the `not-shown` summary) and those only
    /// counted.
    fn count(&self, severity: Severity) -> usize {
        let kept = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == severity && d.code != "not-shown")
            .count();
        kept + match severity {
            Severity::Error => self.omitted.errors,
            Severity::Warning => self.omitted.warnings,
        }
    }

    fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }
}

/// `seccomp check`'s result: every profile's findings.
struct CheckReport {
    files: Vec<FileReport>,
    strict: bool,
}

impl Report for CheckReport {
    fn text(&self) -> String {
        let mut text = String::new();
        for f in &self.files {
            let (shown, not_shown) = confine_profile::diag::shown(&f.diagnostics);
            for d in shown {
                text.push_str(&format!("{d}\n"));
            }
            if not_shown > 0 {
                text.push_str(&confine_profile::diag::not_shown_line(not_shown));
                text.push('\n');
            }
            text.push_str(&format!(
                "{}: {}\n",
                f.label,
                match (f.errors(), f.warnings()) {
                    (0, 0) => "ok".to_string(),
                    (e, w) => format!("{e} error(s), {w} warning(s)"),
                }
            ));
        }
        text
    }

    fn json(&self) -> Json {
        Json::Lines(
            self.files
                .iter()
                .map(|f| {
                    let (shown, not_shown) = confine_profile::diag::shown(&f.diagnostics);
                    json!({
                        "file": f.label,
                        "errors": f.errors(),
                        "warnings": f.warnings(),
                        "diagnostics": shown,
                        "not_shown": not_shown + f.omitted.total(),
                    })
                })
                .collect(),
        )
    }

    fn outcome(&self) -> Outcome {
        let errors: usize = self.files.iter().map(FileReport::errors).sum();
        let warnings: usize = self.files.iter().map(FileReport::warnings).sum();
        if errors > 0 {
            Outcome::BadInput
        } else if self.strict && warnings > 0 {
            Outcome::Findings
        } else {
            Outcome::Clean
        }
    }
}
