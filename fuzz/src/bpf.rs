//! The BPF layer checked against itself: the decoder round-trips, the disassembler and the
//! validator take anything, the validator, the emulator and the explorer accept the same
//! programs, the disassembly labels every jump target, and on a valid program the explorer's
//! paths (also under a small work budget), the kernel-cache replica and the stack decoder
//! agree with the emulator on sampled inputs.

use confine_abi::Arch;
use confine_bpf::explore::{Budget, CmpOp, Explorer, Field, Limit, Outcome};
use confine_bpf::stack::{Stack, Verdict};
use confine_bpf::{action, cache, decode, disasm, encode, validate, Emulator, Insn, SeccompData};

/// Architectures the inputs claim (audit value, byte order), and one no filter knows.
pub const ARCHES: &[(u32, bool)] = &[
    (0xc000_003e, true),  // x86_64
    (0x4000_0003, true),  // i386
    (0xc000_00b7, true),  // aarch64
    (0x8000_0016, false), // s390x
    (0x0000_0000, true),
];

/// Raw bytes: decode, encode back, validate, disassemble; never a panic.
pub fn raw(bytes: &[u8]) {
    let Ok(prog) = decode(bytes) else {
        assert!(!bytes.len().is_multiple_of(8));
        return;
    };
    assert_eq!(encode(&prog), bytes);
    for le in [true, false] {
        let p = confine_bpf::insn::decode_with_order(bytes, le).unwrap();
        assert_eq!(p.len(), prog.len());
    }
    let _ = disasm::disassemble(&prog);
    let valid = validate(&prog).is_ok();
    assert_eq!(
        Emulator::new(&prog).is_ok(),
        valid,
        "emulator and validator"
    );
    assert_eq!(
        Explorer::new(&prog).is_ok(),
        valid,
        "explorer and validator"
    );
    if valid {
        check_disassembly(&prog);
        check_program(&prog, &inputs(&prog, &[]));
    }
}

/// The disassembly of a valid program labels every jump target.
pub fn check_disassembly(prog: &[Insn]) {
    let text = disasm::disassemble(prog);
    let width = prog.len().to_string().len().max(3);
    for (pc, i) in prog.iter().enumerate() {
        if i.class() != confine_bpf::insn::class::JMP {
            continue;
        }
        let ts = if i.code == confine_bpf::insn::class::JMP | confine_bpf::insn::op::JA {
            vec![pc + 1 + i.k as usize]
        } else {
            vec![pc + 1 + i.jt as usize, pc + 1 + i.jf as usize]
        };
        for t in ts {
            let label = format!("L{t:0width$}:");
            assert!(text.contains(&label), "no {label} in\n{text}");
        }
    }
}

/// A small work budget: the explorer either stops at [`Limit::Work`] with no fixed verdict,
/// or finishes with what it finds unbounded.
pub fn check_budget(prog: &[Insn], steps: u64) {
    let ex = Explorer::new(prog).expect("a valid program");
    for &(arch, le) in ARCHES {
        for nr in [0, 1, 59] {
            let small = ex.explore_within(arch, nr, le, &Budget::new(steps));
            match small.limit {
                Some(Limit::Work) => assert_eq!(small.fixed(), None),
                Some(Limit::Paths) => {}
                None => assert_eq!(small, ex.explore(arch, nr, le), "budget {steps}"),
            }
        }
    }
}

/// The word of `seccomp_data` a condition names.
fn word(d: &SeccompData, f: Field) -> u32 {
    let (v, hi) = match f {
        Field::Arg { n, hi } => (d.args[n as usize], hi),
        Field::Ip { hi } => (d.instruction_pointer, hi),
    };
    if hi {
        (v >> 32) as u32
    } else {
        v as u32
    }
}

fn holds(op: CmpOp, a: u32, k: u32) -> bool {
    match op {
        CmpOp::Eq => a == k,
        CmpOp::Gt => a > k,
        CmpOp::Ge => a >= k,
        CmpOp::Set => a & k != 0,
    }
}

