//! `confine seccomp disasm`

use crate::{output, Outcome};
use anyhow::{bail, Context};
use confine_bpf::{decode, disasm, validate};
use confine_cli::DisasmArgs;
use serde_json::json;
use std::io::Read;

/// Largest input read: a valid program is at most 4096 × 8 bytes; a little more is read so that
/// an overlong program is reported as such.
const MAX_BYTES: u64 = 1 << 20;

/// Check and disassemble a raw program.
pub fn run(a: DisasmArgs) -> anyhow::Result<Outcome> {
    let mut bytes = Vec::new();
    if a.file == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(&a.file)
            .and_then(|f| f.take(MAX_BYTES + 1).read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {}", a.file))?;
    }
    if bytes.len() as u64 > MAX_BYTES {
        bail!(
            "{}: larger than 1 MiB; a seccomp program is at most 4096 instructions (32 KiB)",
            a.file
        );
    }
    let prog = decode(&bytes).with_context(|| a.file.clone())?;
    if let Err(e) = validate(&prog) {
        bail!(
            "{}: the kernel would refuse this program (EINVAL): {e}",
            a.file
        );
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
