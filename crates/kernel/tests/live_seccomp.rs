//! Against the live kernel: install confine's compiled docker-default (amd64 with x86 and x32)
//! with every verdict — ALLOW included — remapped to a distinct errno, so that no probed
//! syscall ever executes and a seccomp verdict cannot be mistaken for a kernel error. Then call
//! every x86_64 number, every i386 number through `int 0x80` and x32 numbers, on boundary
//! arguments, and check each errno against the emulator's verdict for the same input.
//!
//! The probing child runs in fresh user and pid namespaces (util-linux `unshare`), without
//! capabilities in the initial namespace, under a watchdog. Only two calls are let through, by
//! a prefix in front of the remapped program: the one `write` of the results (fd 1, an exact
//! byte count no probe uses) and `exit_group(77)`.
//!
//! A custom harness (`harness = false`): the test binary re-executes itself as the child.

use confine_abi::{Arch, CapSet, SyscallTable};
use confine_bpf::asm::Asm;
use confine_bpf::insn::{class, op};
use confine_bpf::{action, decode, encode, Emulator, Insn, SeccompData};
use confine_kernel::raw;
use confine_seccomp::{build, optimize, Options};
use confine_test_support::host::host;
use confine_test_support::probe::DOCKER_ARG_VALUES;
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const X86_64: u32 = 0xc000_003e;
const I386: u32 = 0x4000_0003;
const X32_BIT: u32 = 0x4000_0000;
const SYS_WRITE: u64 = 1;
const SYS_EXIT_GROUP: u64 = 231;
const EXIT_CODE: u64 = 77;
const UPROBE_PASSTHROUGH: [u32; 2] = [335, 336];

#[derive(Clone, Copy)]
struct Probe {
    abi: u8, // 0 x86_64, 1 x32, 2 i386
    nr: u32,
    args: [u64; 6],
}

fn main() {
    if let Ok(dir) = std::env::var("CONFINE_LIVE_CHILD") {
        child(&dir);
    }
    parent();
}

/// The child: read probes and program, install, probe, report, exit. After the install it
/// makes no syscall but the probes, the report `write` and `exit_group`.
fn child(dir: &str) -> ! {
    let probes = read_probes(&std::fs::read(format!("{dir}/probes")).expect("probes"));
    let prog = decode(&std::fs::read(format!("{dir}/prog.bpf")).expect("program")).expect("decode");
    let mut out = vec![0u8; probes.len() * 8];
    if let Err(e) = confine_kernel::set_no_new_privs() {
        eprintln!("no_new_privs: {e}");
        std::process::exit(3);
    }
    if let Err(e) = confine_kernel::install(&prog, Default::default()) {
        eprintln!("install: {e}");
        std::process::exit(4);
    }
    for (i, p) in probes.iter().enumerate() {
        // SAFETY: the filter just installed remaps every verdict, ALLOW included, to an errno
        // for every probe (the prefix lets through only the exact report `write` and
        // `exit_group(77)`, whose arguments no probe uses), so no probed call ever executes:
        // each one returns an errno without touching memory or process state.
        let r = unsafe {
            match p.abi {
                0 => raw::syscall6(u64::from(p.nr), p.args),
                1 => raw::syscall6(u64::from(p.nr | X32_BIT), p.args),
                _ => {
                    let a = p.args.map(|x| x as u32);
                    raw::int80(p.nr, a)
                }
            }
        };
        out[i * 8..i * 8 + 8].copy_from_slice(&r.to_le_bytes());
    }
    // SAFETY: write(2) to fd 1 reads `out.len()` bytes from `out`, a live buffer of exactly
    // that length.
    unsafe {
        raw::syscall6(
            SYS_WRITE,
            [1, out.as_ptr() as u64, out.len() as u64, 0, 0, 0],
        )
    };
    // SAFETY: exit_group(2) ends the process; nothing runs after it.
    unsafe { raw::syscall6(SYS_EXIT_GROUP, [EXIT_CODE, 0, 0, 0, 0, 0]) };
    loop {
        std::hint::spin_loop();
    }
}

fn read_probes(b: &[u8]) -> Vec<Probe> {
    b.chunks_exact(53)
        .map(|c| {
            let mut args = [0u64; 6];
            for (i, a) in args.iter_mut().enumerate() {
                *a = u64::from_le_bytes(c[5 + 8 * i..13 + 8 * i].try_into().unwrap());
            }
            Probe {
                abi: c[0],
                nr: u32::from_le_bytes(c[1..5].try_into().unwrap()),
                args,
            }
        })
        .collect()
}

