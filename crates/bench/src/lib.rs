//! What the benchmark binaries and examples share: the child side of a measurement (install a
//! program K times, time calls), the line fit over K, and the wall-clock median of runs of a
//! command (`median_ms`, `ok`).
//!
//! Benchmarks only: no library crate may depend on it.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use confine_bpf::decode;
use std::time::Instant;

/// Least-squares line through `pts`: (slope, intercept).
pub fn fit_line(pts: &[(f64, f64)]) -> (f64, f64) {
    let n = pts.len() as f64;
    let (sx, sy) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (mx, my) = (sx / n, sy / n);
    let num: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let den: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    (num / den, my - num / den * mx)
}

/// In a child process: pin to CPU 0, set no_new_privs and install the raw program at `path`
/// `k` times.
pub fn install_stack(path: &str, k: usize) {
    let prog = decode(&std::fs::read(path).unwrap()).unwrap();
    confine_kernel::pin_to_cpu(0).expect("pin to CPU 0");
    confine_kernel::set_no_new_privs().unwrap();
    for _ in 0..k {
        confine_kernel::install(&prog, Default::default()).expect("install");
    }
}

/// Nanoseconds per call of `f` over about `n` calls: the fastest of batches of 1,000 (a batch
/// that an interrupt, another task or the hypervisor got into is slower, never faster).
pub fn fastest_ns(f: &dyn Fn() -> i64, n: usize) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let batch = 1000;
    let mut best = f64::MAX;
    for _ in 0..n.div_ceil(batch) {
        let t = Instant::now();
        for _ in 0..batch {
            std::hint::black_box(f());
        }
        best = best.min(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    best
}

/// The median wall time in milliseconds of `n` calls of `f`, after one to warm up.
pub fn median_ms(n: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..n)
        .map(|_| {
            let s = std::time::Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[n / 2]
}

/// Run `c` with its output discarded; a failure stops the benchmark, naming the command.
pub fn ok(c: &mut std::process::Command) {
    let s = c
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run");
    assert!(s.success(), "{c:?} failed: {s:?}");
}
