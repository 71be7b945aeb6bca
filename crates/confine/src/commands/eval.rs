//! `confine seccomp eval`

use super::prepared_filter;
use crate::output::{self, Json, Report};
use crate::{host, Outcome};
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
                enosys_stub: !a.codegen.no_enosys_stub,
                arg_width: super::arg_width(a.codegen.arg_width),
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
    let widths = width_notes(&emu, &data, arch, run.ret);
    let report = EvalReport {
        arch,
        call,
        name,
        nr,
        args,
        ret: run.ret,
        origin,
        depends,
        length: prog.len(),
        executed: run.executed,
        taken_jumps: run.taken_jumps,
        cached: cache::is_const_allow(&prog, arch.audit_arch(), nr),
        widths,
        trace: a.trace.then(|| {
            let listing = confine_bpf::disasm::disassemble(&prog);
            let lines: Vec<&str> = listing.lines().collect();
            trace
                .iter()
                .map(|&pc| (pc, lines.get(pc).map_or("", |l| l.trim_end()).to_string()))
                .collect()
        }),
    };
    output::print(&report, a.json, None)
}

/// One call's verdict and how the program reached it.
struct EvalReport {
    arch: Arch,
    /// The call as written: `name(args…)`.
    call: String,
    name: Option<String>,
    nr: u32,
    args: [u64; 6],
    ret: u32,
    /// Which rule decided (from a profile; `None` for a raw program).
    origin: Option<String>,
    depends: Option<bool>,
    length: usize,
    executed: usize,
    taken_jumps: usize,
    cached: bool,
    /// With --trace: the instructions executed, with their listing.
    trace: Option<Vec<(usize, String)>>,
    /// Arguments the kernel reads narrower than the filter compares them, whose bits above
    /// change this call's verdict.
    widths: Vec<WidthNote>,
}

/// A narrow argument whose bits above the ones the kernel reads change the verdict.
struct WidthNote {
    arg: u8,
    ty: confine_abi::argtypes::ArgType,
    /// The call with the argument as the kernel reads it (its natural register value) or,
    /// when it already is, with bits set above.
    other: u64,
    other_ret: u32,
}

/// For each argument of the call the kernel reads narrower than 64 bits: the verdict of the
/// same call with the argument's natural value, or, when it has it already, with bits set
/// above the ones the kernel reads; a note when that verdict differs.
fn width_notes(emu: &Emulator, data: &SeccompData, arch: Arch, ret: u32) -> Vec<WidthNote> {
    let mut out = Vec::new();
    if !arch.args64() {
        return out;
    }
    for (arg, ty) in confine_abi::argtypes::narrow_args(arch, data.nr) {
        let i = arg as usize;
        let v = data.args[i];
        let natural = ty.natural(v);
        let bits = u32::from(ty.bits);
        let tries: Vec<u64> = if v != natural {
            vec![natural]
        } else {
            [1u64, u64::MAX >> bits]
                .iter()
                .map(|h| (h << bits) | (v & ty.mask()))
                .collect()
        };
        for other in tries {
            let mut d = *data;
            d.args[i] = other;
            let other_ret = emu.run(&d, arch.is_little_endian()).ret;
            if other_ret != ret {
                out.push(WidthNote {
                    arg,
                    ty,
                    other,
                    other_ret,
                });
                break;
            }
        }
    }
    out
}

impl Report for EvalReport {
    fn text(&self) -> String {
        let verdict = action::describe(self.ret);
        let (arch, nr) = (self.arch, self.nr);
        let mut t = format!("{} on {arch}: {verdict}\n", self.call);
        if arch == Arch::X86_64 && (nr == 335 || nr == 336) {
            t.push_str("  note: the kernel passes uretprobe/uprobe through seccomp without running any filter (kernel/seccomp.c, seccomp_uprobe_exception; Linux 6.14 / 6.18)\n");
        }
        if let Some(o) = &self.origin {
            t.push_str(&format!("  decided by {o}\n"));
        }
        t.push_str(&format!(
            "  program: {} instructions, {} executed, {} jumps taken; {}\n",
            self.length,
            self.executed,
            self.taken_jumps,
            if self.cached {
                "the kernel caches this call as always allowed"
            } else {
                "not cached by the kernel"
            }
        ));
        for w in &self.widths {
            let v = self.args[w.arg as usize];
            let read = |x: u64| {
                if w.ty.signed {
                    (w.ty.natural(x) as i64).to_string()
                } else {
                    confine_audit::word(x & w.ty.mask())
                }
            };
            t.push_str(&format!(
                "  note: arg{} is {} `{}`: the kernel reads its low {} bits ({}), the filter all 64: {} with arg{} = {} gets {}\n",
                w.arg,
                if w.ty.c_type.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" },
                w.ty.c_type,
                w.ty.bits,
                read(v),
                if v == w.ty.natural(v) { "the same call" } else { "the call the kernel sees" },
                w.arg,
                confine_audit::word(w.other),
                action::describe(w.other_ret),
            ));
        }
        for (pc, line) in self.trace.iter().flatten() {
            t.push_str(&format!("  {pc:5}: {line}\n"));
        }
        t
    }

    fn json(&self) -> Json {
        let trace: Option<Vec<usize>> = self
            .trace
            .as_ref()
            .map(|t| t.iter().map(|(pc, _)| *pc).collect());
        Json::Line(json!({
            "arch": self.arch.kernel_name(), "syscall": self.name, "number": self.nr, "args": self.args,
            "action": action::describe(self.ret), "value": self.ret, "decided_by": self.origin, "depends_on_arguments": self.depends,
            "program_length": self.length, "executed": self.executed, "taken_jumps": self.taken_jumps, "cacheable": self.cached,
            "trace": trace,
            "arg_width": self.widths.iter().map(|w| json!({
                "arg": w.arg, "type": w.ty.c_type, "bits": w.ty.bits,
                "other_value": confine_audit::word(w.other), "other_action": action::describe(w.other_ret),
            })).collect::<Vec<_>>(),
        }))
    }

    fn outcome(&self) -> Outcome {
        Outcome::Clean
    }
}
