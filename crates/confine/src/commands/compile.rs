//! `confine seccomp compile`

use super::prepared_filter;
use crate::output::{self, Json, Report};
use crate::{host, Outcome};
use anyhow::{bail, Context};
use confine_bpf::{cache, disasm, encode, Insn};
use confine_cli::{CompileArgs, CompileFormat};
use confine_seccomp::{compile_prepared, Compiled, Generator, Options};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Compile a profile and write the program.
pub fn run(a: CompileArgs) -> anyhow::Result<Outcome> {
    let host = host::from_args(&a.host)?;
    let Some(prepared) = prepared_filter(&a.profile, &host)? else {
        return Ok(Outcome::BadInput);
    };
    let options = Options {
        enosys_stub: !a.no_enosys_stub,
        arg_width: super::arg_width(a.arg_width),
    };
    let generator = if a.reference {
        Generator::Reference
    } else {
        Generator::Optimized
    };
    let compiled = compile_prepared(prepared, options, generator)?;
    let (policy, prog) = (&compiled.policy, &compiled.program);
    let arches: Vec<_> = policy.arches.iter().map(|x| x.arch.kernel_name()).collect();
    eprintln!(
        "confine: {} instructions for {} ({}; runc's -ENOSYS stub {})",
        prog.len(),
        arches.join(", "),
        if a.reference {
            "reference layout"
        } else {
            "optimised"
        },
        if policy.stub.is_empty() { "off" } else { "on" }
    );
    if a.verify {
        let proof = super::verify::prove_policy(prog, policy)?;
        if let Some(why) = super::verify::not_proved(&proof) {
            eprintln!("confine: the program is not proved to decide as the policy, nothing written: {why}");
            return Ok(Outcome::Findings);
        }
        eprintln!(
            "confine: proved: the program decides exactly as the policy for every input ({} cases)",
            proof.cases
        );
    }
    match a.format {
        CompileFormat::Raw => {
            let bytes = encode(prog);
            match &a.output {
                Some(p) => std::fs::write(p, bytes)
                    .with_context(|| format!("cannot write {}", p.display()))?,
                None => {
                    let mut out = std::io::stdout().lock();
                    if out.is_terminal() {
                        bail!("refusing to write a binary program to a terminal: give -o FILE or --format disasm");
                    }
                    out.write_all(&bytes)?;
                    out.flush()?;
                }
            }
        }
        CompileFormat::Disasm | CompileFormat::Json => {
            let json = matches!(a.format, CompileFormat::Json);
            output::print(&CompileReport(&compiled), json, a.output.as_deref())?;
        }
        CompileFormat::C => output::emit(&c_array(prog, &a.profile), a.output.as_deref())?,
    }
    Ok(Outcome::Clean)
}

pub(crate) fn c_array(prog: &[Insn], profile: &Path) -> String {
    let listing = disasm::disassemble(prog);
    let name = profile.display().to_string().replace("*/", "* /");
    let mut s = format!(
        "/* seccomp program compiled by confine {} from {name} */\n#include <linux/filter.h>\n\nstatic struct sock_filter confine_filter[{}] = {{\n",
        env!("CARGO_PKG_VERSION"),
        prog.len()
    );
    for (i, line) in prog.iter().zip(listing.lines()) {
        let comment = line.trim().replace("*/", "* /");
        s.push_str(&format!(
            "\t{{ 0x{:04x}, {:3}, {:3}, 0x{:08x} }}, /* {comment} */\n",
            i.code, i.jt, i.jf, i.k
        ));
    }
    s.push_str("};\n");
    s
}

/// A compiled program as `--format disasm` (text) and `--format json` show it.
struct CompileReport<'a>(&'a Compiled);

impl Report for CompileReport<'_> {
    fn text(&self) -> String {
        disasm::disassemble(&self.0.program)
    }

    fn json(&self) -> Json {
        let (policy, prog) = (&self.0.policy, &self.0.program);
        let arches: Vec<_> = policy.arches.iter().map(|x| x.arch.kernel_name()).collect();
        let native = policy.arches[0].arch;
        let cacheable = (0..1024u32)
            .filter(|&nr| cache::is_const_allow(prog, native.audit_arch(), nr))
            .count();
        Json::Document(json!({
            "arches": arches,
            "length": prog.len(),
            "default_action": policy.default_action.to_string(),
            "enosys_stub": policy.stub.iter().map(|(a, m)| json!({"arch": a.kernel_name(), "above": m})).collect::<Vec<_>>(),
            "flags": policy.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "unknown_names": policy.unknown_names,
            "native_cacheable_numbers": cacheable,
            "instructions": prog.iter().map(|i| json!({"code": i.code, "jt": i.jt, "jf": i.jf, "k": i.k})).collect::<Vec<_>>(),
        }))
    }

    fn outcome(&self) -> Outcome {
        Outcome::Clean
    }
}
