//! `confine seccomp resolve`

use super::{print_diagnostics, unknown_names_warning};
use crate::{host, output, Outcome};
use confine_cli::{ResolveArgs, ResolveFormat};
use confine_profile::{emit, load, resolve, Resolution, Severity, Source};

/// Resolve a profile for the host and print it.
pub fn run(a: ResolveArgs) -> anyhow::Result<Outcome> {
    let source = Source::from_arg(&a.profile);
    let host = host::from_args(&a.host)?;
    let parsed = load(&source)?;
    let mut diags = parsed.diagnostics.clone();
    let Some(profile) = &parsed.profile else {
        print_diagnostics(&diags);
        return Ok(Outcome::BadInput);
    };
    let resolved = match resolve(profile, &host) {
        Resolution::Unconfined => {
            print_diagnostics(&diags);
            eprintln!("confine: {}: empty defaultAction and no rules: Docker runs the container without seccomp; nothing to print", source.label());
            return Ok(Outcome::Clean);
        }
        Resolution::Filter(r) => r,
    };
    diags.extend(unknown_names_warning(&parsed, &resolved, &source.label())?);
    print_diagnostics(&diags);
    if a.strict && diags.iter().any(|d| d.severity == Severity::Warning) {
        eprintln!("confine: warnings under --strict: no profile printed");
        return Ok(Outcome::Findings);
    }
    let format = match a.format {
        ResolveFormat::Oci => emit::OutputFormat::Oci,
        ResolveFormat::Docker => emit::OutputFormat::Docker,
    };
    output::emit(&emit::to_json(&resolved, format), a.output.as_deref())?;
    Ok(Outcome::Clean)
}
