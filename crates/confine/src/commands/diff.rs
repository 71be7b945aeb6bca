//! `confine seccomp diff`

use super::resolved_profile;
use crate::{host, output, Outcome};
use confine_abi::{Arch, SyscallTable};
use confine_bpf::action::describe;
use confine_profile::Resolved;
use confine_seccomp::policy::Leaf;
use confine_seccomp::{build, Options, Policy};
use serde_json::json;
use std::collections::BTreeSet;

/// Argument vectors that tell argument-dependent decisions apart: every constant of both
/// profiles, ±1, on each argument.
fn vectors(a: &Resolved, b: &Resolved) -> Vec<[u64; 6]> {
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

fn show(p: &Policy, audit: u32, nr: u32) -> String {
    match p.leaf(audit, nr) {
        Leaf::Ret(v) => describe(v),
        Leaf::Tree(..) => "depends on arguments".into(),
    }
}

/// Compare two profiles on the host.
pub fn run(a: confine_cli::DiffArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let (Some((_, ra)), Some((_, rb))) = (
        resolved_profile(&a.a, &host)?,
        resolved_profile(&a.b, &host)?,
    ) else {
        return Ok(Outcome::BadInput);
    };
    let (pa, pb) = (
        build(&ra, Options::default())?,
        build(&rb, Options::default())?,
    );
    let vecs = vectors(&ra, &rb);
    let mut arches: Vec<Arch> = pa.arches.iter().map(|x| x.arch).collect();
    for x in &pb.arches {
        if !arches.contains(&x.arch) {
            arches.push(x.arch);
        }
    }
    let mut text = String::new();
    let mut count = 0;
    for arch in arches {
        let audit = arch.audit_arch();
        let table = SyscallTable::for_arch(arch)?;
        let base = if arch == Arch::X32 {
            0x4000_0000
        } else {
            table.entries().next().map_or(0, |e| e.0 / 1000 * 1000)
        };
        let top = table
            .entries()
            .map(|e| e.0)
            .filter(|&n| n < base + 1000)
            .max()
            .unwrap_or(base)
            + 64;
        for nr in base..=top {
            let differing: Vec<&[u64; 6]> = vecs
                .iter()
                .filter(|v| pa.eval(audit, nr, v) != pb.eval(audit, nr, v))
                .collect();
            if differing.is_empty() {
                continue;
            }
            count += 1;
            let name = table.name_of(nr).unwrap_or("?");
            let (da, db) = (show(&pa, audit, nr), show(&pb, audit, nr));
            if a.json {
                let example = differing[0];
                text.push_str(&serde_json::to_string(&json!({
                    "arch": arch.kernel_name(), "number": nr, "name": name, "a": da, "b": db,
                    "example_args": example, "a_verdict": describe(pa.eval(audit, nr, example)), "b_verdict": describe(pb.eval(audit, nr, example)),
                }))?);
                text.push('\n');
            } else {
                text.push_str(&format!(
                    "{:<10} {name}({nr}): {}: {da}  {}: {db}",
                    arch.kernel_name(),
                    a.a.display(),
                    a.b.display()
                ));
                if da == db || da.starts_with("depends") || db.starts_with("depends") {
                    let e = differing[0];
                    text.push_str(&format!(
                        "  (e.g. args [{}]: {} vs {})",
                        args_words(e),
                        describe(pa.eval(audit, nr, e)),
                        describe(pb.eval(audit, nr, e))
                    ));
                }
                text.push('\n');
            }
        }
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
