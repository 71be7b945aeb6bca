//! `confine seccomp syscalls`

use crate::{output, Outcome};
use anyhow::{bail, Context};
use confine_abi::{Arch, SyscallTable};
use confine_cli::SyscallsArgs;
use serde_json::json;

fn parse_number(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Print a table, or one syscall on every architecture.
pub fn run(a: SyscallsArgs) -> anyhow::Result<Outcome> {
    let arch = match &a.arch {
        Some(s) => Arch::parse(s).context("--arch")?,
        None => Arch::native(),
    };
    let mut text = String::new();
    match a.query.as_deref() {
        None => {
            let t = SyscallTable::for_arch(arch)?;
            if a.json {
                let entries: Vec<_> = t
                    .entries()
                    .map(|(nr, n)| json!({"number": nr, "name": n}))
                    .collect();
                let doc = json!({"arch": arch.kernel_name(), "table": t.name(), "sources": t.sources(), "entries": entries});
                text = serde_json::to_string_pretty(&doc)? + "\n";
            } else {
                for (nr, n) in t.entries() {
                    text.push_str(&format!("{nr}\t{n}\n"));
                }
            }
        }
        Some(q) if parse_number(q).is_some() => {
            let nr = parse_number(q).unwrap_or_default();
            let t = SyscallTable::for_arch(arch)?;
            let Some(name) = t.name_of(nr) else {
                bail!("no syscall number {q} on {arch}");
            };
            text = if a.json {
                serde_json::to_string(
                    &json!({"arch": arch.kernel_name(), "number": nr, "name": name}),
                )? + "\n"
            } else {
                format!("{arch}\t{nr}\t{name}\n")
            };
        }
        Some(name) => {
            let rows: Vec<(Arch, Option<u32>)> = Arch::supported()
                .map(|a| {
                    (
                        a,
                        SyscallTable::for_arch(a).ok().and_then(|t| t.number(name)),
                    )
                })
                .collect();
            if rows.iter().all(|(_, n)| n.is_none()) {
                bail!(
                    "unknown syscall `{name}`: not in the table of any architecture confine knows"
                );
            }
            if a.json {
                let v: Vec<_> = rows
                    .iter()
                    .map(|(a, n)| json!({"arch": a.kernel_name(), "number": n}))
                    .collect();
                text = serde_json::to_string_pretty(&json!({"name": name, "arches": v}))? + "\n";
            } else {
                for (a, n) in rows {
                    let n = n.map_or("-".to_string(), |n| n.to_string());
                    text.push_str(&format!("{:<12}{n}\n", a.kernel_name()));
                }
            }
        }
    }
    output::emit(&text, None)?;
    Ok(Outcome::Clean)
}
