//! The path explorer against the emulator: division by a zero X ends the program
//! with 0 (KILL_THREAD) as the kernel does, a symbolic divisor splits into zero and not
//! zero, every path agrees with the emulator on generated valid programs, and the work of a
//! whole decoding is bounded, with what was left undecided named.

use confine_abi::Arch;
use confine_bpf::action::{ALLOW, ERRNO, KILL_THREAD};
use confine_bpf::emu::{Emulator, SeccompData};
use confine_bpf::explore::{
    Budget, CmpOp, Cond, Explorer, Field, Limit, Outcome, MAX_PATHS, MAX_STEPS,
};
use confine_bpf::insn::{class::*, op::*};
use confine_bpf::stack::{decode, Stack, Verdict};
use confine_bpf::Insn;
use proptest::prelude::*;

const X86_64: u32 = 0xc000_003e;
const CAPGET: u32 = 125;

/// `ld nr; jeq capget; <body>; ret ERRNO(EPERM)`, else `ret ALLOW`.
fn capget_with(body: &[Insn]) -> Vec<Insn> {
    let mut p = vec![
        Insn::stmt(LD | W | ABS, 0),
        Insn::jump(JMP | JEQ | K, CAPGET, 0, body.len() as u8 + 1),
    ];
    p.extend_from_slice(body);
    p.push(Insn::stmt(RET | K, ERRNO | 1));
    p.push(Insn::stmt(RET | K, ALLOW));
    p
}

fn data(nr: u32, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr,
        arch: X86_64,
        instruction_pointer: 0,
        args,
    }
}

/// The word a condition compares, read from `d` (`None`: a computed value).
fn word(c: &Cond, d: &SeccompData, le: bool) -> Option<u32> {
    let split = |v: u64, hi: bool| if hi { (v >> 32) as u32 } else { v as u32 };
    let _ = le;
    match c.field? {
        Field::Arg { n, hi } => Some(split(d.args[n as usize], hi)),
        Field::Ip { hi } => Some(split(d.instruction_pointer, hi)),
    }
}

fn holds(c: &Cond, w: u32) -> bool {
    let w = w & c.mask;
    let r = match c.op {
        CmpOp::Eq => w == c.k,
        CmpOp::Gt => w > c.k,
        CmpOp::Ge => w >= c.k,
        CmpOp::Set => w & c.k != 0,
    };
    r == c.holds
}

/// The paths whose conditions `d` may meet (a condition on a computed value may hold).
fn matching<'a>(o: &'a Outcome, d: &SeccompData, le: bool) -> Vec<&'a confine_bpf::explore::Path> {
    o.paths
        .iter()
        .filter(|p| {
            p.conds
                .iter()
                .all(|c| word(c, d, le).is_none_or(|w| holds(c, w)))
        })
        .collect()
}

#[test]
fn division_by_a_zero_x_kills_as_the_emulator_says() {
    // X is 0 from the start: the kernel kills every capget
    let p = capget_with(&[Insn::stmt(LD | W | ABS, 16), Insn::stmt(ALU | DIV | X, 0)]);
    let e = Explorer::new(&p).unwrap();
    let o = e.explore(X86_64, CAPGET, true);
    assert_eq!(o.fixed(), Some(KILL_THREAD), "{o:?}");
    let emu = Emulator::new(&p).unwrap();
    assert_eq!(
        emu.run(&data(CAPGET, [7, 0, 0, 0, 0, 0]), true).ret,
        KILL_THREAD
    );
    assert_eq!(e.explore(X86_64, 0, true).fixed(), Some(ALLOW));
    // `mod x` would end the same way, but the kernel's seccomp checker refuses MOD, and so
    // does the validator: no filter can carry it
    let p = capget_with(&[Insn::stmt(LD | W | ABS, 16), Insn::stmt(ALU | MOD | X, 0)]);
    assert!(Explorer::new(&p).is_err());
}

