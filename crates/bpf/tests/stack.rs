//! Stacked filters combined as the kernel's `seccomp_run_filters` does: from `ALLOW`, newest
//! first, a result replaces the one kept only when strictly stronger. The stack decoder's fixed
//! verdicts must be what running the stack returns.

use confine_abi::Arch;
use confine_bpf::action::{ALLOW, ERRNO, KILL_PROCESS};
use confine_bpf::insn::{class::*, op::*};
use confine_bpf::stack::{Stack, Verdict};
use confine_bpf::Insn;

/// `ld arg0 (low); jeq #1 → ret then; ret ALLOW`.
fn on_arg0_one(then: u32) -> Vec<Insn> {
    vec![
        Insn::stmt(LD | W | ABS, 16),
        Insn::jump(JMP | JEQ | K, 1, 0, 1),
        Insn::stmt(RET | K, then),
        Insn::stmt(RET | K, ALLOW),
    ]
}

fn ret(v: u32) -> Vec<Insn> {
    vec![Insn::stmt(RET | K, v)]
}

/// Fuzzing (fuzz target `bpf`, stack check): an older filter always returning KILL_PROCESS
/// made the stack decoder say "always 0x80000000" although a newer filter returning
/// KILL_PROCESS with other data wins the tie for some arguments (the newest filter's data
/// wins), so the verdict was not what the stack returns.
#[test]
fn a_newer_filter_wins_a_kill_process_tie_with_its_own_data() {
    let filters = [ret(KILL_PROCESS), on_arg0_one(KILL_PROCESS | 1)];
    let stack = Stack::new(&filters).unwrap();
    assert_eq!(stack.eval_args(Arch::X86_64, 0, &[1; 6]), KILL_PROCESS | 1);
    assert_eq!(stack.eval_args(Arch::X86_64, 0, &[0; 6]), KILL_PROCESS);
    assert!(
        matches!(stack.verdict(Arch::X86_64, 0), Verdict::Depends(_)),
        "{:?}",
        stack.verdict(Arch::X86_64, 0)
    );
    // the same value, or a tie from an older filter, leaves the verdict fixed
    for filters in [
        [ret(KILL_PROCESS), on_arg0_one(KILL_PROCESS)],
        [on_arg0_one(KILL_PROCESS | 1), ret(KILL_PROCESS)],
        [ret(ERRNO | 1), on_arg0_one(ERRNO | 2)],
    ] {
        let stack = Stack::new(&filters).unwrap();
        let v = stack.verdict(Arch::X86_64, 0);
        for a in [0, 1, 2] {
            let got = stack.eval_args(Arch::X86_64, 0, &[a; 6]);
            if let Verdict::Fixed(f) = v {
                assert_eq!(f, got, "{filters:?} arg {a}");
            }
        }
    }
    // of two equal fixed results the newest decides, here alongside a conditional filter
    let filters = [
        ret(KILL_PROCESS | 2),
        ret(KILL_PROCESS | 3),
        on_arg0_one(ALLOW),
    ];
    let stack = Stack::new(&filters).unwrap();
    assert_eq!(
        stack.verdict(Arch::X86_64, 0),
        Verdict::Fixed(KILL_PROCESS | 3)
    );
    assert_eq!(stack.eval_args(Arch::X86_64, 0, &[1; 6]), KILL_PROCESS | 3);
}

/// The kernel starts from `ALLOW` and keeps it on a tie: an `ALLOW` with data, which no filter
/// result can replace, comes out as a plain `ALLOW`, in the decoder as in the run.
#[test]
fn allow_with_data_from_a_stack_is_a_plain_allow() {
    let filters = [ret(ALLOW | 7)];
    let stack = Stack::new(&filters).unwrap();
    assert_eq!(stack.eval_args(Arch::X86_64, 0, &[0; 6]), ALLOW);
    assert_eq!(stack.verdict(Arch::X86_64, 0), Verdict::Fixed(ALLOW));
}
