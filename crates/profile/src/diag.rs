//! Located diagnostics: every error and warning names the file, line and column, and the rule
//! (index and first syscall name) it belongs to.

use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Docker accepts it, but it is probably not what was meant.
    Warning,
    /// Docker or runc would refuse it; confine refuses it.
    Error,
}

/// One finding about a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub severity: Severity,
    /// A stable machine-readable kind, e.g. `unknown-key`, `bad-action`.
    pub code: &'static str,
    /// The file (`-` for stdin, `builtin:docker-default` for the builtin).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The index of the rule in `syscalls[]`, if the finding is inside one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// The first syscall name of that rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syscall: Option<String>,
    /// What is wrong, and what Docker/runc would do.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}:{}: {sev}", self.file, self.line, self.column)?;
        match (self.rule, &self.syscall) {
            (Some(r), Some(s)) => write!(f, ": rule {r} ({s})")?,
            (Some(r), None) => write!(f, ": rule {r}")?,
            _ => {}
        }
        write!(f, ": {} [{}]", self.message, self.code)
    }
}

/// The most diagnostics kept and printed for one profile. A profile with more (a minified
/// file with a million unknown keys) keeps the first `MAX_DIAGNOSTICS - 1` and one
/// `not-shown` diagnostic counting the rest; printers show at most this many and say how many
/// more there are ([`shown`]).
pub const MAX_DIAGNOSTICS: usize = 200;

/// The diagnostics to print (at most [`MAX_DIAGNOSTICS`]) and how many are left out.
pub fn shown(d: &[Diagnostic]) -> (&[Diagnostic], usize) {
    let n = d.len().min(MAX_DIAGNOSTICS);
    (&d[..n], d.len() - n)
}

/// The findings a parser counted beyond [`MAX_DIAGNOSTICS`] without keeping them (its one
/// `not-shown` diagnostic stands for them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotShown {
    /// Errors among them.
    pub errors: usize,
    /// Warnings among them.
    pub warnings: usize,
}

impl NotShown {
    /// How many in all.
    pub fn total(&self) -> usize {
        self.errors + self.warnings
    }
}

/// The line printed after [`shown`] diagnostics when `not_shown` of them are left out.
pub fn not_shown_line(not_shown: usize) -> String {
    format!("… and {not_shown} more diagnostic(s) not shown")
}

/// Whether any diagnostic is an error.
pub fn has_errors(d: &[Diagnostic]) -> bool {
    d.iter().any(|d| d.severity == Severity::Error)
}