#[test]
fn a_divisor_from_an_argument_splits_into_zero_and_not() {
    {
        let alu_op = DIV;
        // X = arg0 (low word): killed when it is 0, EPERM otherwise
        let p = capget_with(&[
            Insn::stmt(LD | W | ABS, 16),
            Insn::stmt(MISC | TAX, 0),
            Insn::stmt(LD | W | ABS, 24),
            Insn::stmt(ALU | alu_op | X, 0),
        ]);
        let o = Explorer::new(&p).unwrap().explore(X86_64, CAPGET, true);
        assert_eq!(o.fixed(), None);
        assert_eq!(o.limit, None);
        let mut rets: Vec<u32> = o.paths.iter().map(|p| p.ret.unwrap()).collect();
        rets.sort_unstable();
        assert_eq!(rets, [KILL_THREAD, ERRNO | 1]);
        let kill = o.paths.iter().find(|p| p.ret == Some(KILL_THREAD)).unwrap();
        assert_eq!(kill.conds.len(), 1);
        assert_eq!(kill.conds[0].to_string(), "arg0 == 0x0");
        let emu = Emulator::new(&p).unwrap();
        for a0 in [0u64, 1, 5, 1 << 32, 0xffff_ffff] {
            let d = data(CAPGET, [a0, 9, 0, 0, 0, 0]);
            let want = emu.run(&d, true).ret;
            let m = matching(&o, &d, true);
            assert_eq!(m.len(), 1, "a0 = {a0:#x}");
            assert_eq!(m[0].ret, Some(want), "a0 = {a0:#x}");
        }
        // masked to nothing, the divisor is always zero
        let p = capget_with(&[
            Insn::stmt(LD | W | ABS, 16),
            Insn::stmt(ALU | AND | K, 0),
            Insn::stmt(MISC | TAX, 0),
            Insn::stmt(ALU | alu_op | X, 0),
        ]);
        let o = Explorer::new(&p).unwrap().explore(X86_64, CAPGET, true);
        assert_eq!(o.fixed(), Some(KILL_THREAD), "{o:?}");
    }
}

#[test]
fn the_decoded_stack_says_kill_thread_for_the_fixed_divisor() {
    let p = capget_with(&[Insn::stmt(LD | W | ABS, 16), Insn::stmt(ALU | DIV | X, 0)]);
    let views = decode(&[p], Arch::X86_64).unwrap();
    let v = views.iter().find(|v| v.arch == Arch::X86_64).unwrap();
    let s = v
        .syscalls
        .iter()
        .find(|s| s.name == Some("capget"))
        .unwrap();
    assert_eq!(s.verdict, Verdict::Fixed(KILL_THREAD));
}

/// Twelve independent two-way tests of arg0's bits (4,096 paths), each path then walking
/// `pad` instructions: more work per syscall than the explorer may spend.
fn many_long_paths(pad: usize) -> Vec<Insn> {
    let mut p = vec![Insn::stmt(LD | W | ABS, 16)];
    for bit in 0..12 {
        p.push(Insn::jump(JMP | JSET | K, 1 << bit, 0, 1));
        p.push(Insn::stmt(MISC | TAX, 0));
    }
    for _ in 0..pad {
        p.push(Insn::stmt(ALU | ADD | K, 1));
    }
    p.push(Insn::stmt(RET | K, ALLOW));
    p
}

#[test]
fn a_syscall_past_the_work_bound_is_undecided() {
    let p = many_long_paths(4096 - 26);
    let e = Explorer::new(&p).unwrap();
    let o = e.explore(X86_64, 0, true);
    assert_eq!(o.limit, Some(Limit::Work));
    assert_eq!(o.fixed(), None);
    assert!(!o.paths.is_empty() && o.paths.len() < MAX_PATHS);
    // the paths it did follow are whole and right
    assert!(o.paths.iter().all(|p| p.ret == Some(ALLOW)));
    // a short one has all its paths followed
    let short = many_long_paths(10);
    let o = Explorer::new(&short).unwrap().explore(X86_64, 0, true);
    assert_eq!((o.limit, o.paths.len()), (None, 4096));
    assert_eq!(o.fixed(), Some(ALLOW));
}

#[test]
fn a_whole_decoding_shares_one_bound_and_names_what_it_left() {
    let p = many_long_paths(4096 - 26);
    let filters = [p];
    let stack = Stack::new(&filters).unwrap();
    let view = stack.view(Arch::X86_64).unwrap();
    let undecided: Vec<_> = view
        .syscalls
        .iter()
        .filter(|s| matches!(s.verdict, Verdict::Undecided(Limit::Work)))
        .collect();
    // nothing is decided, and nothing is guessed: every number says why
    assert_eq!(undecided.len(), view.syscalls.len());
    // the bad-architecture answer is undecided too: that is no refusal of the ABI
    assert!(view.accepted);
    assert_eq!(
        undecided[0].verdict.describe(),
        "undecided: too complex to decode within the work bound"
    );
    assert_eq!(undecided[0].verdict.bucket(), "undecided");
    // the shared budget is spent: a further exploration stops at once
    let spent = Budget::new(0);
    let o = Explorer::new(&filters[0])
        .unwrap()
        .explore_within(X86_64, 1, true, &spent);
    assert_eq!((o.limit, o.paths.len()), (Some(Limit::Work), 0));
    // a stronger fixed verdict of another filter still decides alone
    let kill = vec![Insn::stmt(RET | K, confine_bpf::action::KILL_PROCESS)];
    let both = [filters[0].clone(), kill];
    let stack = Stack::new(&both).unwrap();
    assert_eq!(
        stack.verdict(Arch::X86_64, 0),
        Verdict::Fixed(confine_bpf::action::KILL_PROCESS)
    );
    const { assert!(MAX_STEPS < 4096 * 4096) };
}

