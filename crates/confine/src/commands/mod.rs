//! One module per command.

pub mod apparmor;
pub mod check;
pub mod compile;
pub mod diff;
pub mod disasm;
pub mod eval;
pub mod inspect;
pub mod meta;
pub mod resolve;
pub mod run;
pub mod syscalls;

use confine_profile::{Diagnostic, Parsed, Resolved, Severity};
use std::path::Path;

/// Load, check and resolve a profile for the host: diagnostics go to stderr; `None` when the
/// profile has errors (already reported) or disables seccomp.
pub fn resolved_profile(
    spec: &Path,
    host: &confine_profile::Host,
) -> anyhow::Result<Option<(Parsed, Resolved)>> {
    let source = confine_profile::Source::from_arg(spec);
    let parsed = confine_profile::load(&source)?;
    let Some(profile) = &parsed.profile else {
        print_diagnostics(&parsed.diagnostics);
        return Ok(None);
    };
    match confine_profile::resolve(profile, host) {
        confine_profile::Resolution::Unconfined => {
            print_diagnostics(&parsed.diagnostics);
            anyhow::bail!("{}: empty defaultAction and no rules: Docker runs without seccomp, there is nothing to compile", source.label());
        }
        confine_profile::Resolution::Filter(r) => {
            let mut d = parsed.diagnostics.clone();
            d.extend(unknown_names_warning(&parsed, &r, &source.label())?);
            print_diagnostics(&d);
            Ok(Some((parsed, r)))
        }
    }
}

/// `resolved_profile`, then the policy it compiles to, with or without runc's -ENOSYS stub.
pub fn profile_policy(
    spec: &Path,
    host: &confine_profile::Host,
    enosys_stub: bool,
) -> anyhow::Result<Option<(Resolved, confine_seccomp::Policy)>> {
    let Some((_, resolved)) = resolved_profile(spec, host)? else {
        return Ok(None);
    };
    let policy = confine_seccomp::build(&resolved, confine_seccomp::Options { enosys_stub })?;
    Ok(Some((resolved, policy)))
}

/// Print diagnostics to standard error, one per line.
pub fn print_diagnostics(d: &[Diagnostic]) {
    for d in d {
        eprintln!("{d}");
    }
}

/// The one warning that lists the names no covered architecture knows (runc skips them),
/// located at the first rule that carries one of them.
pub fn unknown_names_warning(
    parsed: &Parsed,
    resolved: &Resolved,
    file: &str,
) -> anyhow::Result<Option<Diagnostic>> {
    let unknown = resolved.unknown_names()?;
    if unknown.is_empty() {
        return Ok(None);
    }
    let first = resolved
        .rules
        .iter()
        .find(|r| r.names.iter().any(|n| unknown.contains(n)));
    let source = first.and_then(|r| {
        parsed
            .profile
            .as_ref()
            .map(|p| (r.source_index, &p.syscalls[r.source_index]))
    });
    let pos = parsed.lines.pos(source.map_or(0, |(_, r)| r.at));
    let arches: Vec<_> = resolved
        .covered_arches()
        .iter()
        .map(|a| a.kernel_name())
        .collect();
    Ok(Some(Diagnostic {
        severity: Severity::Warning,
        code: "unknown-syscalls",
        file: file.to_string(),
        line: pos.line,
        column: pos.col,
        rule: source.map(|(i, _)| i),
        syscall: source.and_then(|(_, r)| r.names.first().cloned()),
        message: format!(
            "{} syscall name(s) exist on none of the covered architectures ({}); runc skips them: {}",
            unknown.len(),
            arches.join(", "),
            unknown.join(", ")
        ),
    }))
}
