//! Validator, emulator, cache replica and disassembler on hand-built programs, and property tests
//! on arbitrary bytes.

use confine_bpf::insn::{class::*, op::*};
use confine_bpf::validate::Invalid;
use confine_bpf::{action, cache, decode, disasm, encode, validate, Emulator, Insn, SeccompData};
use proptest::prelude::*;

const X86_64: u32 = 0xc000_003e;
const I386: u32 = 0x4000_0003;

/// x86_64 only: getpid allowed, personality allowed when arg0 == 0xffffffff (64-bit compare),
/// everything else ERRNO(EPERM); other arches killed.
fn sample() -> Vec<Insn> {
    vec![
        Insn::stmt(LD | W | ABS, 4),                  // 0
        Insn::jump(JMP | JEQ | K, X86_64, 1, 0),      // 1
        Insn::stmt(RET | K, action::KILL_PROCESS),    // 2
        Insn::stmt(LD | W | ABS, 0),                  // 3
        Insn::jump(JMP | JEQ | K, 39, 3, 0),          // 4 getpid -> 8
        Insn::jump(JMP | JEQ | K, 135, 3, 0),         // 5 personality -> 9
        Insn::stmt(RET | K, action::ERRNO | 1),       // 6
        Insn::stmt(RET | K, action::ERRNO | 1),       // 7 (unreached)
        Insn::stmt(RET | K, action::ALLOW),           // 8
        Insn::stmt(LD | W | ABS, 20),                 // 9 args[0] high
        Insn::jump(JMP | JEQ | K, 0, 0, 3),           // 10
        Insn::stmt(LD | W | ABS, 16),                 // 11 args[0] low
        Insn::jump(JMP | JEQ | K, 0xffff_ffff, 2, 0), // 12
        Insn::stmt(RET | K, action::ERRNO | 1),       // 13
        Insn::stmt(RET | K, action::ERRNO | 1),       // 14
        Insn::stmt(RET | K, action::ALLOW),           // 15
    ]
}

fn run(prog: &[Insn], arch: u32, nr: u32, a0: u64) -> u32 {
    let d = SeccompData {
        nr,
        arch,
        args: [a0, 0, 0, 0, 0, 0],
        ..Default::default()
    };
    Emulator::new(prog).unwrap().run(&d, true).ret
}

#[test]
fn emulator_decides_and_counts() {
    let p = sample();
    assert_eq!(run(&p, X86_64, 39, 0), action::ALLOW);
    assert_eq!(run(&p, X86_64, 135, 0xffff_ffff), action::ALLOW);
    assert_eq!(
        run(&p, X86_64, 135, 0x1_ffff_ffff),
        action::ERRNO | 1,
        "high word checked"
    );
    assert_eq!(run(&p, X86_64, 135, 8), action::ERRNO | 1);
    assert_eq!(run(&p, X86_64, 1, 0), action::ERRNO | 1);
    assert_eq!(run(&p, I386, 39, 0), action::KILL_PROCESS);
    let r = Emulator::new(&p).unwrap().run(
        &SeccompData {
            nr: 39,
            arch: X86_64,
            ..Default::default()
        },
        true,
    );
    assert_eq!((r.executed, r.taken_jumps), (5, 2));
    // big-endian layout puts the high word first
    let d = SeccompData {
        nr: 135,
        arch: X86_64,
        args: [0xffff_ffff, 0, 0, 0, 0, 0],
        ..Default::default()
    };
    assert_eq!(
        Emulator::new(&p).unwrap().run(&d, false).ret,
        action::ERRNO | 1
    );
}

