//! `confine seccomp disasm`

use crate::{output, Outcome};
use anyhow::{bail, Context};
use confine_bpf::{decode, disasm, validate};
use confine_cli::DisasmArgs;
use serde_json::json;
use std::path::Path;

/// Largest input read: a valid program is at most 4096 × 8 bytes; a little more is read so that
/// an overlong program is reported as such.
pub const MAX_BYTES: u64 = 1 << 20;

/// Read a raw program: a regular file of at most 1 MiB, or standard input for `-`.
pub fn read_program(file: &Path) -> anyhow::Result<Vec<u8>> {
    confine_input::read_arg(file.as_os_str(), MAX_BYTES).map_err(|e| match e {
        confine_input::InputError::TooLarge { .. } => {
            anyhow::anyhow!("{e}; a seccomp program is at most 4096 instructions (32 KiB)")
        }
        e => anyhow::anyhow!("cannot read the seccomp program {e}"),
    })
}

/// Check and disassemble a raw program.
pub fn run(a: DisasmArgs) -> anyhow::Result<Outcome> {
    let bytes = read_program(&a.file)?;
    let name = a.file.display().to_string();
    let prog = decode(&bytes).with_context(|| name.clone())?;
    if let Err(e) = validate(&prog) {
        bail!("{name}: the kernel would refuse this program (EINVAL): {e}");
    }
    let text = disasm::disassemble(&prog);
    let out = if a.json {
        let mut s = String::new();
        for ((pc, i), line) in prog.iter().enumerate().zip(text.lines()) {
            let v = json!({"pc": pc, "code": i.code, "jt": i.jt, "jf": i.jf, "k": i.k, "text": line.trim()});
            s.push_str(&serde_json::to_string(&v)?);
            s.push('\n');
        }
        s
    } else {
        text
    };
    output::emit(&out, None)?;
    Ok(Outcome::Clean)
}