fn write_probes(p: &[Probe]) -> Vec<u8> {
    let mut b = Vec::new();
    for x in p {
        b.push(x.abi);
        b.extend(x.nr.to_le_bytes());
        for a in x.args {
            b.extend(a.to_le_bytes());
        }
    }
    b
}

/// The prefix that lets the report and the exit through, then falls into `body`.
fn with_escape(body: &[Insn], report_len: u32) -> Vec<Insn> {
    let mut a = Asm::default();
    let start = a.label();
    let allow = a.label();
    let not_write = a.label();
    let next = [a.label(), a.label(), a.label(), a.label()];
    a.ld(4);
    a.jump(op::JEQ, X86_64, next[0], start);
    a.bind(next[0]);
    a.ld(0);
    a.jump(op::JEQ, SYS_WRITE as u32, next[1], not_write);
    a.bind(next[1]);
    a.ld(16);
    a.jump(op::JEQ, 1, next[2], start);
    a.bind(next[2]);
    a.ld(32);
    a.jump(op::JEQ, report_len, allow, start);
    a.bind(not_write);
    a.jump(op::JEQ, SYS_EXIT_GROUP as u32, next[3], start);
    a.bind(next[3]);
    a.ld(16);
    a.jump(op::JEQ, EXIT_CODE as u32, allow, start);
    a.bind(allow);
    a.ret(action::ALLOW);
    a.bind(start);
    let mut prog = a.finish().expect("prefix assembles");
    prog.extend_from_slice(body);
    prog
}

