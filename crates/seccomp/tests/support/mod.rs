//! Shared by the libseccomp differential tests: run Debian's libseccomp the way runc does.
#![allow(dead_code)]

use confine_abi::{Arch, CapSet};
use confine_bpf::insn::decode_with_order;
use confine_bpf::Insn;
use confine_profile::emit::{to_json, OutputFormat};
use confine_profile::{Action, Arg, Host, KernelVersion, Operator, Resolved, ResolvedRule};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use confine_test_support::rng::Rng;

pub struct Lib {
    pub prog: Vec<Insn>,
    pub unknown: Vec<String>,
    pub conflict: Option<String>,
    /// Names libseccomp resolves on the native ABI but gives a pseudo number (no number) on
    /// one of the filter's ABIs: `(abi, name)`.
    pub absent: Vec<(Arch, String)>,
    /// libseccomp did not finish within the time limit (runc would hang as well).
    pub hang: bool,
}

pub fn libseccomp(r: &Resolved, dir: &Path, opt: u32) -> Lib {
    let json = dir.join("p.json");
    std::fs::write(&json, to_json(r, OutputFormat::Oci)).unwrap();
    let bpf = dir.join("p.bpf");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/runc_libseccomp.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(&json)
        .arg(r.host.arch.scmp_name())
        .arg(&bpf)
        .arg(opt.to_string())
        .output()
        .expect("/usr/bin/python3 with python3-seccomp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    read_lib(r, &bpf, &v)
}

/// The libseccomp optimisation level runc asks for: the binary tree (2) above 32 per-name
/// rules (libseccomp 2.5.4 misbehaves with the tree and no rules), else linear (1). Big-endian
/// ABIs use the linear layout here: see [`read_lib`].
pub fn runc_optimize(r: &Resolved) -> u32 {
    let entries: usize = r.rules.iter().map(|x| x.names.len()).sum();
    if entries > 32 && r.host.arch.is_little_endian() {
        2
    } else {
        1
    }
}

/// Run many jobs through one python process: `(resolved, bpf path)`; one result each.
pub fn libseccomp_batch(jobs: &[(Resolved, PathBuf)], dir: &Path) -> Vec<Lib> {
    let mut list = Vec::new();
    for (i, (r, bpf)) in jobs.iter().enumerate() {
        let json = dir.join(format!("p{i}.json"));
        std::fs::write(&json, to_json(r, OutputFormat::Oci)).unwrap();
        let opt = runc_optimize(r);
        list.push(serde_json::json!([json, r.host.arch.scmp_name(), bpf, opt]));
    }
    let jobs_file = dir.join("jobs.json");
    std::fs::write(&jobs_file, serde_json::to_string(&list).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/runc_libseccomp.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .arg("--batch")
        .arg(&jobs_file)
        .output()
        .expect("/usr/bin/python3 with python3-seccomp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .zip(jobs)
        .map(|(line, (r, bpf))| read_lib(r, bpf, &serde_json::from_str(line).unwrap()))
        .collect()
}

fn read_lib(r: &Resolved, bpf: &Path, v: &serde_json::Value) -> Lib {
    if v["hang"].as_bool() == Some(true) {
        return Lib {
            prog: Vec::new(),
            unknown: Vec::new(),
            conflict: None,
            absent: Vec::new(),
            hang: true,
        };
    }
    assert!(v.get("error").is_none(), "python3-seccomp failed: {v}");
    let mut prog =
        decode_with_order(&std::fs::read(bpf).unwrap(), r.host.arch.is_little_endian()).unwrap();
    if !r.host.arch.is_little_endian() {
        // Exported for a big-endian ABI on this little-endian host, libseccomp 2.5.4 byte-swaps
        // some RET values twice (its far-jump block copies). On the real host the swaps cancel.
        // Repair exactly those: a RET value that is none of the profile's actions but whose
        // byte-swap is one.
        let mut known: BTreeSet<u32> = [
            confine_bpf::action::KILL_THREAD,
            confine_seccomp::policy::action_value(r.default_action, r.default_errno_ret).into(),
        ]
        .into();
        for rule in &r.rules {
            known.insert(confine_seccomp::policy::action_value(rule.action, rule.errno_ret).into());
        }
        for i in &mut prog {
            if i.code == 0x06 && !known.contains(&i.k) && known.contains(&i.k.swap_bytes()) {
                i.k = i.k.swap_bytes();
            }
        }
    }
    Lib {
        prog,
        unknown: v["unknown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
        conflict: v["conflict"].as_str().map(str::to_string),
        absent: v["absent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let abi = e[0].as_str().unwrap();
                let a = Arch::from_scmp(&format!("SCMP_ARCH_{abi}")).expect(abi);
                (a, e[1].as_str().unwrap().to_string())
            })
            .collect(),
        hang: false,
    }
}

pub fn without(r: &Resolved, names: &[String]) -> Resolved {
    let mut r = r.clone();
    for rule in &mut r.rules {
        rule.names = rule
            .names
            .iter()
            .filter(|n| !names.contains(n))
            .cloned()
            .collect();
    }
    r.rules.retain(|rule| !rule.names.is_empty());
    r
}

/// Boundary vectors from every constant in the profile.
pub fn vectors(r: &Resolved) -> Vec<[u64; 6]> {
    let mut consts: BTreeSet<u64> = [
        0u64,
        1,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        u64::MAX,
    ]
    .into();
    for rule in &r.rules {
        for a in &rule.args {
            for v in [
                a.value,
                a.value_two,
                a.value & !a.value_two,
                a.value | a.value_two,
            ] {
                for x in [
                    v.wrapping_sub(1),
                    v,
                    v.wrapping_add(1),
                    v | 1 << 32,
                    v ^ 0xffff_ffff_0000_0000,
                ] {
                    consts.insert(x);
                }
            }
        }
    }
    let mut out = vec![[0u64; 6]];
    for &c in &consts {
        for i in 0..3 {
            let mut v = [0u64; 6];
            v[i] = c;
            out.push(v);
        }
        out.push([c; 6]);
    }
    out
}

/// Whether libseccomp's program, on this input, compares the architecture word as if it were
/// the syscall number: libseccomp 2.5.4 emits the `ld [0]` in the block of the syscall with the
/// highest priority, and when that syscall is a pseudo-syscall (a name absent on the ABI, e.g.
/// `ipc` on aarch64) the block is skipped and the load with it.
pub fn missing_nr_load(prog: &[Insn], d: &confine_bpf::SeccompData, le: bool) -> bool {
    let emu = confine_bpf::Emulator::new(prog).unwrap();
    let (_, trace) = emu.run_traced(d, le);
    let mut last_load = None;
    let mut after_arch_match = false;
    for pc in trace {
        let i = prog[pc];
        match i.code {
            0x20 => last_load = Some(i.k),
            0x15 if last_load == Some(4) && i.k == d.arch => after_arch_match = true,
            0x15 | 0x25 | 0x35 | 0x45 if after_arch_match && last_load == Some(4) => return true,
            _ => {}
        }
    }
    false
}

pub const NAMES: &[&str] = &[
    "read",
    "write",
    "getpid",
    "personality",
    "socket",
    "bind",
    "clone",
    "ioctl",
    "fcntl",
    "futex",
    "semop",
    "shmat",
    "mmap",
    "openat",
    "socketcall",
    "ipc",
    "kill",
];
pub const VALUES: &[u64] = &[
    0,
    1,
    2,
    3,
    5,
    8,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0xffff_ffff_0000_0000,
    u64::MAX,
    0x7E02_0000,
];
pub const ACTIONS: &[(Action, Option<u32>)] = &[
    (Action::Allow, None),
    (Action::Errno, None),
    (Action::Errno, Some(5)),
    (Action::Errno, Some(38)),
    (Action::Kill, None),
    (Action::KillProcess, None),
    (Action::Trap, None),
    (Action::Log, None),
    (Action::Trace, Some(3)),
];

/// A random resolved profile: overlapping rules on a small pool of syscalls.
pub fn random_profile(rng: &mut Rng) -> Resolved {
    let (native, family): (Arch, &[Arch]) = match rng.below(4) {
        0 | 1 => (Arch::X86_64, &[Arch::X86_64, Arch::X86, Arch::X32]),
        2 => (Arch::Aarch64, &[Arch::Aarch64, Arch::Arm]),
        _ => (Arch::S390x, &[Arch::S390x, Arch::S390]),
    };
    let architectures = family
        .iter()
        .copied()
        .filter(|_| rng.below(2) == 0)
        .collect();
    let (default_action, default_errno_ret) = rng.pick(&[
        (Action::Errno, Some(1)),
        (Action::Errno, Some(38)),
        (Action::KillThread, None),
        (Action::KillProcess, None),
        (Action::Allow, None),
        (Action::Log, None),
        (Action::Trap, None),
    ]);
    let rules = (0..1 + rng.below(8))
        .map(|i| {
            let mut names: Vec<String> = (0..1 + rng.below(3))
                .map(|_| rng.pick(NAMES).to_string())
                .collect();
            names.sort();
            names.dedup();
            let (action, errno_ret) = rng.pick(ACTIONS);
            let args = (0..rng.below(4))
                .map(|_| Arg {
                    index: rng.below(4) as u32,
                    value: rng.pick(VALUES),
                    value_two: rng.pick(VALUES),
                    op: rng.pick(Operator::ALL),
                })
                .collect();
            ResolvedRule {
                names: names.into(),
                action,
                errno_ret,
                args,
                comment: None,
                source_index: i,
            }
        })
        .collect();
    Resolved {
        default_action,
        default_errno_ret,
        architectures,
        flags: None,
        listener_path: None,
        listener_metadata: None,
        rules,
        host: Host {
            arch: native,
            caps: CapSet::docker_default(),
            kernel: KernelVersion {
                kernel: 6,
                major: 8,
            },
        },
    }
}
