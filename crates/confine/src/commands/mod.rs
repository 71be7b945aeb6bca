//! One module per command.

pub mod check;
pub mod disasm;
pub mod meta;
pub mod resolve;
pub mod syscalls;

use confine_profile::{Diagnostic, Parsed, Resolved, Severity};

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