fn parent() {
    let started = Instant::now();
    let host = host(Arch::X86_64, CapSet::docker_default());
    let r = confine_profile::builtin::resolved_for(&host);
    let policy = build(&r, Options::default()).unwrap();
    let prog = optimize::generate(&policy).unwrap();
    let n = run_live("confine", &prog, Some(&policy));
    // and libseccomp's own program for the same profile (Debian's python3-seccomp), as the
    // emulator sees it: the emulator must agree with the kernel on programs it did not write
    let dir = std::env::temp_dir().join(format!("confine-live-lib-{}", std::process::id()));
    std::fs::create_dir(&dir).expect("private temporary directory");
    std::fs::write(
        dir.join("p.json"),
        confine_profile::emit::to_json(&r, confine_profile::emit::OutputFormat::Oci),
    )
    .unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../seccomp/tests/support/runc_libseccomp.py");
    let st = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(dir.join("p.json"))
        .arg("SCMP_ARCH_X86_64")
        .arg(dir.join("p.bpf"))
        .arg("2")
        .stdout(Stdio::null())
        .status()
        .expect("/usr/bin/python3 with python3-seccomp");
    assert!(st.success());
    let lib = decode(&std::fs::read(dir.join("p.bpf")).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let m = run_live("libseccomp", &lib, None);
    println!(
        "live kernel: {} verdicts in {:.1} s",
        n + m,
        started.elapsed().as_secs_f64()
    );
    println!("1 passed, 0 failed");
}

/// Remap `prog`'s verdicts, probe it in a confined child, compare with the emulator (and with
/// `policy`, when the program is confine's). Returns the number of verdicts compared.
fn run_live(what: &str, prog: &[Insn], policy: Option<&confine_seccomp::Policy>) -> usize {
    // remap every return value to its own errno (4001, 4002, …)
    let mut codes: BTreeMap<u32, u32> = BTreeMap::new();
    for i in prog {
        if i.code == class::RET | op::K {
            let n = codes.len() as u32;
            codes.entry(i.k).or_insert(4001 + n);
        }
    }
    let remapped: Vec<Insn> = prog
        .iter()
        .map(|i| {
            if i.code == class::RET | op::K {
                Insn::stmt(i.code, action::ERRNO | codes[&i.k])
            } else {
                *i
            }
        })
        .collect();

    // probes: every number of each ABI up to its highest + 64, on a few argument vectors
    let mut vectors: Vec<[u64; 6]> = vec![[0; 6]];
    for v in DOCKER_ARG_VALUES.into_iter().chain([0x1_0000_0000]) {
        vectors.push([v, 0, 0, 0, 0, 0]);
        vectors.push([0, v, 0, 0, 0, 0]);
    }
    let mut probes = Vec::new();
    let top64 = SyscallTable::for_arch(Arch::X86_64).unwrap().max_number();
    let top32 = SyscallTable::for_arch(Arch::X86).unwrap().max_number();
    for nr in 0..=top64 + 64 {
        // uretprobe (335) and uprobe (336) never reach seccomp: the kernel passes them through
        // every filter (kernel/seccomp.c, seccomp_uprobe_exception; uretprobe since 6.14,
        // uprobe since 6.18). Outside a probe trampoline uretprobe raises SIGILL and uprobe
        // fails with ENXIO. Not filter verdicts, so not probed here.
        if UPROBE_PASSTHROUGH.contains(&nr) {
            continue;
        }
        for v in &vectors {
            probes.push(Probe {
                abi: 0,
                nr,
                args: *v,
            });
        }
    }
    for nr in 0..=600 {
        probes.push(Probe {
            abi: 1,
            nr,
            args: [0; 6],
        });
    }
    for nr in 0..=top32 + 64 {
        for v in vectors
            .iter()
            .filter(|v| v.iter().all(|&x| x <= 0xffff_ffff))
        {
            probes.push(Probe {
                abi: 2,
                nr,
                args: *v,
            });
        }
    }
    if let Ok(only) = std::env::var("CONFINE_LIVE_ONLY") {
        // debugging aid: probe one ABI (0 x86_64, 1 x32, 2 i386)
        probes.retain(|p| p.abi.to_string() == only);
    }
    if let Some((lo, hi)) = std::env::var("CONFINE_LIVE_NR").ok().and_then(|v| {
        let (a, b) = v.split_once('-')?;
        Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?))
    }) {
        probes.retain(|p| (lo..=hi).contains(&p.nr));
    }
    let report_len = (probes.len() * 8) as u32;
    assert!(vectors.iter().all(|v| v[2] != u64::from(report_len)));
    let final_prog = with_escape(&remapped, report_len);

    let dir = std::env::temp_dir().join(format!("confine-live-{what}-{}", std::process::id()));
    std::fs::create_dir(&dir).expect("private temporary directory");
    std::fs::write(dir.join("probes"), write_probes(&probes)).unwrap();
    std::fs::write(dir.join("prog.bpf"), encode(&final_prog)).unwrap();
    let me = std::env::current_exe().unwrap();
    let mut child = Command::new("unshare")
        .args(["--user", "--pid", "--fork", "--kill-child", "--"])
        .arg(&me)
        .env("CONFINE_LIVE_CHILD", &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("util-linux unshare");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        stdout.read_to_end(&mut b).map(|_| b)
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("watchdog: the probing child did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        status.code(),
        Some(EXIT_CODE as i32),
        "child failed: {status:?}"
    );
    assert_eq!(out.len(), probes.len() * 8, "report length");

    let emu = Emulator::new(&final_prog).unwrap();
    let back: BTreeMap<u32, u32> = codes.iter().map(|(&v, &c)| (c, v)).collect();
    let (mut checked, mut per_abi) = (0usize, [0usize; 3]);
    for (i, p) in probes.iter().enumerate() {
        let got = i64::from_le_bytes(out[i * 8..i * 8 + 8].try_into().unwrap());
        let (arch, nr) = match p.abi {
            0 => (X86_64, p.nr),
            1 => (X86_64, p.nr | X32_BIT),
            _ => (I386, p.nr),
        };
        let args = if p.abi == 2 {
            p.args.map(|x| x & 0xffff_ffff)
        } else {
            p.args
        };
        let want = emu
            .run(
                &SeccompData {
                    nr,
                    arch,
                    args,
                    ..Default::default()
                },
                true,
            )
            .ret;
        assert_eq!(
            want & action::ACTION_FULL,
            action::ERRNO,
            "every verdict is remapped to an errno"
        );
        assert_eq!(
            got,
            -i64::from(want & action::DATA),
            "abi {} nr {nr:#x} args {args:x?}: kernel {got}, emulator {}",
            p.abi,
            -i64::from(want & action::DATA)
        );
        // and the remapped verdict is the policy's verdict
        if let Some(policy) = policy {
            assert_eq!(
                back[&(want & action::DATA)],
                u32::from(policy.eval(arch, nr, &args)),
                "abi {} nr {nr:#x}",
                p.abi
            );
        }
        checked += 1;
        per_abi[p.abi as usize] += 1;
    }
    println!(
        "live kernel, {what}'s program ({} instructions): {checked} verdicts equal to the emulator's{} (x86_64 {}, x32 {}, i386 via int 0x80 {})",
        prog.len(),
        if policy.is_some() { " and the policy's" } else { "" },
        per_abi[0],
        per_abi[1],
        per_abi[2],
    );
    checked
}
