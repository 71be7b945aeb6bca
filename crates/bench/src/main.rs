//! `cargo run --release -p confine-bench --bin confine-bench`: Docker's default for amd64 (with x86 and x32),
//! compiled by confine and by libseccomp as runc asks for it (optimisation 1, linear, what
//! Debian 12's runc 1.1.5 installs; 2, binary tree, newer runc above 32 rules), both with runc's
//! -ENOSYS stub. Prints a Markdown table: program length, executed instructions for every
//! argument-free decision (mean / max, per ABI), kernel-cacheable ALLOWs, real nanoseconds per
//! filter run (slope over 1, 6, 12 and 18 stacked copies), compile time.
//!
//! libseccomp is Debian's, through /usr/bin/python3 and python3-seccomp (the same library
//! Debian's runc links). Set CONFINE_BENCH_QUICK=1 for a fast, rougher run.

// `unsafe` only in `child`, for the raw system calls it times
#![deny(unsafe_code)]

use confine_abi::{Arch, CapSet, SyscallTable};
use confine_bpf::action::{self, Ret};
use confine_bpf::insn::{class, op};
use confine_bpf::{cache, decode, encode, Emulator, Insn, SeccompData};
use confine_kernel::raw;
use confine_profile::{load, Host, KernelVersion, Parsed, Resolved, Source};
use confine_seccomp::policy::Leaf;
use confine_seccomp::{
    compile_prepared, optimize, prepare_parsed, reference, ArgWidth, Generator, Options, Policy,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const X86_64: u32 = 0xc000_003e;
const I386: u32 = 0x4000_0003;
use confine_abi::X32_SYSCALL_BIT as X32_BIT;

fn main() {
    if let Ok(spec) = std::env::var("CONFINE_BENCH_CHILD") {
        child(&spec);
    }
    let quick = std::env::var("CONFINE_BENCH_QUICK").is_ok();
    let parsed = load(&Source::Builtin).unwrap();
    let host = Host {
        arch: Arch::X86_64,
        caps: CapSet::docker_default(),
        kernel: KernelVersion {
            kernel: 6,
            major: 8,
        },
    };
    let prepared = prepare_parsed("builtin".into(), parsed.clone(), &host).unwrap();
    let policy = prepared.policy(Options::default()).unwrap();
    let r = prepared.require_filter().unwrap();
    let dir = std::env::temp_dir().join(format!("confine-bench-{}", std::process::id()));
    std::fs::create_dir(&dir).expect("private temporary directory");

    let confine_prog = optimize::generate(&policy).unwrap();
    let confine_tree =
        optimize::generate_with(&policy, optimize::Tuning { lift_hot: false }).unwrap();
    let kernel_mode = Options {
        arg_width: ArgWidth::Kernel,
        ..Options::default()
    };
    let confine_kernel = optimize::generate(&prepared.policy(kernel_mode).unwrap()).unwrap();
    let (lib1, lib1_ms) = libseccomp(r, &dir, 1);
    let (lib2, lib2_ms) = libseccomp(r, &dir, 2);
    let stub = reference::stub_prefix(&policy).unwrap();
    let with_stub = |p: &[Insn]| -> Vec<Insn> { stub.iter().chain(p).copied().collect() };
    let filters: Vec<(&str, Vec<Insn>, f64)> = vec![
        (
            "confine",
            confine_prog,
            compile_ms(&parsed, &host, if quick { 50 } else { 500 }),
        ),
        ("confine, pure range tree", confine_tree, f64::NAN),
        ("confine --arg-width kernel", confine_kernel, f64::NAN),
        ("libseccomp opt 1 + runc stub", with_stub(&lib1), lib1_ms),
        ("libseccomp opt 2 + runc stub", with_stub(&lib2), lib2_ms),
    ];
    // the cheapest filter the kernel must run for every call: what one filter run costs
    // before any instruction of a real program
    let floor = vec![
        Insn::stmt(class::LD | op::W | op::ABS, 16),
        Insn::stmt(class::RET | op::K, action::ALLOW),
    ];
    // the programs must decide alike before they are compared for speed
    for (name, prog, _) in &filters[1..] {
        assert_decide_alike(&policy, &filters[0].1, prog, name);
    }

    println!("Docker default (moby/profiles seccomp v0.2.3), amd64 with x86 and x32, Docker's 14 capabilities, kernel 6.8 rules.\n");
    println!("| filter | length | native allowed mean / max | native denied mean / max | x32 mean / max | i386 mean / max | cacheable ALLOWs (native, i386) | compile |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, prog, ms) in &filters {
        let st = static_costs(&policy, prog);
        println!(
            "| {name} | {} | {:.1} / {} | {:.1} / {} | {:.1} / {} | {:.1} / {} | {}/{}, {}/{} | {} |",
            prog.len(),
            st.allowed.0,
            st.allowed.1,
            st.denied.0,
            st.denied.1,
            st.x32.0,
            st.x32.1,
            st.i386.0,
            st.i386.1,
            st.cache_native.0,
            st.cache_native.1,
            st.cache_i386.0,
            st.cache_i386.1,
            if ms.is_nan() {
                "–".to_string()
            } else if *ms < 1.0 {
                format!("{:.3} ms", ms)
            } else {
                format!("{:.1} ms", ms)
            }
        );
    }
    println!();
    arg_width_sizes();
    let ks: &[usize] = &[1, 6, 12, 18];
    let reps = if quick { 1 } else { 7 };
    let calls = [
        "getpid",
        "personality(0xffffffff)",
        "clone3 (denied, ENOSYS)",
        "i386 personality(0xffffffff) (int 0x80)",
        "socket(AF_INET, -1, 0) (allowed, EINVAL)",
    ];
    let mut paths = Vec::new();
    let timed_filters: Vec<(&str, &[Insn])> = filters
        .iter()
        .map(|(n, p, _)| (*n, p.as_slice()))
        .chain([(
            "floor: `ld [16]; ret ALLOW` (never cached)",
            floor.as_slice(),
        )])
        .collect();
    for (fi, (_, prog)) in timed_filters.iter().enumerate() {
        let path = dir.join(format!("f{fi}.bpf"));
        std::fs::write(&path, encode(prog)).unwrap();
        paths.push(path);
    }
    // best[filter][k][call], configurations interleaved round by round
    let mut best = vec![vec![[f64::MAX; CALLS]; ks.len()]; timed_filters.len()];
    for round in 0..reps {
        for (ki, &k) in ks.iter().enumerate() {
            for (fi, path) in paths.iter().enumerate() {
                let ns = measure(path, k, if quick { 20_000 } else { 100_000 });
                for c in 0..CALLS {
                    best[fi][ki][c] = best[fi][ki][c].min(ns[c]);
                }
            }
        }
        eprintln!("round {} of {reps} done", round + 1);
    }
    // what each timed call executes, in the emulator
    let timed = [
        (X86_64, 39u32, 0u64),
        (X86_64, 135, 0xffff_ffff),
        (X86_64, 435, 0),
        (I386, 136, 0xffff_ffff),
        (X86_64, 41, 2),
    ];
    let executed: Vec<Vec<usize>> = timed_filters
        .iter()
        .map(|(_, prog)| {
            let emu = Emulator::new(prog).unwrap();
            timed
                .iter()
                .map(|&(arch, nr, a0)| {
                    let d = SeccompData {
                        nr,
                        arch,
                        args: [a0, 0, 0, 0, 0, 0],
                        ..Default::default()
                    };
                    emu.run(&d, true).executed
                })
                .collect()
        })
        .collect();
    let mut slopes = vec![[0f64; CALLS]; timed_filters.len()];
    for fi in 0..timed_filters.len() {
        for c in 0..CALLS {
            let pts: Vec<(f64, f64)> = ks
                .iter()
                .enumerate()
                .map(|(ki, &k)| (k as f64, best[fi][ki][c]))
                .collect();
            slopes[fi][c] = slope(&pts);
        }
    }
    println!("Nanoseconds per filter run (slope over {ks:?} stacked copies, best of {reps}, one pinned CPU), and in brackets the instructions the call executes:\n");
    println!("| filter | {} |", calls.join(" | "));
    println!("|---|{}", "---|".repeat(calls.len()));
    for (fi, (name, _)) in timed_filters.iter().enumerate() {
        let cells: Vec<String> = (0..CALLS)
            .map(|c| format!("{:.1} ({})", slopes[fi][c], executed[fi][c]))
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    let row = |name: &str| {
        timed_filters
            .iter()
            .position(|f| f.0.starts_with(name))
            .expect("a timed filter")
    };
    let (lib2, kernel) = (row("libseccomp opt 2"), row("confine --arg-width kernel"));
    let ratio = |c: usize| slopes[0][c] / slopes[lib2][c];
    println!(
        "\nconfine ÷ libseccomp opt 2 on the uncached calls: personality {:.2}×, denied {:.2}×, i386 personality {:.2}×, socket {:.2}× (getpid is cached by the kernel for every filter: its slope is noise around 0)",
        ratio(1),
        ratio(2),
        ratio(3),
        ratio(4)
    );
    let fl = slopes.len() - 1;
    let best_possible = |c: usize| slopes[fl][c] / slopes[lib2][c];
    let above = |c: usize| (slopes[0][c] - slopes[fl][c]) / (slopes[lib2][c] - slopes[fl][c]);
    println!(
        "floor ÷ libseccomp opt 2 (the best ratio any program could reach): personality {:.2}×, denied {:.2}×, i386 personality {:.2}×, socket {:.2}×",
        best_possible(1),
        best_possible(2),
        best_possible(3),
        best_possible(4)
    );
    println!(
        "above the floor, confine ÷ libseccomp opt 2: personality {:.2}×, denied {:.2}×, i386 personality {:.2}×, socket {:.2}×",
        above(1),
        above(2),
        above(3),
        above(4)
    );
    let km = |c: usize| slopes[kernel][c] / slopes[0][c];
    println!(
        "confine --arg-width kernel ÷ confine: personality {:.2}×, denied {:.2}×, i386 personality {:.2}×, socket {:.2}×",
        km(1),
        km(2),
        km(3),
        km(4)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

struct Static {
    allowed: (f64, usize),
    denied: (f64, usize),
    x32: (f64, usize),
    i386: (f64, usize),
    cache_native: (usize, usize),
    cache_i386: (usize, usize),
}

fn stats(v: &[usize]) -> (f64, usize) {
    (
        v.iter().sum::<usize>() as f64 / v.len().max(1) as f64,
        v.iter().copied().max().unwrap_or(0),
    )
}

/// Executed instructions for every argument-free decision, per ABI.
fn static_costs(p: &Policy, prog: &[Insn]) -> Static {
    let emu = Emulator::new(prog).unwrap();
    let run = |arch: u32, nr: u32| {
        emu.run(
            &SeccompData {
                nr,
                arch,
                ..Default::default()
            },
            true,
        )
        .executed
    };
    let top64 = SyscallTable::for_arch(Arch::X86_64).unwrap().max_number() + 64;
    let top32 = SyscallTable::for_arch(Arch::X86).unwrap().max_number() + 64;
    let (mut allowed, mut denied, mut x32, mut i386) = (vec![], vec![], vec![], vec![]);
    let (mut cn, mut tn, mut ci, mut ti) = (0, 0, 0, 0);
    for nr in 0..=top64 {
        match p.leaf(X86_64, nr) {
            Leaf::Ret(Ret::Allow) => {
                allowed.push(run(X86_64, nr));
                tn += 1;
                cn += usize::from(cache::is_const_allow(prog, X86_64, nr));
            }
            Leaf::Ret(_) => denied.push(run(X86_64, nr)),
            Leaf::Tree(..) => {}
        }
    }
    for nr in X32_BIT..=X32_BIT + 600 {
        if let Leaf::Ret(_) = p.leaf(X86_64, nr) {
            x32.push(run(X86_64, nr));
        }
    }
    for nr in 0..=top32 {
        if let Leaf::Ret(v) = p.leaf(I386, nr) {
            i386.push(run(I386, nr));
            if v == Ret::Allow {
                ti += 1;
                ci += usize::from(cache::is_const_allow(prog, I386, nr));
            }
        }
    }
    Static {
        allowed: stats(&allowed),
        denied: stats(&denied),
        x32: stats(&x32),
        i386: stats(&i386),
        cache_native: (cn, tn),
        cache_i386: (ci, ti),
    }
}

fn assert_decide_alike(p: &Policy, a: &[Insn], b: &[Insn], name: &str) {
    let (ea, eb) = (Emulator::new(a).unwrap(), Emulator::new(b).unwrap());
    let names = confine_abi::syscalls::UNKNOWN_TO_LIBSECCOMP_2_5_4;
    for (arch, range) in [
        (X86_64, 0..600u32),
        (X86_64, X32_BIT..X32_BIT + 600),
        (I386, 0..600),
    ] {
        for nr in range {
            // libseccomp 2.5.4 skips names newer than Linux 6.5: those are compared nowhere
            let newer = SyscallTable::for_arch(if arch == I386 {
                Arch::X86
            } else if nr >= X32_BIT {
                Arch::X32
            } else {
                Arch::X86_64
            })
            .unwrap()
            .name_of(nr)
            .is_some_and(|n| names.contains(&n));
            if newer || p.eval_stub(arch, nr).is_some() {
                continue;
            }
            for a0 in [0u64, 8, 38, 40, 0xffff_ffff] {
                let d = SeccompData {
                    nr,
                    arch,
                    args: [a0, 0, 0, 0, 0, 0],
                    ..Default::default()
                };
                assert_eq!(
                    ea.run(&d, true).ret,
                    eb.run(&d, true).ret,
                    "{name}: nr {nr} a0 {a0}"
                );
            }
        }
    }
}

/// libseccomp's program for the profile, as runc builds it, and its median build+export time
/// (measured inside python, so it includes a little interpreter overhead).
fn libseccomp(r: &Resolved, dir: &Path, opt: u32) -> (Vec<Insn>, f64) {
    let json = dir.join("p.json");
    std::fs::write(
        &json,
        confine_profile::emit::to_json(r, confine_profile::emit::OutputFormat::Oci),
    )
    .unwrap();
    let bpf = dir.join(format!("lib{opt}.bpf"));
    let script: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../seccomp/tests/support/runc_libseccomp.py");
    let timing = format!(
        "import runpy, sys, time, json\nsys.argv=['x','{j}','SCMP_ARCH_X86_64','{b}','{opt}']\nm=runpy.run_path('{s}', run_name='lib')\nprof=json.load(open('{j}'))\nts=[]\nfor _ in range(20):\n    t=time.perf_counter(); m['build'](prof,'SCMP_ARCH_X86_64','{b}',{opt}); ts.append(time.perf_counter()-t)\nts.sort(); print(ts[len(ts)//2]*1000)",
        j = json.display(),
        b = bpf.display(),
        s = script.display()
    );
    let out = Command::new("/usr/bin/python3")
        .args(["-c", &timing])
        .output()
        .expect("/usr/bin/python3 with python3-seccomp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ms: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    (decode(&std::fs::read(&bpf).unwrap()).unwrap(), ms)
}

/// Median time of resolving and compiling the builtin profile in-process, in ms.
/// Program length of `--arg-width kernel` against the faithful program, for the fixture
/// profiles on the ABIs where argument widths apply.
fn arg_width_sizes() {
    let fixture =
        |n: &str| Source::from_arg(confine_test_support::fixtures::seccomp(n).as_os_str());
    let profiles = [
        ("Docker default (builtin)", Source::Builtin),
        (
            "Docker default 2025-05",
            fixture("docker-default-2025-05.json"),
        ),
        ("Podman default", fixture("podman-default.json")),
    ];
    println!("Program length with `--arg-width kernel` (a narrow argument's high word derived from its low word) against the faithful program, Docker's 14 capabilities, kernel 6.8 rules:\n");
    println!("| profile | arch | faithful | kernel | kernel ÷ faithful |");
    println!("|---|---|---|---|---|");
    let mut worst: f64 = 0.0;
    for (name, source) in &profiles {
        for arch in [Arch::X86_64, Arch::Aarch64, Arch::Riscv64] {
            let host = Host {
                arch,
                caps: CapSet::docker_default(),
                kernel: KernelVersion {
                    kernel: 6,
                    major: 8,
                },
            };
            let parsed = load(source).unwrap();
            let prepared = prepare_parsed((*name).into(), parsed, &host).unwrap();
            let len = |w: ArgWidth| {
                let o = Options {
                    arg_width: w,
                    ..Options::default()
                };
                optimize::generate(&prepared.policy(o).unwrap())
                    .unwrap()
                    .len()
            };
            let (f, k) = (len(ArgWidth::Faithful), len(ArgWidth::Kernel));
            let ratio = k as f64 / f as f64;
            worst = worst.max(ratio);
            println!(
                "| {name} | {} | {f} | {k} | {ratio:.3} |",
                arch.native_name()
            );
        }
    }
    println!("\nlargest ratio: {worst:.3} (goal: at most 1.10)\n");
}

fn compile_ms(parsed: &Parsed, host: &Host, n: usize) -> f64 {
    let mut ts: Vec<f64> = (0..n)
        .map(|_| {
            let parsed = parsed.clone();
            let t = Instant::now();
            let prepared = prepare_parsed("builtin".into(), parsed, host).unwrap();
            let c = compile_prepared(prepared, Options::default(), Generator::Optimized).unwrap();
            std::hint::black_box(c);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ts.sort_by(f64::total_cmp);
    ts[n / 2]
}

fn slope(pts: &[(f64, f64)]) -> f64 {
    confine_bench::fit_line(pts).0
}

/// How many calls are timed.
const CALLS: usize = 5;

/// Run a child that installs the program `k` times and times each call; ns per call.
fn measure(path: &Path, k: usize, n: usize) -> [f64; CALLS] {
    let out = Command::new(std::env::current_exe().unwrap())
        .env("CONFINE_BENCH_CHILD", format!("{}:{k}:{n}", path.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    std::array::from_fn(|c| v[c])
}

#[allow(unsafe_code)]
fn child(spec: &str) -> ! {
    let mut it = spec.rsplitn(3, ':');
    let n: usize = it.next().unwrap().parse().unwrap();
    let k: usize = it.next().unwrap().parse().unwrap();
    let path = it.next().unwrap();
    confine_bench::install_stack(path, k);
    let time = |f: &dyn Fn() -> i64| confine_bench::fastest_ns(f, n);
    // SAFETY: getpid(2) takes no argument and changes nothing.
    let getpid = time(&|| unsafe { raw::syscall6(39, [0; 6]) });
    // SAFETY: personality(0xffffffff) only reads the current persona.
    let personality = time(&|| unsafe { raw::syscall6(135, [0xffff_ffff, 0, 0, 0, 0, 0]) });
    // SAFETY: clone3 (435) is refused by the filter with ENOSYS; were it not, a null
    // `clone_args` of size 0 is refused by the kernel with EINVAL: no process is created.
    let denied = time(&|| unsafe { raw::syscall6(435, [0; 6]) });
    // SAFETY: i386 personality(0xffffffff) only reads the current persona.
    let i386 = time(&|| unsafe { raw::int80(136, [0xffff_ffff, 0, 0, 0, 0, 0]) });
    // an invalid type: the kernel answers EINVAL at once, after the filter has run
    // SAFETY: socket(AF_INET, -1, 0) fails with EINVAL and creates no descriptor.
    let socket = time(&|| unsafe { raw::syscall6(41, [2, u64::MAX, 0, 0, 0, 0]) });
    println!("{getpid} {personality} {denied} {i386} {socket}");
    std::process::exit(0);
}