#[test]
fn alu_memory_and_runtime_division_by_zero() {
    let p = vec![
        Insn::stmt(LD | IMM, 6),
        Insn::stmt(ST, 3),
        Insn::stmt(LDX | IMM, 2),
        Insn::stmt(ALU | MUL | X, 0), // 12
        Insn::stmt(ALU | LSH | K, 4), // 192
        Insn::stmt(ALU | SUB | K, 2), // 190
        Insn::stmt(LDX | MEM, 3),     // X = 6
        Insn::stmt(ALU | DIV | X, 0), // 31
        Insn::stmt(ALU | NEG, 0),
        Insn::stmt(ALU | NEG, 0),
        Insn::stmt(MISC | TAX, 0),
        Insn::stmt(MISC | TXA, 0),
        Insn::stmt(ALU | XOR | K, 1), // 30
        Insn::stmt(RET | RET_A, 0),
    ];
    assert_eq!(run(&p, 0, 0, 0), 30);
    let div0 = vec![
        Insn::stmt(LDX | IMM, 0),
        Insn::stmt(ALU | DIV | X, 0),
        Insn::stmt(RET | K, action::ALLOW),
    ];
    assert_eq!(
        run(&div0, 0, 0, 0),
        0,
        "division by X == 0 returns 0 (KILL_THREAD)"
    );
    let shift = vec![
        Insn::stmt(LD | IMM, 1),
        Insn::stmt(LDX | IMM, 33),
        Insn::stmt(ALU | LSH | X, 0),
        Insn::stmt(RET | RET_A, 0),
    ];
    assert_eq!(run(&shift, 0, 0, 0), 2, "shift counts are taken mod 32");
    let len = vec![Insn::stmt(LD | W | LEN, 0), Insn::stmt(RET | RET_A, 0)];
    assert_eq!(run(&len, 0, 0, 0), 64);
}

#[test]
fn validator_rejects_what_the_kernel_rejects() {
    let ok = Insn::stmt(RET | K, action::ALLOW);
    assert_eq!(validate(&[]), Err(Invalid::Empty));
    assert_eq!(validate(&vec![ok; 4097]), Err(Invalid::TooLong(4097)));
    assert!(validate(&vec![ok; 4096]).is_ok());
    assert!(matches!(
        validate(&[Insn::stmt(0xffff, 0), ok]),
        Err(Invalid::UnknownOpcode { pc: 0, .. })
    ));
    assert!(matches!(
        validate(&[Insn::stmt(ALU | MOD | K, 3), ok]),
        Err(Invalid::NotInSeccomp { pc: 0, .. })
    ));
    assert!(matches!(
        validate(&[Insn::stmt(LD | B | ABS, 0), ok]),
        Err(Invalid::NotInSeccomp { .. })
    ));
    assert!(matches!(
        validate(&[Insn::stmt(LD | W | IND, 0), ok]),
        Err(Invalid::NotInSeccomp { .. })
    ));
    assert_eq!(
        validate(&[Insn::stmt(ALU | DIV | K, 0), ok]),
        Err(Invalid::DivByZero { pc: 0 })
    );
    assert_eq!(
        validate(&[Insn::stmt(ALU | LSH | K, 32), ok]),
        Err(Invalid::BadShift { pc: 0, k: 32 })
    );
    assert_eq!(
        validate(&[Insn::stmt(ST, 16), ok]),
        Err(Invalid::BadMem { pc: 0, k: 16 })
    );
    assert_eq!(
        validate(&[Insn::jump(JMP | JEQ | K, 0, 1, 0), ok]),
        Err(Invalid::JumpOut { pc: 0 })
    );
    assert_eq!(
        validate(&[Insn::stmt(JMP | JA, 1), ok]),
        Err(Invalid::JumpOut { pc: 0 })
    );
    assert_eq!(
        validate(&[ok, Insn::stmt(LD | W | ABS, 0)]),
        Err(Invalid::NoFinalRet)
    );
    assert_eq!(
        validate(&[Insn::stmt(LD | MEM, 2), ok]),
        Err(Invalid::UninitMem { pc: 0, k: 2 })
    );
    // written on one path only
    let p = [
        Insn::stmt(LD | W | ABS, 0),
        Insn::jump(JMP | JEQ | K, 1, 0, 1),
        Insn::stmt(ST, 0),
        Insn::stmt(LD | MEM, 0),
        ok,
    ];
    assert_eq!(validate(&p), Err(Invalid::UninitMem { pc: 3, k: 0 }));
    assert_eq!(
        validate(&[Insn::stmt(LD | W | ABS, 64), ok]),
        Err(Invalid::BadLoad { pc: 0, k: 64 })
    );
    assert_eq!(
        validate(&[Insn::stmt(LD | W | ABS, 2), ok]),
        Err(Invalid::BadLoad { pc: 0, k: 2 })
    );
    assert!(validate(&sample()).is_ok());
}

