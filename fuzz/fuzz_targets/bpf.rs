//! The BPF decoder, validator, emulator, disassembler, explorer, cache replica and stack
//! decoder against each other: the first byte chooses raw instructions (decoded, encoded back,
//! validated, disassembled, and checked like a generated one when valid) or programs built by
//! `confine_bpf::gen` (always valid), on which the explorer's paths and fixed verdicts, the
//! kernel-cache replica and the stack decoder must agree with the emulator, the disassembly
//! labels every jump target, and a small work budget stops the explorer without a verdict.
#![no_main]

use confine_bpf::gen::{program, Bytes};
use confine_fuzz::bpf::{check_budget, check_disassembly, check_program, check_stack, inputs, raw};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 4 == 0 {
        raw(rest);
        return;
    }
    let mut b = Bytes::new(rest);
    let max = if mode % 4 == 3 { 300 } else { 48 };
    let p = program(&mut b, max);
    if let Err(e) = confine_bpf::validate(&p) {
        panic!("generated program is invalid: {e}\n{p:?}");
    }
    check_disassembly(&p);
    let ins = inputs(&p, &[]);
    check_program(&p, &ins);
    check_budget(&p, u64::from(mode >> 2) * 4);
    if mode % 4 == 2 {
        let q = program(&mut b, 48);
        check_program(&q, &inputs(&q, &[]));
        check_stack(&[p, q], &ins);
    }
});
