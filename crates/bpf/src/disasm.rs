//! A readable listing of a seccomp program: labels for jump targets, the field each load reads,
//! syscall names for the architecture a path has established, action and errno names.

use crate::action;
use crate::insn::{class, op, Insn};
use confine_abi::{Arch, SyscallTable};
use std::fmt::Write;

/// What A holds on a path, as far as the listing can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AVal {
    Nr,
    Arch,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    a: AVal,
    arch: Option<u32>,
}

fn join(a: Option<State>, b: State) -> State {
    match a {
        None => b,
        Some(a) => State {
            a: if a.a == b.a { a.a } else { AVal::Other },
            arch: if a.arch == b.arch { a.arch } else { None },
        },
    }
}

fn field(k: u32, little_endian: bool) -> String {
    match k {
        0 => "nr".into(),
        4 => "arch".into(),
        8 => "instruction_pointer (low)".into(),
        12 => "instruction_pointer (high)".into(),
        16..=63 => {
            let i = (k - 16) / 8;
            let low = (k % 8 == 0) == little_endian;
            format!("args[{i}] ({})", if low { "low" } else { "high" })
        }
        _ => format!("offset {k}"),
    }
}

fn arch_of(audit: u32) -> Option<Arch> {
    // x32 shares x86_64's AUDIT_ARCH; the x86_64 entry comes first in Arch::ALL order below.
    [Arch::X86_64]
        .into_iter()
        .chain(Arch::ALL)
        .find(|a| a.audit_arch() == audit)
}

fn syscall_name(arch: Option<u32>, nr: u32) -> Option<String> {
    let a = arch_of(arch?)?;
    let a = if a == Arch::X86_64 && Arch::is_x32_number(nr) {
        Arch::X32
    } else {
        a
    };
    let t = SyscallTable::for_arch(a).ok()?;
    t.name_of(nr).map(|n| format!("{}:{n}", a.kernel_name()))
}

/// Disassemble `prog` into text. Programs need not be valid: out-of-range jumps are shown as
/// such, and the annotations simply stop where the analysis cannot follow.
pub fn disassemble(prog: &[Insn]) -> String {
    let n = prog.len();
    let mut targets = vec![false; n + 256];
    let mut states: Vec<Option<State>> = vec![None; n + 1];
    states[0] = Some(State {
        a: AVal::Other,
        arch: None,
    });
    for (pc, i) in prog.iter().enumerate() {
        if i.class() == class::JMP {
            if i.code == class::JMP | op::JA {
                if let Some(t) = (pc + 1)
                    .checked_add(i.k as usize)
                    .filter(|&t| t < targets.len())
                {
                    targets[t] = true;
                }
            } else {
                targets[pc + 1 + i.jt as usize] = true;
                targets[pc + 1 + i.jf as usize] = true;
            }
        }
    }
    let width = n.to_string().len().max(3);
    let label = |t: usize| {
        if t < n {
            format!("L{t:0width$}")
        } else {
            format!("<out of range {t}>")
        }
    };
    let mut out = String::new();
    for (pc, i) in prog.iter().enumerate() {
        let st = states[pc].unwrap_or(State {
            a: AVal::Other,
            arch: None,
        });
        let le = st
            .arch
            .and_then(arch_of)
            .is_none_or(|a| a.is_little_endian());
        let mut next = st;
        let src = if i.code & op::X != 0 {
            "x".to_string()
        } else {
            format!("#0x{:x}", i.k)
        };
        let (text, note) = match i.class() {
            class::LD => match i.code & 0xe0 {
                op::ABS => {
                    next.a = match i.k {
                        0 => AVal::Nr,
                        4 => AVal::Arch,
                        _ => AVal::Other,
                    };
                    (format!("ld [{}]", i.k), field(i.k, le))
                }
                op::LEN => {
                    next.a = AVal::Other;
                    ("ld #len".to_string(), "64".into())
                }
                op::MEM => {
                    next.a = AVal::Other;
                    (format!("ld M[{}]", i.k), String::new())
                }
                op::IMM => {
                    next.a = AVal::Other;
                    (format!("ld #0x{:x}", i.k), String::new())
                }
                _ => (
                    format!("ld? 0x{:04x} #0x{:x}", i.code, i.k),
                    "not a seccomp load".into(),
                ),
            },
            class::LDX => (
                format!("ldx 0x{:04x} #0x{:x}", i.code & 0xe0, i.k),
                String::new(),
            ),
            class::ST => (format!("st M[{}]", i.k), String::new()),
            class::STX => (format!("stx M[{}]", i.k), String::new()),
            class::ALU => {
                next.a = AVal::Other;
                let name = match i.code & 0xf0 {
                    op::ADD => "add",
                    op::SUB => "sub",
                    op::MUL => "mul",
                    op::DIV => "div",
                    op::OR => "or",
                    op::AND => "and",
                    op::LSH => "lsh",
                    op::RSH => "rsh",
                    op::NEG => "neg",
                    op::MOD => "mod",
                    op::XOR => "xor",
                    _ => "alu?",
                };
                if i.code & 0xf0 == op::NEG {
                    ("neg".into(), String::new())
                } else {
                    (format!("{name} {src}"), String::new())
                }
            }
            class::JMP if i.code & 0xf0 == op::JA => (
                format!("ja {}", label(pc + 1 + i.k as usize)),
                String::new(),
            ),
            class::JMP => {
                let name = match i.code & 0xf0 {
                    op::JEQ => "jeq",
                    op::JGT => "jgt",
                    op::JGE => "jge",
                    op::JSET => "jset",
                    _ => "j?",
                };
                let note = if i.code & op::X != 0 {
                    String::new()
                } else {
                    match st.a {
                        AVal::Arch => arch_of(i.k).map_or(String::new(), |a| {
                            if a == Arch::X86_64 {
                                "x86_64/x32".into()
                            } else {
                                a.kernel_name().to_string()
                            }
                        }),
                        AVal::Nr => syscall_name(st.arch, i.k).unwrap_or_default(),
                        AVal::Other => String::new(),
                    }
                };
                // a true JEQ on arch establishes the arch on the taken branch
                let t = pc + 1 + i.jt as usize;
                let f = pc + 1 + i.jf as usize;
                let mut on_true = next;
                if st.a == AVal::Arch && i.code == class::JMP | op::JEQ {
                    on_true.arch = Some(i.k);
                }
                if t <= n {
                    states[t] = Some(join(states[t], on_true));
                }
                if f <= n {
                    states[f] = Some(join(states[f], next));
                }
                (format!("{name} {src}, {}, {}", label(t), label(f)), note)
            }
            class::RET if i.code & op::RET_A != 0 => ("ret a".into(), String::new()),
            class::RET => (format!("ret #0x{:08x}", i.k), action::describe(i.k)),
            _ => {
                next.a = AVal::Other;
                (
                    if i.code & op::TXA != 0 { "txa" } else { "tax" }.to_string(),
                    String::new(),
                )
            }
        };
        if i.class() != class::JMP && i.class() != class::RET {
            states[pc + 1] = Some(join(states[pc + 1], next));
        } else if i.code == class::JMP | op::JA {
            let t = pc + 1 + i.k as usize;
            if t <= n {
                states[t] = Some(join(states[t], next));
            }
        }
        let mark = if targets[pc] {
            format!("{}:", label(pc))
        } else {
            String::new()
        };
        let line = format!("{mark:<w$} {text}", w = width + 2);
        if note.is_empty() {
            let _ = writeln!(out, "{line}");
        } else {
            let _ = writeln!(out, "{line:<44} ; {note}");
        }
    }
    out
}