/// Inputs for a program: every constant it holds (and its neighbours) as nr, argument words and
/// instruction pointer, on every architecture in [`ARCHES`] and the ones it compares with.
pub fn inputs(prog: &[Insn], extra: &[u64]) -> Vec<(SeccompData, bool)> {
    let mut ks: Vec<u32> = vec![0, 1, u32::MAX];
    for i in prog {
        ks.extend([i.k, i.k.wrapping_add(1), i.k.wrapping_sub(1)]);
    }
    ks.extend(extra.iter().map(|&v| v as u32));
    ks.sort_unstable();
    ks.dedup();
    ks.truncate(48);
    let mut words: Vec<u64> = ks.iter().map(|&k| u64::from(k)).collect();
    words.extend(ks.iter().map(|&k| u64::from(k) << 32 | 0xffff_ffff));
    words.extend(extra);
    let mut out = Vec::new();
    for (n, &(arch, le)) in ARCHES.iter().enumerate() {
        for (j, &nr) in ks.iter().enumerate() {
            let w = |s: usize| words[(j * 7 + s * 13 + n) % words.len()];
            let args = [w(0), w(1), w(2), w(3), w(4), w(5)];
            out.push((
                SeccompData {
                    nr,
                    arch,
                    instruction_pointer: w(6),
                    args,
                },
                le,
            ));
            // the same call with all-zero arguments and with the argument words spread
            out.push((
                SeccompData {
                    nr,
                    arch,
                    ..Default::default()
                },
                le,
            ));
            out.push((
                SeccompData {
                    nr,
                    arch: ks[(j + n) % ks.len()],
                    instruction_pointer: 0,
                    args: [words[j % words.len()]; 6],
                },
                le,
            ));
        }
    }
    out
}

/// On a valid program: the explorer's paths agree with the emulator, the constant-action cache
/// replica only caches calls the program always allows.
pub fn check_program(prog: &[Insn], inputs: &[(SeccompData, bool)]) {
    let emu = Emulator::new(prog).expect("a valid program");
    let ex = Explorer::new(prog).expect("a valid program");
    let mut explored: Vec<((u32, u32, bool), Outcome)> = Vec::new();
    for (d, le) in inputs {
        let run = emu.run(d, *le);
        assert!(run.executed <= prog.len(), "a jump went backwards");
        let key = (d.arch, d.nr, *le);
        let out = match explored.iter().find(|(k, _)| *k == key) {
            Some((_, o)) => o,
            None => {
                explored.push((key, ex.explore(d.arch, d.nr, *le)));
                &explored.last().unwrap().1
            }
        };
        check_outcome(prog, out, d, *le, run.ret);
        if cache::is_const_allow(prog, d.arch, d.nr) {
            assert_eq!(
                run.ret,
                action::ALLOW,
                "cached as always allowed but returns {:#x} for {d:x?}\n{}",
                run.ret,
                disasm::disassemble(prog)
            );
        }
    }
}

fn check_outcome(prog: &[Insn], out: &Outcome, d: &SeccompData, le: bool, ret: u32) {
    let listing = || disasm::disassemble(prog);
    if let Some(v) = out.fixed() {
        assert_eq!(
            v,
            ret,
            "explorer: always {v:#x}; emulator: {ret:#x} for {d:x?} (le {le})\n{}",
            listing()
        );
    }
    // the paths whose conditions the input meets (a condition on a computed value may hold)
    let consistent: Vec<_> = out
        .paths
        .iter()
        .filter(|p| {
            p.conds.iter().all(|c| match c.field {
                Some(f) => holds(c.op, word(d, f) & c.mask, c.k) == c.holds,
                None => true,
            })
        })
        .collect();
    // a path all of whose conditions are on input words, all met, is the one the emulator
    // took (also in an outcome stopped at a limit: its paths are whole)
    let taken: Vec<_> = consistent
        .iter()
        .filter(|p| p.conds.iter().all(|c| c.field.is_some()))
        .collect();
    assert!(
        taken.len() <= 1,
        "two explored paths for one input {d:x?}: {taken:?}\n{}",
        listing()
    );
    if let Some(r) = taken.first().and_then(|p| p.ret) {
        assert_eq!(
            r,
            ret,
            "explorer path {:?} returns {r:#x}; emulator {ret:#x} for {d:x?} (le {le})\n{}",
            taken[0],
            listing()
        );
    }
    if out.limit.is_some() {
        return;
    }
    assert!(
        consistent.iter().any(|p| p.ret.is_none_or(|r| r == ret)),
        "emulator: {ret:#x} for {d:x?} (le {le}); no explored path agrees: {:?}\n{}",
        consistent,
        listing()
    );
}

/// Two filters stacked: a verdict the stack decoder calls fixed is what the stack returns.
pub fn check_stack(filters: &[Vec<Insn>], inputs: &[(SeccompData, bool)]) {
    let Ok(stack) = Stack::new(filters) else {
        return;
    };
    for arch in [Arch::X86_64, Arch::X86, Arch::Aarch64, Arch::S390x] {
        let mut nrs: Vec<u32> = inputs.iter().map(|(d, _)| d.nr).collect();
        nrs.sort_unstable();
        nrs.dedup();
        for nr in nrs.into_iter().take(24) {
            if let Verdict::Fixed(v) = stack.verdict(arch, nr) {
                for (d, _) in inputs.iter().take(64) {
                    let got = stack.eval_args(arch, nr, &d.args);
                    assert_eq!(
                        got, v,
                        "stack verdict {v:#x}, stack run {got:#x}: {arch} nr {nr} args {:x?}",
                        d.args
                    );
                }
            }
        }
    }
}
