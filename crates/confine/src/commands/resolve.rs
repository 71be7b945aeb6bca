//! `confine seccomp resolve`

use super::print_diagnostics;
use crate::{host, output, Outcome};
use confine_cli::{ResolveArgs, ResolveFormat};
use confine_profile::{emit, Resolution, Source};

/// Resolve a profile for the host and print it.
pub fn run(a: ResolveArgs) -> anyhow::Result<Outcome> {
    let source = Source::from_arg(&a.profile);
    let host = host::from_args(&a.host)?;
    let prepared = confine_seccomp::prepare(&source, &host)?;
    print_diagnostics(prepared.reported());
    let resolved = match &prepared.resolution {
        None => return Ok(Outcome::BadInput),
        Some(Resolution::Unconfined) => {
            eprintln!("confine: {}: empty defaultAction and no rules: Docker runs the container without seccomp; nothing to print", source.label());
            return Ok(Outcome::Clean);
        }
        Some(Resolution::Filter(r)) => r,
    };
    if a.strict && prepared.has_warnings() {
        eprintln!("confine: warnings under --strict: no profile printed");
        return Ok(Outcome::Findings);
    }
    let format = match a.format {
        ResolveFormat::Oci => emit::OutputFormat::Oci,
        ResolveFormat::Docker => emit::OutputFormat::Docker,
    };
    output::emit(&emit::to_json(resolved, format), a.output.as_deref())?;
    Ok(Outcome::Clean)
}
