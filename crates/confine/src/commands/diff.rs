//! `confine seccomp diff`

use super::prepared_filter;
use crate::output::{self, Json, Report};
use crate::{host, Outcome};
use confine_abi::Arch;
use confine_bpf::action::describe;
use confine_bpf::stack::{compare_with, Comparison, Difference, Numbers, Verdict};
use confine_profile::Resolved;
use confine_seccomp::{compile_prepared, ArgWidth, Generator, Options};
use serde_json::json;
use std::collections::BTreeSet;

/// Argument values as `seccomp eval` reads them back: decimal below 10 (the same in either
/// base), otherwise hex with `0x`.
fn args_words(args: &[u64; 6]) -> String {
    let word = |v: &u64| {
        if *v < 10 {
            v.to_string()
        } else {
            format!("{v:#x}")
        }
    };
    args.iter().map(word).collect::<Vec<_>>().join(", ")
}

/// Argument vectors that tell argument-dependent decisions apart, tried before the engine's
/// own: all zero, then every constant of both profiles (and 0, 1, 2^32-1, 2^64-1), ±1, on
/// each argument alone.
fn probes(a: &Resolved, b: &Resolved) -> Vec<[u64; 6]> {
    let mut consts: BTreeSet<u64> = [0u64, 1, 0xffff_ffff, u64::MAX].into();
    for r in a.rules.iter().chain(&b.rules) {
        for x in &r.args {
            for v in [x.value, x.value_two] {
                consts.extend([v.wrapping_sub(1), v, v.wrapping_add(1)]);
            }
        }
    }
    let mut out = vec![[0u64; 6]];
    for c in consts {
        for i in 0..6 {
            let mut v = [0u64; 6];
            v[i] = c;
            out.push(v);
        }
    }
    out
}

/// What a program does with a number as a whole: an action, or "depends on arguments".
fn show(v: &Verdict) -> String {
    match v {
        Verdict::Fixed(r) => describe(*r),
        Verdict::Depends(_) => "depends on arguments".into(),
        Verdict::Undecided(_) => v.describe(),
    }
}

/// Compare two profiles on the host: both compiled by the pipeline, their programs compared
/// by the diff engine of confine-bpf on every number of [`Arch::probe_range`] of every ABI
/// either covers (the first profile's, then the second's new ones).
pub fn run(a: confine_cli::DiffArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let (Some(sa), Some(sb)) = (prepared_filter(&a.a, &host)?, prepared_filter(&a.b, &host)?)
    else {
        return Ok(Outcome::BadInput);
    };
    let report = DiffReport {
        a: a.a.display().to_string(),
        b: a.b.display().to_string(),
        differences: differences_with(
            (sa, super::arg_width(a.arg_width)),
            (sb, super::arg_width(a.b_arg_width.unwrap_or(a.arg_width))),
        )?,
    };
    output::print(&report, a.json, None)
}

/// The syscall numbers two prepared profiles decide differently, on every ABI either covers.
pub(crate) fn differences(
    sa: confine_seccomp::Prepared,
    sb: confine_seccomp::Prepared,
) -> anyhow::Result<Vec<Difference>> {
    differences_with((sa, ArgWidth::Faithful), (sb, ArgWidth::Faithful))
}

/// [`differences`], each profile compiled with its argument width.
pub(crate) fn differences_with(
    a: (confine_seccomp::Prepared, ArgWidth),
    b: (confine_seccomp::Prepared, ArgWidth),
) -> anyhow::Result<Vec<Difference>> {
    let compile = |(p, arg_width)| {
        let options = Options {
            arg_width,
            ..Options::default()
        };
        compile_prepared(p, options, Generator::Optimized)
    };
    let (ca, cb) = (compile(a)?, compile(b)?);
    let mut arches: Vec<Arch> = ca.policy.arches.iter().map(|x| x.arch).collect();
    for x in &cb.policy.arches {
        if !arches.contains(&x.arch) {
            arches.push(x.arch);
        }
    }
    let how = Comparison {
        arches,
        numbers: Numbers::ProbeRange,
        probes: probes(ca.resolved(), cb.resolved()),
    };
    Ok(compare_with(&[ca.program], &[cb.program], &how)?)
}

/// `seccomp diff`'s result: the syscall numbers the two profiles decide differently.
struct DiffReport {
    /// The first profile as named on the command line.
    a: String,
    /// The second.
    b: String,
    /// In ABI order, then number order.
    differences: Vec<Difference>,
}

impl Report for DiffReport {
    /// One line per difference (with an example argument vector where a side depends on the
    /// arguments, or where both describe alike), then the count.
    fn text(&self) -> String {
        let mut text = String::new();
        for d in &self.differences {
            let (da, db) = (show(&d.left), show(&d.right));
            text.push_str(&format!(
                "{:<10} {}({}): {}: {da}  {}: {db}",
                d.arch.kernel_name(),
                d.name.unwrap_or("?"),
                d.nr,
                self.a,
                self.b,
            ));
            let depends = |v: &Verdict| matches!(v, Verdict::Depends(_));
            if d.undecided {
                text.push_str(&format!(
                    "  (not decoded fully; args [{}] tried and the others agree: {} vs {})",
                    args_words(&d.example),
                    describe(d.left_ret),
                    describe(d.right_ret)
                ));
            } else if da == db || depends(&d.left) || depends(&d.right) {
                text.push_str(&format!(
                    "  (e.g. args [{}]: {} vs {})",
                    args_words(&d.example),
                    describe(d.left_ret),
                    describe(d.right_ret)
                ));
            }
            text.push('\n');
        }
        let undecided = self.differences.iter().filter(|d| d.undecided).count();
        text.push_str(&format!(
            "{} syscall number(s) decided differently\n",
            self.differences.len() - undecided
        ));
        if undecided > 0 {
            text.push_str(&format!(
                "{undecided} syscall number(s) undecided: too complex to decode fully, no argument vector tried shows a difference\n"
            ));
        }
        text
    }

    /// JSON Lines: one object per difference, nothing when the profiles decide alike.
    fn json(&self) -> Json {
        Json::Lines(
            self.differences
                .iter()
                .map(|d| {
                    json!({
                        "arch": d.arch.kernel_name(), "number": d.nr, "name": d.name.unwrap_or("?"),
                        "a": show(&d.left), "b": show(&d.right), "example_args": d.example,
                        "a_verdict": describe(d.left_ret), "b_verdict": describe(d.right_ret),
                        "undecided": d.undecided,
                    })
                })
                .collect(),
        )
    }

    /// Findings when the profiles differ.
    fn outcome(&self) -> Outcome {
        if self.differences.is_empty() {
            Outcome::Clean
        } else {
            Outcome::Findings
        }
    }
}
