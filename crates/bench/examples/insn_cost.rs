//! What one executed instruction costs, and what a filter run costs with none: programs that
//! execute N + 2 instructions (`ld [16]`, N never-taken `jeq`s, `ret ALLOW`; the argument load
//! keeps the kernel from caching the call) stacked K = 1, 6, 12, 18 times; the slope over K is
//! the cost of one run, and its fit over N splits it into a fixed and a per-instruction part.
//!
//! `cargo run --release -p confine-bench --example insn_cost`

// `unsafe` only in `child`, for the raw system calls it times
#![deny(unsafe_code)]

use confine_bench::{fastest_ns, fit_line, install_stack};
use confine_bpf::insn::{class, op};
use confine_bpf::{action, encode, Insn};
use confine_kernel::raw;
use std::process::Command;

fn program(n: usize) -> Vec<Insn> {
    let mut p = vec![Insn::stmt(class::LD | op::W | op::ABS, 16)];
    for i in 0..n {
        // jt to the errno return past `ret ALLOW`
        let jt = (n - i) as u8;
        p.push(Insn::jump(
            class::JMP | op::JEQ | op::K,
            1000 + i as u32,
            jt,
            0,
        ));
    }
    p.push(Insn::stmt(class::RET | op::K, action::ALLOW));
    p.push(Insn::stmt(class::RET | op::K, 0x0005_0001));
    p
}

fn main() {
    if let Ok(spec) = std::env::var("CONFINE_COST_CHILD") {
        child(&spec);
    }
    let dir = tempfile::tempdir().unwrap();
    let ns: &[usize] = &[0, 10, 25, 50, 100, 200];
    let ks: &[usize] = &[1, 6, 12, 18];
    let mut best = vec![vec![[f64::MAX; 2]; ks.len()]; ns.len()];
    for _round in 0..5 {
        for (ki, &k) in ks.iter().enumerate() {
            for (ni, &n) in ns.iter().enumerate() {
                let path = dir.path().join(format!("p{n}.bpf"));
                std::fs::write(&path, encode(&program(n))).unwrap();
                let out = Command::new(std::env::current_exe().unwrap())
                    .env("CONFINE_COST_CHILD", format!("{}:{k}", path.display()))
                    .output()
                    .unwrap();
                assert!(out.status.success());
                let v: Vec<f64> = String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(|x| x.parse().unwrap())
                    .collect();
                for c in 0..2 {
                    best[ni][ki][c] = best[ni][ki][c].min(v[c]);
                }
            }
        }
    }
    println!("| executed | ns per run (native) | ns per run (i386) |\n|---|---|---|");
    let mut per = [Vec::new(), Vec::new()];
    for (ni, &n) in ns.iter().enumerate() {
        let s: Vec<f64> = (0..2)
            .map(|c| {
                let pts: Vec<(f64, f64)> = ks
                    .iter()
                    .enumerate()
                    .map(|(ki, &k)| (k as f64, best[ni][ki][c]))
                    .collect();
                fit_line(&pts).0
            })
            .collect();
        per[0].push(((n + 2) as f64, s[0]));
        per[1].push(((n + 2) as f64, s[1]));
        println!("| {} | {:.1} | {:.1} |", n + 2, s[0], s[1]);
    }
    for (c, name) in ["native", "i386"].iter().enumerate() {
        let (a, b) = fit_line(&per[c]);
        println!("{name}: {b:.1} ns per run + {a:.3} ns per executed instruction");
    }
}

#[allow(unsafe_code)]
fn child(spec: &str) -> ! {
    let (path, k) = spec.rsplit_once(':').unwrap();
    let k: usize = k.parse().unwrap();
    install_stack(path, k);
    let time = |f: &dyn Fn() -> i64| fastest_ns(f, 100_000);
    // SAFETY: getpid(2) (native 39, i386 20) takes no argument and changes nothing.
    let native = time(&|| unsafe { raw::syscall6(39, [0; 6]) });
    // SAFETY: as above.
    let i386 = time(&|| unsafe { raw::int80(20, [0; 6]) });
    println!("{native} {i386}");
    std::process::exit(0);
}
