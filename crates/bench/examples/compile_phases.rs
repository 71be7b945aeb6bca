//! Where compile time goes: resolve, policy, code generation (median of 300 runs each).
use confine_abi::{Arch, CapSet};
use confine_profile::{load, resolve, Host, KernelVersion, Resolution, Source};
use confine_seccomp::{build, optimize, Options};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let profile = load(&Source::Builtin).unwrap().profile.unwrap();
    let host = Host {
        arch: Arch::X86_64,
        caps: CapSet::docker_default(),
        kernel: KernelVersion {
            kernel: 6,
            major: 8,
        },
    };
    let (mut a, mut b, mut c, mut d, mut total) = (vec![], vec![], vec![], vec![], vec![]);
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for _ in 0..n {
        let t0 = Instant::now();
        let t = Instant::now();
        let Resolution::Filter(r) = resolve(&profile, &host) else {
            unreachable!()
        };
        a.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let p = build(&r, Options::default()).unwrap();
        b.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let prog = optimize::generate(&p).unwrap();
        c.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(prog);
        let t = Instant::now();
        for a in [Arch::X86_64, Arch::X86] {
            std::hint::black_box(p.intervals(a.audit_arch()));
        }
        d.push(t.elapsed().as_secs_f64() * 1e6);
        total.push(t0.elapsed().as_secs_f64() * 1e6 - d.last().unwrap_or(&0.0));
    }
    println!(
        "resolve {:.0} µs, policy {:.0} µs, codegen {:.0} µs (of which intervals {:.0} µs); all three {:.0} µs",
        median(a),
        median(b),
        median(c),
        median(d),
        median(total)
    );
}
