//! `confine seccomp verify`: a proof over every input (confine_bpf::verify) that a program
//! decides exactly as a profile's policy, or as another program.

use super::prepared_filter;
use crate::output::{self, Json, Report};
use crate::{host, Outcome};
use anyhow::Context;
use confine_abi::{Arch, SyscallTable};
use confine_bpf::action::describe;
use confine_bpf::validate::MAX_INSNS;
use confine_bpf::verify::cell::{data_of, little_endian};
use confine_bpf::verify::DEFAULT_WORK;
use confine_bpf::verify::{prove, Difference, Program, Proof, Side, Undecided, Verdict};
use confine_bpf::{decode, Insn, Invalid};
use confine_seccomp::verify::PolicySide;
use confine_seccomp::{optimize, Options, Policy};
use serde_json::json;
use std::path::Path;

/// A raw program file may be read up to this size: longer than the kernel accepts, so that a
/// program over 4,096 instructions is answered "undecided" rather than refused unread.
const MAX_READ: u64 = 1 << 20;

/// Read and decode a raw program.
fn read(path: &Path) -> anyhow::Result<Vec<Insn>> {
    let bytes = confine_input::read_arg(path.as_os_str(), MAX_READ)
        .map_err(|e| anyhow::anyhow!("cannot read the seccomp program {e}"))?;
    decode(&bytes).with_context(|| path.display().to_string())
}

/// What one side of the proof is, for the report.
fn side_program<'a>(prog: &'a [Insn], name: &str) -> Result<Program<'a>, Check> {
    match Program::new(prog) {
        Ok(p) => Ok(p),
        Err(Invalid::TooLong(n)) => Err(Check::Undecided(format!(
            "{name} has {n} instructions, over the {MAX_INSNS} the kernel accepts and the proof \
             follows"
        ))),
        Err(e) => Err(Check::Invalid(format!(
            "{name}: the kernel would refuse this program: {e}"
        ))),
    }
}

/// A side that cannot take part in a proof.
enum Check {
    /// Too long: undecided (exit 1).
    Undecided(String),
    /// Refused by the kernel's checks: bad input (exit 2).
    Invalid(String),
}

/// Prove a compiled program against its policy (`seccomp compile --verify`, `run --security-opt
/// seccomp-verify`).
pub fn prove_policy(prog: &[Insn], policy: &Policy) -> anyhow::Result<Proof> {
    let p = Program::new(prog).map_err(|e| anyhow::anyhow!("the program is refused: {e}"))?;
    Ok(prove(&p, &PolicySide::new(policy), DEFAULT_WORK))
}

/// One line saying why a proof is not "proved" (for the callers that refuse then).
pub fn not_proved(proof: &Proof) -> Option<String> {
    match &proof.verdict {
        Verdict::Proved => None,
        Verdict::Differ(d) => Some(format!(
            "{} difference(s), e.g. {}",
            d.len(),
            d.first()
                .map(|x| one_line(x, "program", "policy"))
                .unwrap_or_default()
        )),
        Verdict::Undecided(u, _) => Some(format!("undecided: {u}")),
    }
}

pub fn run(a: confine_cli::VerifyArgs) -> anyhow::Result<Outcome> {
    let left_prog: Vec<Insn>;
    let policy: Option<Policy>;
    let left_name: String;
    let needs_profile = a.bpf.is_none() || a.against.is_none();
    let mut profile_name = a.profile.display().to_string();
    if needs_profile {
        let host = host::from_args(&a.host)?;
        let Some(prepared) = prepared_filter(&a.profile, &host)? else {
            return Ok(Outcome::BadInput);
        };
        profile_name = prepared.label.clone();
        let p = prepared.policy(Options {
            enosys_stub: !a.codegen.no_enosys_stub,
            arg_width: super::arg_width(a.codegen.arg_width),
        })?;
        policy = Some(p);
    } else {
        policy = None;
    }
    match &a.bpf {
        Some(path) => {
            left_prog = read(path)?;
            left_name = path.display().to_string();
        }
        None => {
            let p = policy.as_ref().context("no policy")?;
            left_prog = optimize::generate(p)?;
            left_name = format!("the program compiled from {profile_name}");
        }
    }
    let right_prog = match &a.against {
        Some(path) => Some(read(path)?),
        None => None,
    };
    let right_name = match &a.against {
        Some(path) => path.display().to_string(),
        None => format!("the policy of {profile_name}"),
    };
    let left = match side_program(&left_prog, &left_name) {
        Ok(p) => p,
        Err(Check::Invalid(m)) => anyhow::bail!(m),
        Err(Check::Undecided(m)) => return undecided_report(&left_name, &right_name, m, a.json),
    };
    let t = std::time::Instant::now();
    let proof = match &right_prog {
        Some(rp) => {
            let right = match side_program(rp, &right_name) {
                Ok(p) => p,
                Err(Check::Invalid(m)) => anyhow::bail!(m),
                Err(Check::Undecided(m)) => {
                    return undecided_report(&left_name, &right_name, m, a.json)
                }
            };
            prove(&left, &right, DEFAULT_WORK)
        }
        None => {
            let p = policy.as_ref().context("no policy")?;
            prove(&left, &PolicySide::new(p) as &dyn Side, DEFAULT_WORK)
        }
    };
    let report = VerifyReport {
        left: left_name,
        right: right_name,
        left_len: left_prog.len(),
        proof,
        micros: t.elapsed().as_micros(),
        reason: None,
    };
    output::print(&report, a.json, None)
}

