//! `confine seccomp merge`

use super::print_diagnostics;
use crate::output::{self, Json, Report};
use crate::Outcome;
use confine_cli::MergeArgs;
use confine_profile::merge::{merge, Input, Merged, WideningKind};
use confine_profile::{emit, Parsed, Source};
use serde_json::json;

/// Load every profile (diagnostics to stderr), merge them, write the union; the summary goes
/// to stderr as text, or to stdout as JSON with --json (which needs -o).
pub fn run(a: MergeArgs) -> anyhow::Result<Outcome> {
    if a.profiles.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        eprintln!("confine: error: standard input (`-`) can be given only once");
        return Ok(Outcome::BadInput);
    }
    let mut loaded: Vec<(String, Parsed)> = Vec::new();
    for spec in &a.profiles {
        let source = Source::from_arg(spec);
        let parsed = confine_profile::load(&source)?;
        print_diagnostics(&parsed.diagnostics);
        loaded.push((source.label(), parsed));
    }
    let mut inputs = Vec::new();
    for (label, parsed) in &loaded {
        let Some(profile) = &parsed.profile else {
            return Ok(Outcome::BadInput);
        };
        inputs.push(Input {
            label,
            profile,
            lines: &parsed.lines,
        });
    }
    let merged = merge(&inputs)?;
    let text = emit::profile_to_json(&merged.profile);
    match &a.output {
        Some(path) => output::write_atomic(path, &text)?,
        None => output::emit(&text, None)?,
    }
    let report = MergeReport {
        inputs: loaded.into_iter().map(|(label, _)| label).collect(),
        output: a.output.as_ref().map(|p| p.display().to_string()),
        merged,
    };
    if a.json {
        output::print(&report, true, None)
    } else {
        eprint!("{}", report.text());
        Ok(report.outcome())
    }
}

/// `seccomp merge`'s summary: what went in, what the union allows, what it widened.
struct MergeReport {
    /// The inputs as named in messages.
    inputs: Vec<String>,
    /// The file written, `None` for standard output.
    output: Option<String>,
    merged: Merged,
}

impl Report for MergeReport {
    /// A count line, then one line per widening, located at the narrower rule.
    fn text(&self) -> String {
        let m = &self.merged;
        let mut text = format!(
            "confine: merged {} profiles into {}: {} syscall(s) allowed, {} for some arguments only, {} widening(s)\n",
            self.inputs.len(),
            self.output.as_deref().unwrap_or("standard output"),
            m.allowed().len(),
            m.allowed_conditionally().len(),
            m.widenings.len()
        );
        for w in &m.widenings {
            let how = match (w.kind, w.conditional) {
                (WideningKind::Covered, _) => "covered by the unconditional ALLOW of",
                (WideningKind::AllowWins, false) => "replaced by the ALLOW of",
                (WideningKind::AllowWins, true) => {
                    "replaced by the conditional ALLOW (other arguments get the default action) of"
                }
            };
            let kind = match w.kind {
                WideningKind::Covered => "covered",
                WideningKind::AllowWins => "allow-wins",
            };
            text.push_str(&format!(
                "{}: widened: {}: {} {how} {} [{kind}]\n",
                w.rule, w.syscall, w.was, w.allowed_by
            ));
        }
        text
    }

    /// One document: inputs, output, the syscalls allowed (with any arguments, for some) and
    /// the widenings.
    fn json(&self) -> Json {
        let m = &self.merged;
        Json::Document(json!({
            "inputs": self.inputs,
            "output": self.output,
            "defaultAction": m.profile.default_action.map(|a| a.as_str()),
            "rules": m.profile.syscalls.len(),
            "syscalls": m.syscalls(),
            "allowed": m.allowed(),
            "allowed_conditionally": m.allowed_conditionally(),
            "widenings": m.widenings,
        }))
    }

    fn outcome(&self) -> Outcome {
        Outcome::Clean
    }
}
