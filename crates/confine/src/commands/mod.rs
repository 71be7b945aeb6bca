//! One module per command.

pub mod apparmor;
pub mod check;
pub mod compile;
pub mod diff;
pub mod disasm;
pub mod eval;
pub mod export;
pub mod import;
pub mod inspect;
pub mod lint;
pub mod merge;
pub mod meta;
pub mod record;
pub mod resolve;
pub mod run;
pub mod score;
pub mod syscalls;
pub mod verify;

use confine_profile::{Diagnostic, Resolution, Source};
use confine_seccomp::{PipelineError, Prepared};
use std::path::Path;

/// Load, check and resolve a profile for the host ([`confine_seccomp::prepare`]); diagnostics
/// go to stderr. `None` when the profile has errors (already reported); an error when it
/// disables seccomp.
pub fn prepared_filter(
    spec: &Path,
    host: &confine_profile::Host,
) -> anyhow::Result<Option<Prepared>> {
    let prepared = confine_seccomp::prepare(&Source::from_arg(spec), host)?;
    print_diagnostics(prepared.reported());
    match prepared.resolution {
        None => Ok(None),
        Some(Resolution::Unconfined) => Err(PipelineError::Unconfined {
            label: prepared.label,
        }
        .into()),
        Some(Resolution::Filter(_)) => Ok(Some(prepared)),
    }
}

/// The compiler's argument width for the command line's.
pub fn arg_width(a: confine_cli::ArgWidthArg) -> confine_seccomp::ArgWidth {
    match a {
        confine_cli::ArgWidthArg::Faithful => confine_seccomp::ArgWidth::Faithful,
        confine_cli::ArgWidthArg::Kernel => confine_seccomp::ArgWidth::Kernel,
    }
}

/// Print diagnostics to standard error, one per line: at most
/// [`confine_profile::diag::MAX_DIAGNOSTICS`], then how many more there are.
pub fn print_diagnostics(d: &[Diagnostic]) {
    let (shown, not_shown) = confine_profile::diag::shown(d);
    for d in shown {
        eprintln!("{d}");
    }
    if not_shown > 0 {
        eprintln!("{}", confine_profile::diag::not_shown_line(not_shown));
    }
}
