//! `cargo run --release -p confine-bench --bin verify_time`: how long `seccomp verify` takes
//! to prove a program decides exactly as its profile's policy for every input, beside the
//! time to compile it. Rows: Docker's default for amd64 (x86_64 with x86 and x32) and for
//! arm64, Podman's for amd64, the three largest of 2,000 seeded random profiles (many rules
//! with argument conditions over the whole x86_64 table), and a 4,096-instruction program
//! (the kernel's maximum: a `jeq` chain over 2,047 numbers) proved against itself. Medians of
//! repeated runs; prints a Markdown table.

use confine_abi::{Arch, CapSet, SyscallTable};
use confine_bpf::verify::{prove, Program, Proof, Verdict, DEFAULT_WORK};
use confine_bpf::Insn;
use confine_profile::{
    load, Action, Arg, Host, KernelVersion, Operator, Resolved, ResolvedRule, Source,
};
use confine_seccomp::verify::PolicySide;
use confine_seccomp::{build, optimize, prepare_parsed, Options};
use std::time::Instant;

fn host(arch: Arch) -> Host {
    Host {
        arch,
        caps: CapSet::docker_default(),
        kernel: KernelVersion {
            kernel: 6,
            major: 8,
        },
    }
}

fn resolved(source: Source, arch: Arch) -> Resolved {
    let parsed = load(&source).unwrap();
    let prepared = prepare_parsed("bench".into(), parsed, &host(arch)).unwrap();
    prepared.require_filter().unwrap().clone()
}

/// The median of `n` timings of `f`, in milliseconds.
fn median_ms<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(n);
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        last = Some(v);
    }
    times.sort_by(f64::total_cmp);
    (times[n / 2], last.unwrap())
}

struct Row {
    name: String,
    insns: usize,
    compile_ms: Option<f64>,
    proof_ms: f64,
    proof: Proof,
}

fn profile_row(name: &str, r: &Resolved, n: usize) -> Row {
    let (compile_ms, (policy, prog)) = median_ms(n, || {
        let p = build(r, Options::default()).unwrap();
        let prog = optimize::generate(&p).unwrap();
        (p, prog)
    });
    let (proof_ms, proof) = median_ms(n, || {
        prove(
            &Program::new(&prog).unwrap(),
            &PolicySide::new(&policy),
            DEFAULT_WORK,
        )
    });
    Row {
        name: name.into(),
        insns: prog.len(),
        compile_ms: Some(compile_ms),
        proof_ms,
        proof,
    }
}

/// splitmix64.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A large random profile: up to 300 rules over the x86_64 table, a third of them with up to
/// three argument conditions.
fn random_profile(rng: &mut Rng, names: &[&str]) -> Resolved {
    let values = [
        0u64,
        1,
        2,
        0x10,
        0xff,
        0x8000_0000,
        0xffff_ffff,
        1 << 32,
        u64::MAX,
    ];
    let actions = [
        (Action::Allow, None),
        (Action::Errno, Some(1)),
        (Action::Errno, Some(13)),
        (Action::Trap, None),
        (Action::Log, None),
    ];
    let rules = (0..50 + rng.below(250))
        .map(|i| {
            let names: Vec<String> = (0..1 + rng.below(4))
                .map(|_| names[rng.below(names.len())].to_string())
                .collect();
            let (action, errno_ret) = actions[rng.below(actions.len())];
            let args = if rng.below(3) == 0 {
                (0..1 + rng.below(3))
                    .map(|k| Arg {
                        index: k as u32,
                        value: values[rng.below(values.len())],
                        value_two: values[rng.below(values.len())],
                        op: Operator::ALL[rng.below(Operator::ALL.len())],
                    })
                    .collect()
            } else {
                Vec::new()
            };
            ResolvedRule {
                names: names.into(),
                action,
                errno_ret,
                args,
                comment: None,
                source_index: i,
            }
        })
        .collect();
    Resolved {
        default_action: Action::Errno,
        default_errno_ret: Some(1),
        architectures: vec![Arch::X86_64, Arch::X86, Arch::X32],
        flags: None,
        listener_path: None,
        listener_metadata: None,
        rules,
        host: host(Arch::X86_64),
    }
}

/// 4,096 instructions: `ld nr`, then 2,047 times `jeq #n` → `ret ERRNO(n)`, then ALLOW.
fn longest() -> Vec<Insn> {
    let mut p = vec![Insn::stmt(0x20, 0)];
    for n in 0..2047u32 {
        p.push(Insn::jump(0x15, n * 3, 0, 1));
        p.push(Insn::stmt(0x06, 0x0005_0000 | (n & 0xfff)));
    }
    p.push(Insn::stmt(0x06, 0x7fff_0000));
    p
}

fn main() {
    let n = 21;
    let mut rows = vec![
        profile_row(
            "Docker's default, amd64 (x86_64, x86, x32)",
            &resolved(Source::Builtin, Arch::X86_64),
            n,
        ),
        profile_row(
            "Docker's default, arm64 (aarch64, arm)",
            &resolved(Source::Builtin, Arch::Aarch64),
            n,
        ),
        profile_row(
            "Podman's default, amd64",
            &resolved(
                Source::Path(confine_test_support::fixtures::seccomp(
                    "podman-default.json",
                )),
                Arch::X86_64,
            ),
            n,
        ),
    ];
    let table = SyscallTable::for_arch(Arch::X86_64).unwrap();
    let names: Vec<&str> = table.entries().map(|e| e.1).collect();
    let mut rng = Rng(0x00c0_ffee);
    let mut randoms: Vec<(usize, Resolved)> = Vec::new();
    for _ in 0..2000 {
        let r = random_profile(&mut rng, &names);
        if let Ok(p) = build(&r, Options::default()) {
            if let Ok(prog) = optimize::generate(&p) {
                randoms.push((prog.len(), r));
            }
        }
    }
    randoms.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (i, (_, r)) in randoms.iter().take(3).enumerate() {
        rows.push(profile_row(
            &format!("random profile, largest #{} of 2,000", i + 1),
            r,
            n,
        ));
    }
    let long = longest();
    let (proof_ms, proof) = median_ms(n, || {
        let p = Program::new(&long).unwrap();
        prove(&p, &p, DEFAULT_WORK)
    });
    rows.push(Row {
        name: "4,096-instruction jeq chain, against itself".into(),
        insns: long.len(),
        compile_ms: None,
        proof_ms,
        proof,
    });
    println!("| program | instructions | compile (ms) | proof (ms) | cases | result |");
    println!("|---|---:|---:|---:|---:|---|");
    for r in rows {
        let result = match r.proof.verdict {
            Verdict::Proved => "proved".to_string(),
            Verdict::Differ(d) => format!("{} differences", d.len()),
            Verdict::Undecided(u, _) => format!("undecided: {u}"),
        };
        println!(
            "| {} | {} | {} | {:.3} | {} | {result} |",
            r.name,
            r.insns,
            r.compile_ms.map_or("–".into(), |c| format!("{c:.3}")),
            r.proof_ms,
            r.proof.cases
        );
    }
}
