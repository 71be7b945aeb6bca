//! A structure-aware generator of Docker/OCI seccomp profiles (names real and unknown, every
//! action, errnos, argument conditions with every operator, includes and excludes on
//! architectures, capabilities and kernel versions) written as JSON, and the check that a
//! compiled program decides as the policy it was compiled from.

use arbitrary::Arbitrary;
use confine_abi::{Arch, CapSet, SyscallTable};
use confine_bpf::{Emulator, Insn, SeccompData};
use confine_profile::{parse_profile, Host, KernelVersion, Operator, Resolved};
use confine_seccomp::{optimize, reference, ArgWidth, CompileError, Options, Policy};
use serde_json::{json, Value};

/// Syscall names: common ones, the multiplexers, names of one ABI only, unknown names.
pub const NAMES: &[&str] = &[
    "read",
    "write",
    "getpid",
    "personality",
    "socket",
    "bind",
    "clone",
    "clone3",
    "ioctl",
    "fcntl",
    "futex",
    "mmap",
    "mmap2",
    "openat",
    "socketcall",
    "ipc",
    "kill",
    "prctl",
    "_llseek",
    "arch_prctl",
    "open",
    "not_a_syscall",
];

/// Argument values: the boundaries of the 32- and 64-bit words, flags, small numbers.
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
    0xffff_ffff_8000_0000,
    u64::MAX,
    0x7e02_0000,
    0x1000_0000,
];

const ACTIONS: &[&str] = &[
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

const ARCHES: &[Arch] = &[
    Arch::X86_64,
    Arch::X86,
    Arch::X32,
    Arch::Aarch64,
    Arch::Arm,
    Arch::S390x,
    Arch::S390,
    Arch::Riscv64,
    Arch::Ppc64le,
    Arch::Mips64,
];

const CAPS: &[&str] = &[
    "CAP_SYS_ADMIN",
    "CAP_SYS_PTRACE",
    "CAP_NET_ADMIN",
    "CAP_CHOWN",
    "CAP_SYS_NICE",
];

/// An action and its errno.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct GenAction {
    kind: u8,
    errno: Option<u16>,
}

/// A value: from [`VALUES`] or any.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum GenValue {
    /// One of [`VALUES`].
    Pool(u8),
    /// Any 64-bit value.
    Any(u64),
}

impl GenValue {
    fn get(self) -> u64 {
        match self {
            GenValue::Pool(i) => VALUES[i as usize % VALUES.len()],
            GenValue::Any(v) => v,
        }
    }
}

/// One argument condition.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct GenArg {
    index: u8,
    value: GenValue,
    value_two: GenValue,
    op: u8,
    with_value_two: bool,
}

/// `includes` or `excludes`.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenFilter {
    arches: Vec<u8>,
    caps: Vec<u8>,
    min_kernel: Option<(u8, u8)>,
}

/// One rule of `syscalls[]`.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenRule {
    names: Vec<u8>,
    action: GenAction,
    args: Vec<GenArg>,
    includes: Option<GenFilter>,
    excludes: Option<GenFilter>,
}

/// A profile, the host it is resolved for and the compiler's options.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenProfile {
    default: GenAction,
    default_errno: Option<u16>,
    architectures: Vec<u8>,
    arch_map: bool,
    oci: bool,
    rules: Vec<GenRule>,
    host_arch: u8,
    all_caps: bool,
    kernel: (u8, u8),
    stub: bool,
    kernel_width: bool,
    probes: Vec<u64>,
}

fn action_json(a: GenAction, obj: &mut serde_json::Map<String, Value>, errno_key: &str) {
    let name = ACTIONS[a.kind as usize % ACTIONS.len()];
    obj.insert("action".into(), json!(name));
    if let Some(e) = a.errno {
        // mostly valid errnos, now and then one the parser must refuse
        let e = if e & 0x8000 != 0 { e } else { e % 200 };
        obj.insert(errno_key.into(), json!(e));
    }
}