/// Every opcode the kernel's seccomp checker accepts (it has no MOD), with operands that
/// matter.
fn insn() -> impl Strategy<Value = (u16, u8, u8, u32)> {
    let codes = vec![
        LD | W | ABS,
        LD | W | LEN,
        LD | IMM,
        LD | MEM,
        LDX | W | LEN,
        LDX | IMM,
        LDX | MEM,
        ST,
        STX,
        ALU | ADD | K,
        ALU | ADD | X,
        ALU | SUB | K,
        ALU | SUB | X,
        ALU | MUL | K,
        ALU | MUL | X,
        ALU | DIV | K,
        ALU | DIV | X,
        ALU | AND | K,
        ALU | AND | X,
        ALU | OR | K,
        ALU | OR | X,
        ALU | XOR | K,
        ALU | XOR | X,
        ALU | LSH | K,
        ALU | LSH | X,
        ALU | RSH | K,
        ALU | RSH | X,
        ALU | NEG,
        JMP | JA,
        JMP | JEQ | K,
        JMP | JEQ | X,
        JMP | JGT | K,
        JMP | JGT | X,
        JMP | JGE | K,
        JMP | JGE | X,
        JMP | JSET | K,
        JMP | JSET | X,
        RET | K,
        RET | RET_A,
        MISC | TAX,
        MISC | TXA,
    ];
    let ks = vec![
        0u32,
        1,
        2,
        3,
        4,
        5,
        8,
        12,
        15,
        16,
        20,
        24,
        28,
        40,
        60,
        0xff,
        0x8000_0000,
        0xffff_ffff,
        CAPGET,
        ALLOW,
        ERRNO | 1,
    ];
    (
        prop::sample::select(codes),
        0u8..4,
        0u8..4,
        prop::sample::select(ks),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Every path the explorer reports agrees with the emulator: on any input, one of the
    /// paths whose conditions it meets returns what the emulator returns (or a computed
    /// value), and a fixed verdict is the emulator's.
    #[test]
    fn the_explorer_agrees_with_the_emulator(
        body in proptest::collection::vec(insn(), 1..24),
        inputs in proptest::collection::vec((prop::sample::select(vec![0u32, 1, 5, CAPGET]),
            proptest::collection::vec(prop::sample::select(vec![
                0u64, 1, 2, 5, 0xff, 0x1_0000_0000, 0x8000_0000, 0xffff_ffff, u64::MAX]), 6),
            any::<u64>()), 1..8),
    ) {
        let n = body.len();
        let mut prog: Vec<Insn> = body
            .into_iter()
            .enumerate()
            .map(|(i, (code, jt, jf, k))| {
                // forward jumps inside the program; JA's offset in k
                let room = (n - i) as u8;
                let k = if code == JMP | JA { k % u32::from(room) } else { k };
                Insn { code, jt: jt % room, jf: jf % room, k }
            })
            .collect();
        prog.push(Insn::stmt(RET | RET_A, 0));
        let Ok(e) = Explorer::new(&prog) else { return Ok(()) };
        let emu = Emulator::new(&prog).unwrap();
        for (nr, args, ip) in inputs {
            let args: [u64; 6] = args.try_into().unwrap();
            let d = SeccompData { nr, arch: X86_64, instruction_pointer: ip, args };
            let want = emu.run(&d, true).ret;
            let o = e.explore(X86_64, nr, true);
            prop_assert!(o.limit.is_none());
            if let Some(f) = o.fixed() {
                prop_assert_eq!(f, want, "fixed verdict against the emulator");
            }
            let m = matching(&o, &d, true);
            prop_assert!(
                m.iter().any(|p| p.ret.is_none_or(|r| r == want)),
                "no path returns {:#x}: {:?}", want, o
            );
        }
    }
}
