//! The one path from a profile source to a program, used by every caller (the commands,
//! `build.rs`, inspect, the benchmarks):
//!
//! ```text
//! Source ──load──▶ Parsed ──resolve(Host)──▶ Resolved ──build(Options)──▶ Policy ──generate──▶ program
//!          (diagnostics)        (+ unknown names)
//! ```
//!
//! [`prepare`] runs the first two steps and never fails on a bad profile: its diagnostics and
//! what it resolved to come back as a value ([`Prepared`]), for the caller to print. [`compile`]
//! runs them all and returns the [`Compiled`] program with its policy and diagnostics. Nothing
//! here prints.

use crate::{optimize, policy, reference, CompileError, Options, Policy};
use confine_abi::ArchError;
use confine_bpf::Insn;
use confine_profile::{
    resolve, Diagnostic, Flag, Host, LoadError, Parsed, Resolution, Resolved, Severity, Source,
};

/// Why a profile source cannot be turned into a program.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The profile's bytes could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The profile has errors (in [`Prepared::diagnostics`]).
    #[error("seccomp profile {label} has errors")]
    Invalid {
        /// The source's name.
        label: String,
    },
    /// An empty `defaultAction` and no rules: Docker runs without seccomp.
    #[error("{label}: empty defaultAction and no rules: Docker runs without seccomp, there is nothing to compile")]
    Unconfined {
        /// The source's name.
        label: String,
    },
    /// A covered architecture has no syscall table.
    #[error("seccomp profile {label}")]
    Arch {
        /// The source's name.
        label: String,
        /// The architecture error.
        source: ArchError,
    },
    /// The resolved profile does not compile.
    #[error("seccomp profile {label}")]
    Compile {
        /// The source's name.
        label: String,
        /// Why.
        source: CompileError,
    },
}

/// The module's result.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// Which code generator writes the program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Generator {
    /// The optimised generator (what `confine run` installs).
    #[default]
    Optimized,
    /// The simple reference generator the optimised one is checked against.
    Reference,
}

/// A profile loaded, checked and resolved for a host.
#[derive(Debug)]
pub struct Prepared {
    /// The source's name in diagnostics.
    pub label: String,
    /// The parsed profile, with its source's line index.
    pub parsed: Parsed,
    /// The parser's diagnostics, plus a warning for names no covered architecture knows.
    pub diagnostics: Vec<Diagnostic>,
    /// What it resolves to; `None` when the profile has errors.
    pub resolution: Option<Resolution>,
    /// It is confine's builtin profile: its diagnostics (a name of a newer kernel that the
    /// covered architectures lack) are the builtin's business, shown only when asked for
    /// (`seccomp check docker-default`), not with every command that uses it.
    pub builtin: bool,
}

impl Prepared {
    /// The resolved profile, if it resolved to a filter.
    pub fn resolved(&self) -> Option<&Resolved> {
        match &self.resolution {
            Some(Resolution::Filter(r)) => Some(r),
            _ => None,
        }
    }

    /// The diagnostics to show with a command that uses the profile: all of them, except for
    /// the builtin profile's (see [`Prepared::builtin`]).
    pub fn reported(&self) -> &[Diagnostic] {
        if self.builtin {
            &[]
        } else {
            &self.diagnostics
        }
    }

    /// Whether any reported diagnostic is a warning.
    pub fn has_warnings(&self) -> bool {
        self.reported()
            .iter()
            .any(|d| d.severity == Severity::Warning)
    }

    /// The resolved profile, or why there is none.
    pub fn require_filter(&self) -> Result<&Resolved> {
        match &self.resolution {
            None => Err(PipelineError::Invalid {
                label: self.label.clone(),
            }),
            Some(Resolution::Unconfined) => Err(PipelineError::Unconfined {
                label: self.label.clone(),
            }),
            Some(Resolution::Filter(r)) => Ok(r),
        }
    }