#[test]
fn cache_replica_follows_the_taken_path() {
    let p = sample();
    assert!(
        cache::is_const_allow(&p, X86_64, 39),
        "getpid: constant ALLOW"
    );
    assert!(
        !cache::is_const_allow(&p, X86_64, 135),
        "personality loads an argument"
    );
    assert!(
        !cache::is_const_allow(&p, X86_64, 1),
        "ERRNO is never cached"
    );
    assert!(!cache::is_const_allow(&p, I386, 39));
    let log = vec![Insn::stmt(RET | K, action::LOG)];
    assert!(
        !cache::is_const_allow(&log, X86_64, 0),
        "only exactly 0x7fff0000 is cached"
    );
    let allow_data = vec![Insn::stmt(RET | K, action::ALLOW | 1)];
    assert!(!cache::is_const_allow(&allow_data, X86_64, 0));
}

#[test]
fn bytes_round_trip_and_ragged_input() {
    let p = sample();
    assert_eq!(decode(&encode(&p)).unwrap(), p);
    assert!(decode(&[0u8; 12]).is_err());
}

#[test]
fn disassembly_names_fields_syscalls_and_actions() {
    let text = disasm::disassemble(&sample());
    assert!(text.contains("; arch"), "{text}");
    assert!(text.contains("x86_64/x32"), "{text}");
    assert!(text.contains("x86_64:getpid"), "{text}");
    assert!(text.contains("x86_64:personality"), "{text}");
    assert!(text.contains("args[0] (high)"), "{text}");
    assert!(text.contains("ERRNO(EPERM)"), "{text}");
    assert!(text.contains("KILL_PROCESS"), "{text}");
    assert!(text.contains("L008:"), "{text}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(prog) = decode(&bytes) {
            let _ = disasm::disassemble(&prog);
            if let Ok(emu) = Emulator::new(&prog) {
                let r = emu.run(&SeccompData { nr: 1, arch: X86_64, ..Default::default() }, true);
                prop_assert!(r.executed <= prog.len());
                let _ = cache::is_const_allow(&prog, X86_64, 1);
            }
        }
    }

    #[test]
    fn structured_programs_never_panic(
        insns in proptest::collection::vec((prop::sample::select(vec![
            LD | W | ABS, LD | IMM, LD | MEM, LDX | IMM, LDX | MEM, ST, STX, ALU | ADD | K, ALU | DIV | X,
            ALU | LSH | X, ALU | AND | K, JMP | JA, JMP | JEQ | K, JMP | JGT | X, JMP | JSET | K, RET | K,
            RET | RET_A, MISC | TAX, MISC | TXA,
        ]), 0u8..6, 0u8..6, prop::sample::select(vec![0u32, 1, 4, 16, 20, 60, 0xffff_ffff, 0x7fff_0000])), 1..40),
        nr in any::<u32>(), arg in any::<u64>(),
    ) {
        let prog: Vec<Insn> = insns.into_iter().map(|(code, jt, jf, k)| Insn { code, jt, jf, k }).collect();
        let _ = disasm::disassemble(&prog);
        if let Ok(emu) = Emulator::new(&prog) {
            let d = SeccompData { nr, arch: X86_64, args: [arg; 6], ..Default::default() };
            let r = emu.run(&d, true);
            prop_assert!(r.executed <= prog.len());
            // the cache replica never claims ALLOW where the program does not return ALLOW
            if cache::is_const_allow(&prog, X86_64, nr) {
                prop_assert_eq!(r.ret, action::ALLOW);
            }
        }
    }
}
