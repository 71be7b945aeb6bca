//! `confine seccomp diff`

use super::prepared_filter;
use crate::{host, output, Outcome};
use confine_bpf::action::describe;
use confine_seccomp::Options;
use serde_json::json;

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

/// Compare two profiles on the host.
pub fn run(a: confine_cli::DiffArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let (Some(sa), Some(sb)) = (prepared_filter(&a.a, &host)?, prepared_filter(&a.b, &host)?)
    else {
        return Ok(Outcome::BadInput);
    };
    let (pa, pb) = (
        sa.policy(Options::default())?,
        sb.policy(Options::default())?,
    );
    let (Some(ra), Some(rb)) = (sa.resolved(), sb.resolved()) else {
        unreachable!("prepared_filter returns profiles that resolved to a filter");
    };
    let differences = confine_seccomp::diff::diff(&pa, ra, &pb, rb)?;
    let count = differences.len();
    let mut text = String::new();
    for d in &differences {
        let name = d.name.unwrap_or("?");
        let (arch, nr) = (d.arch, d.nr);
        if a.json {
            text.push_str(&serde_json::to_string(&json!({
                "arch": arch.kernel_name(), "number": nr, "name": name, "a": d.a, "b": d.b,
                "example_args": d.example, "a_verdict": describe(d.a_verdict), "b_verdict": describe(d.b_verdict),
            }))?);
        } else {
            text.push_str(&format!(
                "{:<10} {name}({nr}): {}: {}  {}: {}",
                arch.kernel_name(),
                a.a.display(),
                d.a,
                a.b.display(),
                d.b
            ));
            if d.a == d.b || d.a.starts_with("depends") || d.b.starts_with("depends") {
                text.push_str(&format!(
                    "  (e.g. args [{}]: {} vs {})",
                    args_words(&d.example),
                    describe(d.a_verdict),
                    describe(d.b_verdict)
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