    /// The policy the resolved profile compiles to.
    pub fn policy(&self, options: Options) -> Result<Policy> {
        let r = self.require_filter()?;
        policy::build(r, options).map_err(|source| PipelineError::Compile {
            label: self.label.clone(),
            source,
        })
    }
}

/// A program with the policy and the diagnostics it came from.
#[derive(Debug)]
pub struct Compiled {
    /// The profile it was compiled from.
    pub prepared: Prepared,
    /// Its decisions per architecture.
    pub policy: Policy,
    /// The classic BPF program.
    pub program: Vec<Insn>,
}

impl Compiled {
    /// The resolved profile.
    pub fn resolved(&self) -> &Resolved {
        self.prepared
            .resolved()
            .expect("a compiled profile resolved to a filter")
    }

    /// Whether the program wants filter flag `f` (log, spec_allow, wait_killable_recv).
    pub fn wants(&self, f: Flag) -> bool {
        self.policy.flags.contains(&f)
    }
}

/// Load `source`, check it and resolve it for `host`. Parse errors and an unconfined profile
/// are values in the result, not errors; only an unreadable source is an error.
pub fn prepare(source: &Source, host: &Host) -> Result<Prepared> {
    let mut p = prepare_parsed(source.label(), confine_profile::load(source)?, host)?;
    p.builtin = *source == Source::Builtin;
    Ok(p)
}

/// [`prepare`] for a profile already read and parsed (`label` names it in diagnostics), to
/// resolve one profile for several hosts.
pub fn prepare_parsed(label: String, parsed: Parsed, host: &Host) -> Result<Prepared> {
    let mut diagnostics = parsed.diagnostics.clone();
    let resolution = parsed.profile.as_ref().map(|p| resolve(p, host));
    if let Some(Resolution::Filter(r)) = &resolution {
        let warning =
            unknown_names_warning(&parsed, r, &label).map_err(|source| PipelineError::Arch {
                label: label.clone(),
                source,
            })?;
        diagnostics.extend(warning);
    }
    Ok(Prepared {
        label,
        parsed,
        diagnostics,
        resolution,
        builtin: false,
    })
}

/// Turn an already prepared profile into a program.
pub fn compile_prepared(
    prepared: Prepared,
    options: Options,
    generator: Generator,
) -> Result<Compiled> {
    let policy = prepared.policy(options)?;
    let generated = match generator {
        Generator::Optimized => optimize::generate(&policy),
        Generator::Reference => reference::generate(&policy),
    };
    let program = generated.map_err(|source| PipelineError::Compile {
        label: prepared.label.clone(),
        source,
    })?;
    Ok(Compiled {
        prepared,
        policy,
        program,
    })
}

/// The entry point: a profile source, resolved for `host` and compiled with `options` by the
/// optimised generator. On an error, [`prepare`]'s diagnostics are lost; callers that print
/// diagnostics call [`prepare`] and [`compile_prepared`].
///
/// ```
/// use confine_abi::{Arch, CapSet};
/// use confine_profile::{Host, KernelVersion, Source};
/// let host = Host {
///     arch: Arch::X86_64,
///     caps: CapSet::docker_default(),
///     kernel: KernelVersion { kernel: 6, major: 1 },
/// };
/// let c = confine_seccomp::compile(&Source::Builtin, &host, Default::default()).unwrap();
/// assert!(c.program.len() < 4096);
/// // x86_64 and its two companion ABIs, x32 and i386
/// assert_eq!(c.policy.arches.len(), 3);
/// ```
pub fn compile(source: &Source, host: &Host, options: Options) -> Result<Compiled> {
    compile_prepared(prepare(source, host)?, options, Generator::Optimized)
}

/// The one warning that lists the names no covered architecture knows (runc skips them),
/// located at the first rule that carries one of them.
pub fn unknown_names_warning(
    parsed: &Parsed,
    resolved: &Resolved,
    file: &str,
) -> std::result::Result<Option<Diagnostic>, ArchError> {
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