fn undecided_report(left: &str, right: &str, why: String, json: bool) -> anyhow::Result<Outcome> {
    let report = VerifyReport {
        left: left.to_string(),
        right: right.to_string(),
        left_len: 0,
        proof: Proof {
            verdict: Verdict::Undecided(Undecided::Work(0), Vec::new()),
            cases: 0,
        },
        micros: 0,
        reason: Some(why),
    };
    output::print(&report, json, None)
}

/// The ABI of a call: the audit value's architecture (x32 for a number with the x32 bit on
/// x86_64's audit value).
fn abi_of(audit: u32, nr: u32) -> Option<Arch> {
    let mut it = Arch::supported().filter(|a| a.audit_arch() == audit);
    let first = it.next()?;
    if first.audit_arch() == Arch::X86_64.audit_arch() {
        return Some(if Arch::is_x32_number(nr) {
            Arch::X32
        } else {
            Arch::X86_64
        });
    }
    Some(first)
}

fn hex(v: u64) -> String {
    if v < 10 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

fn call_of(d: &Difference) -> (String, String, String) {
    let audit = d.words[1];
    let data = data_of(&d.words, little_endian(audit));
    let abi = abi_of(audit, data.nr);
    let arch = match (d.arch, abi) {
        (Some(_), Some(a)) => a.kernel_name().to_string(),
        (Some(v), None) => format!("arch {v:#x}"),
        (None, _) => format!("other arches (e.g. {audit:#x})"),
    };
    let name = abi
        .filter(|_| d.arch.is_some())
        .and_then(|a| SyscallTable::for_arch(a).ok())
        .and_then(|t| t.name_of(data.nr));
    let call = match name {
        Some(n) => format!("{n}({})", data.nr),
        None => format!("nr {}", data.nr),
    };
    let nr = if d.nr_range.0 == d.nr_range.1 {
        call
    } else {
        format!("nr {}..={} (e.g. {call})", d.nr_range.0, d.nr_range.1)
    };
    let args = data
        .args
        .iter()
        .map(|v| hex(*v))
        .collect::<Vec<_>>()
        .join(", ");
    (arch, nr, args)
}

fn one_line(d: &Difference, l: &str, r: &str) -> String {
    let (arch, nr, args) = call_of(d);
    format!(
        "{arch} {nr} args [{args}]: {l}: {}  {r}: {}",
        describe(d.left),
        describe(d.right)
    )
}

/// `seccomp verify`'s result.
struct VerifyReport {
    left: String,
    right: String,
    left_len: usize,
    proof: Proof,
    micros: u128,
    /// Why no proof was attempted (a program over 4,096 instructions).
    reason: Option<String>,
}

impl VerifyReport {
    fn diffs(&self) -> &[Difference] {
        match &self.proof.verdict {
            Verdict::Proved => &[],
            Verdict::Differ(d) | Verdict::Undecided(_, d) => d,
        }
    }

    fn why(&self) -> Option<String> {
        match (&self.reason, &self.proof.verdict) {
            (Some(r), _) => Some(r.clone()),
            (None, Verdict::Undecided(u, _)) => Some(u.to_string()),
            _ => None,
        }
    }
}

impl Report for VerifyReport {
    fn text(&self) -> String {
        let mut s = String::new();
        for d in self.diffs() {
            s.push_str(&one_line(d, "program", "expected"));
            s.push('\n');
        }
        match (&self.proof.verdict, self.why()) {
            (_, Some(why)) => s.push_str(&format!(
                "undecided: {} against {}: {why}\n",
                self.left, self.right
            )),
            (Verdict::Proved, None) => s.push_str(&format!(
                "proved: {} ({} instructions) decides exactly as {} for every arch, syscall \
                 number and argument ({} cases)\n",
                self.left, self.left_len, self.right, self.proof.cases
            )),
            _ => s.push_str(&format!(
                "{} difference class(es) between {} (program) and {} (expected), {} cases\n",
                self.diffs().len(),
                self.left,
                self.right,
                self.proof.cases
            )),
        }
        s
    }

    fn json(&self) -> Json {
        let result = match (&self.proof.verdict, self.why()) {
            (_, Some(_)) => "undecided",
            (Verdict::Proved, None) => "proved",
            _ => "counterexample",
        };
        let diffs: Vec<serde_json::Value> = self
            .diffs()
            .iter()
            .map(|d| {
                let (arch, call, _) = call_of(d);
                let data = data_of(&d.words, little_endian(d.words[1]));
                json!({
                    "arch": d.words[1],
                    "arch_name": arch,
                    "arch_exact": d.arch.is_some(),
                    "nr": data.nr,
                    "nr_range": [d.nr_range.0, d.nr_range.1],
                    "call": call,
                    "args": data.args,
                    "instruction_pointer": data.instruction_pointer,
                    "program": d.left,
                    "program_action": describe(d.left),
                    "expected": d.right,
                    "expected_action": describe(d.right),
                })
            })
            .collect();
        Json::Document(json!({
            "result": result,
            "program": self.left,
            "against": self.right,
            "instructions": self.left_len,
            "cases": self.proof.cases,
            "reason": self.why(),
            "differences": diffs,
            "microseconds": self.micros as u64,
        }))
    }

    fn outcome(&self) -> Outcome {
        match (&self.proof.verdict, &self.reason) {
            (Verdict::Proved, None) => Outcome::Clean,
            _ => Outcome::Findings,
        }
    }
}