fn filter_json(f: &GenFilter) -> Value {
    let mut o = serde_json::Map::new();
    if !f.arches.is_empty() {
        let a: Vec<&str> = f
            .arches
            .iter()
            .take(3)
            .map(|&i| ["amd64", "arm64", "s390x", "x86", "riscv64", "ppc64le"][i as usize % 6])
            .collect();
        o.insert("arches".into(), json!(a));
    }
    if !f.caps.is_empty() {
        let c: Vec<&str> = f
            .caps
            .iter()
            .take(3)
            .map(|&i| CAPS[i as usize % CAPS.len()])
            .collect();
        o.insert("caps".into(), json!(c));
    }
    if let Some((a, b)) = f.min_kernel {
        o.insert(
            "minKernel".into(),
            json!(format!("{}.{}", 3 + a % 5, b % 20)),
        );
    }
    Value::Object(o)
}

impl GenProfile {
    /// The host the profile is resolved for.
    pub fn host(&self) -> Host {
        Host {
            arch: [Arch::X86_64, Arch::Aarch64, Arch::S390x, Arch::Riscv64]
                [self.host_arch as usize % 4],
            caps: if self.all_caps {
                CapSet::all_known()
            } else {
                CapSet::docker_default()
            },
            kernel: KernelVersion {
                kernel: 4 + self.kernel.0 % 3,
                major: self.kernel.1 % 20,
            },
        }
    }

    /// The compiler's options.
    pub fn options(&self) -> Options {
        Options {
            enosys_stub: self.stub,
            arg_width: if self.kernel_width {
                ArgWidth::Kernel
            } else {
                ArgWidth::Faithful
            },
        }
    }

    /// The profile as Docker JSON (or an OCI `linux.seccomp` object).
    pub fn to_json(&self) -> String {
        let mut top = serde_json::Map::new();
        let d = self.default;
        let name = ACTIONS[d.kind as usize % ACTIONS.len()];
        top.insert("defaultAction".into(), json!(name));
        if let Some(e) = self.default_errno {
            top.insert("defaultErrnoRet".into(), json!(e % 200));
        }
        let arches: Vec<&str> = self
            .architectures
            .iter()
            .take(4)
            .map(|&i| ARCHES[i as usize % ARCHES.len()].scmp_name())
            .collect();
        if self.arch_map && !self.oci {
            let map: Vec<Value> = arches
                .iter()
                .map(|a| json!({"architecture": a, "subArchitectures": []}))
                .collect();
            top.insert("archMap".into(), json!(map));
        } else if !arches.is_empty() {
            top.insert("architectures".into(), json!(arches));
        }
        let rules: Vec<Value> = self
            .rules
            .iter()
            .take(12)
            .map(|r| {
                let mut o = serde_json::Map::new();
                let names: Vec<&str> = r
                    .names
                    .iter()
                    .take(4)
                    .map(|&i| NAMES[i as usize % NAMES.len()])
                    .collect();
                let names = if names.is_empty() {
                    vec!["getpid"]
                } else {
                    names
                };
                o.insert("names".into(), json!(names));
                action_json(r.action, &mut o, "errnoRet");
                let args: Vec<Value> = r
                    .args
                    .iter()
                    .take(4)
                    .map(|a| {
                        let op = Operator::ALL[a.op as usize % Operator::ALL.len()];
                        let mut v = json!({
                            "index": a.index % 7,
                            "value": a.value.get(),
                            "op": op.as_str(),
                        });
                        if a.with_value_two || op == Operator::MaskedEqual {
                            v["valueTwo"] = json!(a.value_two.get());
                        }
                        v
                    })
                    .collect();
                if !args.is_empty() {
                    o.insert("args".into(), json!(args));
                }
                if !self.oci {
                    if let Some(f) = &r.includes {
                        o.insert("includes".into(), filter_json(f));
                    }
                    if let Some(f) = &r.excludes {
                        o.insert("excludes".into(), filter_json(f));
                    }
                }
                Value::Object(o)
            })
            .collect();
        top.insert("syscalls".into(), json!(rules));
        serde_json::to_string_pretty(&Value::Object(top)).unwrap()
    }
}

