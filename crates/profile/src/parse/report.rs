//! Recording findings: every error and warning located on a line and column and tied to the
//! rule being read, up to [`MAX_DIAGNOSTICS`], the rest counted and summed up in one
//! `not-shown` diagnostic.

use super::{Cx, Omitted};
use crate::diag::{Diagnostic, Severity, MAX_DIAGNOSTICS};

impl Cx<'_> {
    pub(super) fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        at: usize,
        message: String,
    ) {
        if self.diags.len() >= MAX_DIAGNOSTICS - 1 {
            let o = &mut self.omitted;
            if o.errors + o.warnings == 0 {
                o.first_at = at;
            }
            match severity {
                Severity::Error => o.errors += 1,
                Severity::Warning => o.warnings += 1,
            }
            return;
        }
        let pos = self.lines.pos(at);
        let (rule, syscall) = match &self.rule {
            Some((i, n)) => (Some(*i), n.clone()),
            None => (None, None),
        };
        self.diags.push(Diagnostic {
            severity,
            code,
            file: self.file.to_string(),
            line: pos.line,
            column: pos.col,
            rule,
            syscall,
            message,
        });
    }

    /// One `not-shown` diagnostic for the omitted ones, an error if any of them is (so that
    /// the profile is still refused).
    pub(super) fn summarise_omitted(&mut self) {
        let Omitted {
            errors,
            warnings,
            first_at,
        } = std::mem::take(&mut self.omitted);
        if errors + warnings == 0 {
            return;
        }
        let pos = self.lines.pos(first_at);
        self.rule = None;
        self.diags.push(Diagnostic {
            severity: if errors > 0 {
                Severity::Error
            } else {
                Severity::Warning
            },
            code: "not-shown",
            file: self.file.to_string(),
            line: pos.line,
            column: pos.col,
            rule: None,
            syscall: None,
            message: format!(
                "{} more diagnostic(s) from here on not shown ({errors} error(s), {warnings} warning(s)); the first {} are above",
                errors + warnings,
                MAX_DIAGNOSTICS - 1
            ),
        });
    }

    pub(super) fn error(&mut self, code: &'static str, at: usize, message: String) {
        self.report(Severity::Error, code, at, message);
    }

    pub(super) fn warn(&mut self, code: &'static str, at: usize, message: String) {
        self.report(Severity::Warning, code, at, message);
    }
}
