//! `confine seccomp eval`

use super::prepared_filter;
use crate::{host, output, Outcome};
use anyhow::{bail, Context};
use confine_abi::{Arch, SyscallTable};
use confine_bpf::{action, cache, decode, Emulator, SeccompData};
use confine_cli::EvalArgs;
use confine_seccomp::explain::{depends_on_arguments, explain};
use confine_seccomp::{optimize, Options};
use serde_json::json;

fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Evaluate one call.
pub fn run(a: EvalArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let arch = match &a.abi {
        Some(s) => Arch::parse(s).context("--abi")?,
        None => host.arch,
    };
    let table = SyscallTable::for_arch(arch)?;
    let (nr, name) = match number(&a.syscall) {
        Some(n) => (
            u32::try_from(n).context("syscall number above 2^32")?,
            table.name_of(n as u32).map(str::to_string),
        ),
        None => match table.number(&a.syscall) {
            Some(n) => (n, Some(a.syscall.clone())),
            None => bail!(
                "`{}` is not a syscall on {arch} (see `confine seccomp syscalls {}`)",
                a.syscall,
                a.syscall
            ),
        },
    };
    let mut args = [0u64; 6];
    for (i, s) in a.args.iter().enumerate() {
        args[i] = number(s).with_context(|| format!("argument {i}: `{s}` is not a number"))?;
    }
    let data = SeccompData {
        nr,
        arch: arch.audit_arch(),
        args,
        ..Default::default()
    };
    let call = format!(
        "{}({})",
        name.as_deref().unwrap_or(&format!("#{nr}")),
        a.args.join(", ")
    );
    let (prog, origin, depends) = match &a.bpf {
        Some(path) => {
            let bytes = super::disasm::read_program(path)?;
            (
                decode(&bytes).with_context(|| path.display().to_string())?,
                None,
                None,
            )
        }
        None => {
            let Some(prepared) = prepared_filter(&a.profile, &host)? else {
                return Ok(Outcome::BadInput);
            };
            let policy = prepared.policy(Options {
                enosys_stub: !a.no_enosys_stub,
            })?;
            let resolved = prepared.require_filter()?;
            let why = explain(&policy, resolved, arch, nr, name.as_deref(), &args);
            let depends = depends_on_arguments(&policy, arch, nr);
            (
                optimize::generate(&policy)?,
                Some(why.to_string()),
                Some(depends),
            )
        }
    };
    let emu = Emulator::new(&prog)
        .map_err(|e| anyhow::anyhow!("the kernel would refuse this program: {e}"))?;
    let (run, trace) = emu.run_traced(&data, arch.is_little_endian());
    let listing = confine_bpf::disasm::disassemble(&prog);
    let lines: Vec<&str> = listing.lines().collect();
    let path: Vec<String> = trace
        .iter()
        .map(|&pc| format!("{pc:5}: {}", lines.get(pc).map_or("", |l| l.trim_end())))
        .collect();
    let verdict = action::describe(run.ret);
    let cached = cache::is_const_allow(&prog, arch.audit_arch(), nr);
    let text = if a.json {
        serde_json::to_string(&json!({
            "arch": arch.kernel_name(), "syscall": name, "number": nr, "args": args,
            "action": verdict, "value": run.ret, "decided_by": origin, "depends_on_arguments": depends,
            "program_length": prog.len(), "executed": run.executed, "taken_jumps": run.taken_jumps, "cacheable": cached,
            "trace": if a.trace { Some(&trace) } else { None },
        }))? + "\n"
    } else {
        let mut t = format!("{call} on {arch}: {verdict}\n");
        if arch == Arch::X86_64 && (nr == 335 || nr == 336) {
            t.push_str("  note: the kernel passes uretprobe/uprobe through seccomp without running any filter (kernel/seccomp.c, seccomp_uprobe_exception; Linux 6.14 / 6.18)\n");
        }
        if let Some(o) = origin {
            t.push_str(&format!("  decided by {o}\n"));
        }
        t.push_str(&format!(
            "  program: {} instructions, {} executed, {} jumps taken; {}\n",
            prog.len(),
            run.executed,
            run.taken_jumps,
            if cached {
                "the kernel caches this call as always allowed"
            } else {
                "not cached by the kernel"
            }
        ));
        if a.trace {
            for line in &path {
                t.push_str(&format!("  {line}\n"));
            }
        }
        t
    };
    output::emit(&text, None)?;
    Ok(Outcome::Clean)
}