/// Syscall numbers to try on `arch`: the profile's names, their neighbours, the edges.
fn numbers(r: &Resolved, arch: Arch) -> Vec<u32> {
    let base = if arch == Arch::X32 { 0x4000_0000 } else { 0 };
    let mut nrs = vec![
        base,
        base + 1,
        u32::MAX,
        0x4000_0000,
        0x3fff_ffff,
        999,
        0x8000_0000,
        0xbfff_ffff,
        0xc000_0000,
        0xc000_0001,
    ];
    if let Ok(t) = SyscallTable::for_arch(arch) {
        for rule in &r.rules {
            for name in rule.names.iter() {
                if let Some(n) = t.number(name) {
                    nrs.extend([n, n.wrapping_add(1), n.wrapping_sub(1)]);
                }
            }
        }
        for name in ["getpid", "read", "socket", "clone3"] {
            nrs.extend(t.number(name));
        }
    }
    nrs.sort_unstable();
    nrs.dedup();
    nrs
}

/// Argument vectors from the profile's constants.
fn vectors(r: &Resolved, probes: &[u64]) -> Vec<[u64; 6]> {
    let mut consts: Vec<u64> = vec![
        0,
        1,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        1 << 32,
        u64::MAX,
    ];
    for rule in &r.rules {
        for a in &rule.args {
            for v in [a.value, a.value_two, a.value & a.value_two] {
                consts.extend([
                    v.wrapping_sub(1),
                    v,
                    v.wrapping_add(1),
                    v ^ 0xffff_ffff_0000_0000,
                ]);
            }
        }
    }
    consts.extend(probes.iter().take(8));
    consts.sort_unstable();
    consts.dedup();
    let mut out = vec![[0u64; 6]];
    for (j, &c) in consts.iter().enumerate() {
        let mut v = [0u64; 6];
        v[j % 6] = c;
        out.push(v);
        out.push([c; 6]);
    }
    out
}

/// The program decides every sampled (arch, nr, args) as the policy does, and where the
/// explorer calls a syscall's verdict fixed, that is what the program returns.
pub fn check_program(what: &str, r: &Resolved, p: &Policy, prog: &[Insn], probes: &[u64]) {
    let emu = Emulator::new(prog)
        .unwrap_or_else(|e| panic!("{what}: the compiled program is invalid: {e}"));
    let ex = confine_bpf::explore::Explorer::new(prog).expect("validated above");
    let mut arches: Vec<Arch> = p.arches.iter().map(|a| a.arch).collect();
    arches.extend([Arch::Riscv64, Arch::Mips]);
    let vecs = vectors(r, probes);
    for arch in arches {
        for nr in numbers(r, arch) {
            let fixed = ex
                .explore(arch.audit_arch(), nr, arch.is_little_endian())
                .fixed();
            for args in &vecs {
                let d = SeccompData {
                    nr,
                    arch: arch.audit_arch(),
                    args: *args,
                    ..Default::default()
                };
                let got = emu.run(&d, arch.is_little_endian()).ret;
                let want = u32::from(p.eval(arch.audit_arch(), nr, args));
                assert_eq!(
                    got, want,
                    "{what}: program {got:#x}, policy {want:#x}: {arch} nr {nr} args {args:x?}"
                );
                if let Some(v) = fixed {
                    assert_eq!(
                        v, got,
                        "{what}: explorer always {v:#x}, program {got:#x}: {arch} nr {nr} args {args:x?}"
                    );
                }
            }
        }
    }
}

/// Parse, resolve, compile with both generators, emulate, compare with the policy.
pub fn compile(g: &GenProfile) {
    let text = g.to_json();
    let parsed = parse_profile(text.as_bytes(), "fuzz.json");
    crate::assert_located(&parsed.diagnostics, text.as_bytes());
    let host = g.host();
    let Ok(prepared) = confine_seccomp::prepare_parsed("fuzz.json".into(), parsed, &host) else {
        return;
    };
    let Some(r) = prepared.resolved().cloned() else {
        return;
    };
    let Ok(policy) = prepared.policy(g.options()) else {
        return;
    };
    for (what, prog) in [
        ("optimised", optimize::generate(&policy)),
        ("reference", reference::generate(&policy)),
    ] {
        match prog {
            Ok(prog) => check_program(what, &r, &policy, &prog, &g.probes),
            Err(CompileError::TooLong(_)) => {}
            Err(e) => panic!("{what}: {e}\n{text}"),
        }
    }
}
