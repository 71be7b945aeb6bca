//! `confine seccomp diff`

use super::prepared_filter;
use crate::{host, output, Outcome};
use confine_abi::Arch;
use confine_bpf::action::describe;
use confine_bpf::stack::{compare_with, Comparison, Numbers, Verdict};
use confine_profile::Resolved;
use confine_seccomp::{compile_prepared, Generator, Options};
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
    let compile = |p| compile_prepared(p, Options::default(), Generator::Optimized);
    let (ca, cb) = (compile(sa)?, compile(sb)?);
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
    let differences = compare_with(&[ca.program], &[cb.program], &how)?;
    let count = differences.len();
    let mut text = String::new();
    for d in &differences {
        let name = d.name.unwrap_or("?");
        let (arch, nr) = (d.arch, d.nr);
        let (da, db) = (show(&d.left), show(&d.right));
        if a.json {
            text.push_str(&serde_json::to_string(&json!({
                "arch": arch.kernel_name(), "number": nr, "name": name, "a": da, "b": db,
                "example_args": d.example, "a_verdict": describe(d.left_ret), "b_verdict": describe(d.right_ret),
            }))?);
        } else {
            text.push_str(&format!(
                "{:<10} {name}({nr}): {}: {}  {}: {}",
                arch.kernel_name(),
                a.a.display(),
                da,
                a.b.display(),
                db
            ));
            let depends = |v: &Verdict| matches!(v, Verdict::Depends(_));
            if da == db || depends(&d.left) || depends(&d.right) {
                text.push_str(&format!(
                    "  (e.g. args [{}]: {} vs {})",
                    args_words(&d.example),
                    describe(d.left_ret),
                    describe(d.right_ret)
                ));
            }
        }
        text.push('\n');
    }
    if !a.json {
        text.push_str(&format!("{count} syscall number(s) decided differently\n"));
    }
    output::emit(&text, None)?;
    Ok(if count > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
