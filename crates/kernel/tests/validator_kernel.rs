//! confine's validator against the kernel's: random classic-BPF programs (every classic opcode,
//! some non-opcodes, jumps near and past the end, scratch memory used before and after a
//! store, loads at every offset, shift and divide constants at their limits) are installed for
//! real, one child process each, and the kernel's accept/reject must equal `validate`'s.
//! Also: installing without no_new_privs and without CAP_SYS_ADMIN is refused with EACCES and
//! reported as such, and works once no_new_privs is set.
//!
//! A custom harness (`harness = false`): the binary re-executes itself as the child.

use confine_bpf::insn::{class, op};
use confine_bpf::{action, decode, encode, validate, Insn};
use confine_kernel::InstallError;
use confine_test_support::rng::Rng;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    if let Ok(hex) = std::env::var("CONFINE_VALIDATOR_CHILD") {
        child_install(&hex);
    }
    if std::env::var("CONFINE_NNP_CHILD").is_ok() {
        child_nnp();
    }
    let n: usize = std::env::var("CONFINE_VALIDATOR_PROGRAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let (accepted, rejected) = random_programs_agree(n);
    println!("validator vs kernel: {n} random programs, {accepted} accepted and {rejected} rejected by both");
    nnp_is_required();
    println!("2 passed, 0 failed");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Install and exit: 0 when installed (the filter may also kill us on the way out, which
/// equally means it was installed), 100 + errno when the kernel refused it.
fn child_install(h: &str) -> ! {
    let prog = decode(&unhex(h)).unwrap();
    confine_kernel::set_no_new_privs().unwrap();
    match confine_kernel::install(&prog, Default::default()) {
        Ok(_) => std::process::exit(0),
        Err(InstallError::Invalid) => std::process::exit(100 + libc_einval()),
        Err(InstallError::TooLong(_)) => std::process::exit(99),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(98)
        }
    }
}

fn libc_einval() -> i32 {
    22
}

fn child_nnp() -> ! {
    let allow = [Insn::stmt(class::RET | op::K, action::ALLOW)];
    let first = confine_kernel::install(&allow, Default::default());
    if !matches!(first, Err(InstallError::NeedNoNewPrivs)) {
        eprintln!("expected EACCES without no_new_privs, got {first:?}");
        std::process::exit(1);
    }
    confine_kernel::set_no_new_privs().unwrap();
    match confine_kernel::install(&allow, Default::default()) {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            eprintln!("with no_new_privs: {e}");
            std::process::exit(2)
        }
    }
}

fn random_program(rng: &mut Rng) -> Vec<Insn> {
    use class::*;
    use op::*;
    let codes: &[u16] = &[
        LD | W | ABS,
        LD | H | ABS,
        LD | B | ABS,
        LD | W | IND,
        LD | W | LEN,
        LD | IMM,
        LD | MEM,
        LDX | IMM,
        LDX | MEM,
        LDX | W | LEN,
        LDX | B | MSH,
        ST,
        STX,
        ALU | ADD | K,
        ALU | SUB | X,
        ALU | MUL | K,
        ALU | DIV | K,
        ALU | DIV | X,
        ALU | MOD | K,
        ALU | AND | K,
        ALU | OR | X,
        ALU | XOR | K,
        ALU | LSH | K,
        ALU | RSH | X,
        ALU | NEG,
        JMP | JA,
        JMP | JEQ | K,
        JMP | JGT | X,
        JMP | JGE | K,
        JMP | JSET | K,
        RET | K,
        RET | RET_A,
        MISC | TAX,
        MISC | TXA,
        0xffff,
        0x0007 | 0x40,
    ];
    let ks = [0u32, 1, 2, 3, 4, 6, 15, 16, 31, 32, 60, 62, 63, 64, 65, 100];
    let len = 1 + rng.below(6);
    let mut p: Vec<Insn> = (0..len)
        .map(|_| {
            let code = codes[rng.below(codes.len())];
            let k = if code == RET | K {
                action::ALLOW
            } else {
                ks[rng.below(ks.len())]
            };
            Insn {
                code,
                jt: rng.below(4) as u8,
                jf: rng.below(4) as u8,
                k,
            }
        })
        .collect();
    // most programs end in a return, so that the other checks get exercised
    if rng.below(8) != 0 {
        p.push(Insn::stmt(RET | K, action::ALLOW));
    }
    p
}

fn random_programs_agree(n: usize) -> (usize, usize) {
    let me = std::env::current_exe().unwrap();
    let mut rng = Rng(0xba5e);
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..n {
        let prog = random_program(&mut rng);
        let ours = validate(&prog);
        let mut child = Command::new(&me)
            .env("CONFINE_VALIDATOR_CHILD", hex(&encode(&prog)))
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if Instant::now() > deadline {
                // an installed filter that denies exit() leaves the child spinning: installed
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let kernel_accepted = match status.and_then(|s| s.code()) {
            Some(0) => true,
            Some(122) => false, // 100 + EINVAL
            Some(99) => false,  // empty or too long: refused before the kernel, like it
            Some(c) => panic!("program {i}: child exited {c}: {prog:?}"),
            None => true, // killed by its own filter or by the watchdog after installing
        };
        assert_eq!(
            kernel_accepted,
            ours.is_ok(),
            "program {i}: kernel {}, confine {ours:?}: {prog:?}",
            if kernel_accepted {
                "accepts"
            } else {
                "rejects"
            }
        );
        if kernel_accepted {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    (accepted, rejected)
}

fn nnp_is_required() {
    // the unprivileged child must be able to reach its binary wherever the checkout lives (CI
    // may clone under a private home): run a copy from a fresh private directory opened to it
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let me = dir.path().join("child");
    std::fs::copy(std::env::current_exe().unwrap(), &me).unwrap();
    std::fs::set_permissions(&me, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // drop to nobody with no capabilities at all: then only no_new_privs permits a filter
    let st = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ])
        .arg(&me)
        .env("CONFINE_NNP_CHILD", "1")
        .status()
        .expect("util-linux setpriv");
    assert!(st.success(), "the unprivileged child: {st:?}");
    println!("install without no_new_privs and CAP_SYS_ADMIN: refused with EACCES, named; with no_new_privs: installed");
}
