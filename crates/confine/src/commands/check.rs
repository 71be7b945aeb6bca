//! `confine seccomp check`

use super::unknown_names_warning;
use crate::{host, output, Outcome};
use confine_cli::CheckArgs;
use confine_profile::{load, resolve, Diagnostic, Resolution, Severity, Source};
use serde_json::json;

/// Check every profile, print every finding.
pub fn run(a: CheckArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let (mut errors, mut warnings) = (0usize, 0usize);
    let mut text = String::new();
    for spec in &a.profiles {
        let source = Source::from_arg(spec);
        let label = source.label();
        let diags: Vec<Diagnostic> = match load(&source) {
            Err(e) => vec![Diagnostic {
                severity: Severity::Error,
                code: "read",
                file: label.clone(),
                line: 1,
                column: 1,
                rule: None,
                syscall: None,
                message: e.to_string(),
            }],
            Ok(parsed) => {
                let mut d = parsed.diagnostics.clone();
                if let Some(p) = &parsed.profile {
                    if let Resolution::Filter(r) = resolve(p, &host) {
                        d.extend(unknown_names_warning(&parsed, &r, &label)?);
                    }
                }
                d
            }
        };
        let e = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        let w = diags.len() - e;
        errors += e;
        warnings += w;
        if a.json {
            let line = json!({
                "file": label,
                "errors": e,
                "warnings": w,
                "diagnostics": diags,
            });
            text.push_str(&serde_json::to_string(&line)?);
            text.push('\n');
        } else {
            for d in &diags {
                text.push_str(&format!("{d}\n"));
            }
            text.push_str(&format!(
                "{label}: {}\n",
                match (e, w) {
                    (0, 0) => "ok".to_string(),
                    _ => format!("{e} error(s), {w} warning(s)"),
                }
            ));
        }
    }
    output::emit(&text, None)?;
    Ok(if errors > 0 {
        Outcome::BadInput
    } else if a.strict && warnings > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
