//! Proofs over every input (`confine_bpf::verify`): the compiled programs decide exactly as
//! the policy, and bugs planted in real compiled programs are found.
//!
//! The mutants: 1,000 of them, from Docker's default (x86_64 with x86 and x32, aarch64),
//! Podman's default (x86_64) and seeded random profiles, each with one planted change: a
//! conditional jump flipped, an instruction dropped (jumps over it re-aimed), a constant
//! changed, or two different returns swapped. Each is proved against the original program and
//! against the policy. A mutant proved equivalent is checked by enumeration on a reduced
//! domain (every number up to 512 and x32's 0x4000_0000..=0x4000_0200 on every covered arch
//! and one other, arguments zero) and on 4,000 inputs drawn from the programs' own constants
//! (±1) on every word; every difference reported is replayed on the emulator with both
//! programs, and against the policy on `Policy::eval`.

mod support;

use confine_abi::{Arch, CapSet};
use confine_bpf::insn::class;
use confine_bpf::verify::cell::{data_of, little_endian};
use confine_bpf::verify::{prove, Program, Verdict, DEFAULT_WORK, WORDS};
use confine_bpf::{Emulator, Insn};
use confine_profile::{load, resolve, Resolution, Resolved, Source};
use confine_seccomp::verify::PolicySide;
use confine_seccomp::{build, optimize, reference, Options, Policy};
use confine_test_support::fixtures::seccomp as fixture;
use confine_test_support::host::{docker, host};
use support::{random_profile, Rng};

fn resolved(file: &str, arch: Arch) -> Resolved {
    let p = load(&Source::Path(fixture(file))).unwrap().profile.unwrap();
    match resolve(&p, &host(arch, CapSet::docker_default())) {
        Resolution::Filter(r) => r,
        Resolution::Unconfined => unreachable!(),
    }
}

#[test]
fn docker_default_is_proved_for_its_native_arches() {
    for native in [Arch::X86_64, Arch::Aarch64, Arch::S390x, Arch::Ppc64le] {
        let r = docker(native, CapSet::docker_default());
        let p = build(&r, Options::default()).unwrap();
        for prog in [
            optimize::generate(&p).unwrap(),
            reference::generate(&p).unwrap(),
        ] {
            let proof = prove(
                &Program::new(&prog).unwrap(),
                &PolicySide::new(&p),
                DEFAULT_WORK,
            );
            assert_eq!(proof.verdict, Verdict::Proved, "{native:?}");
            assert!(proof.cases > 100);
        }
    }
}

/// The jump targets of a program with instruction `at` removed: a jump over it is one
/// shorter, a jump onto it lands on its successor.
fn drop_insn(p: &[Insn], at: usize) -> Vec<Insn> {
    let mut out = Vec::with_capacity(p.len() - 1);
    for (j, i) in p.iter().enumerate() {
        if j == at {
            continue;
        }
        let mut i = *i;
        if j < at && i.class() == class::JMP {
            let fix = |off: u32| {
                if j + 1 + off as usize > at {
                    off - 1
                } else {
                    off
                }
            };
            if i.code == class::JMP {
                i.k = fix(i.k);
            } else {
                i.jt = fix(u32::from(i.jt)) as u8;
                i.jf = fix(u32::from(i.jf)) as u8;
            }
        }
        out.push(i);
    }
    out
}

/// One planted change, and its kind.
fn mutate(p: &[Insn], rng: &mut Rng) -> (Vec<Insn>, &'static str) {
    let mut q = p.to_vec();
    let at = rng.below(p.len());
    match rng.below(4) {
        0 => {
            let conds: Vec<usize> = (0..p.len())
                .filter(|&j| p[j].class() == class::JMP && p[j].code != class::JMP)
                .collect();
            let j = rng.pick(&conds);
            (q[j].jt, q[j].jf) = (q[j].jf, q[j].jt);
            (q, "flip")
        }
        1 if at + 1 < p.len() => (drop_insn(p, at), "drop"),
        2 => {
            let i = &mut q[at];
            match i.class() {
                class::LD if i.code == 0x20 => i.k = rng.pick(&[0u32, 4, 16, 20, 24]),
                _ => {
                    i.k = match rng.below(3) {
                        0 => i.k.wrapping_add(1),
                        1 => i.k.wrapping_sub(1),
                        _ => i.k ^ 1 << rng.below(32),
                    }
                }
            }
            (q, "constant")
        }
        _ => {
            let rets: Vec<usize> = (0..p.len())
                .filter(|&j| p[j].class() == class::RET)
                .collect();
            let (a, b) = (rng.pick(&rets), rng.pick(&rets));
            (q[a].k, q[b].k) = (q[b].k, q[a].k);
            (q, "swap")
        }
    }
}

/// Inputs drawn from the constants of both programs: every word a constant ±1, 0 or all ones.
fn sample(p: &[Insn], q: &[Insn], policy: &Policy, rng: &mut Rng, n: usize) -> Vec<[u32; WORDS]> {
    let mut consts: Vec<u32> = vec![0, 1, u32::MAX, 0x4000_0000];
    for i in p.iter().chain(q) {
        consts.extend([i.k.wrapping_sub(1), i.k, i.k.wrapping_add(1)]);
    }
    let audits: Vec<u32> = policy.arches.iter().map(|a| a.arch.audit_arch()).collect();
    (0..n)
        .map(|_| {
            let mut w = [0u32; WORDS];
            for (k, x) in w.iter_mut().enumerate() {
                if k == 1 || rng.below(3) == 0 {
                    *x = rng.pick(&consts);
                }
            }
            if rng.below(4) != 0 {
                w[1] = rng.pick(&audits);
            }
            w
        })
        .collect()
}

fn run(p: &[Insn], w: &[u32; WORDS]) -> u32 {
    let le = little_endian(w[1]);
    Emulator::new(p).unwrap().run(&data_of(w, le), le).ret
}

#[test]
fn a_thousand_planted_bugs() {
    let mut rng = Rng(0x5eed_0021);
    let mut bases: Vec<(Policy, Vec<Insn>)> = Vec::new();
    for r in [
        docker(Arch::X86_64, CapSet::docker_default()),
        docker(Arch::Aarch64, CapSet::docker_default()),
        resolved("podman-default.json", Arch::X86_64),
    ] {
        let p = build(&r, Options::default()).unwrap();
        let prog = optimize::generate(&p).unwrap();
        bases.push((p, prog));
    }
    while bases.len() < 8 {
        let r = random_profile(&mut rng);
        if let Ok(p) = build(&r, Options::default()) {
            let prog = optimize::generate(&p).unwrap();
            if prog.len() > 20 {
                bases.push((p, prog));
            }
        }
    }
    let (mut total, mut caught, mut equivalent, mut invalid) = (0, 0, 0, 0);
    let mut kinds: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    while total < 1000 {
        let (policy, orig) = &bases[total % bases.len()];
        let (m, kind) = mutate(orig, &mut rng);
        let Ok(mp) = Program::new(&m) else {
            invalid += 1;
            continue;
        };
        total += 1;
        let op = Program::new(orig).unwrap();
        let vs_prog = prove(&mp, &op, DEFAULT_WORK);
        let vs_policy = prove(&mp, &PolicySide::new(policy), DEFAULT_WORK);
        let k = kinds.entry(kind).or_default();
        k.0 += 1;
        match (&vs_prog.verdict, &vs_policy.verdict) {
            (Verdict::Proved, Verdict::Proved) => {
                equivalent += 1;
                for w in sample(&m, orig, policy, &mut rng, 4000) {
                    assert_eq!(run(&m, &w), run(orig, &w), "{kind} mutant proved, {w:x?}");
                }
                // and every number up to 512 (x32's too) of every covered arch and of one
                // other, arguments zero
                let mut audits: Vec<u32> =
                    policy.arches.iter().map(|a| a.arch.audit_arch()).collect();
                audits.push(Arch::Mips.audit_arch());
                for &audit in &audits {
                    for nr in (0..=512u32).chain(0x4000_0000..=0x4000_0200) {
                        let mut w = [0u32; WORDS];
                        (w[0], w[1]) = (nr, audit);
                        assert_eq!(run(&m, &w), run(orig, &w), "{kind} mutant proved, {w:x?}");
                    }
                }
            }
            (Verdict::Differ(a), Verdict::Differ(b)) => {
                caught += 1;
                k.1 += 1;
                for d in a {
                    assert_ne!(run(&m, &d.words), run(orig, &d.words), "{kind}: {d:?}");
                    assert_eq!((d.left, d.right), (run(&m, &d.words), run(orig, &d.words)));
                }
                for d in b {
                    let le = little_endian(d.words[1]);
                    let data = data_of(&d.words, le);
                    let want = u32::from(policy.eval(data.arch, data.nr, &data.args));
                    assert_eq!((d.left, d.right), (run(&m, &d.words), want), "{kind}");
                    assert_ne!(d.left, d.right);
                }
            }
            (a, b) => panic!("{kind}: against the program {a:?}, against the policy {b:?}"),
        }
    }
    eprintln!(
        "mutants: {total} ({invalid} more refused by the kernel's checks), caught {caught}, \
         proved equivalent {equivalent} (each checked by enumeration and on 4,000 sampled inputs); by kind \
         (total, caught): {kinds:?}"
    );
    assert_eq!(caught + equivalent, total);
    assert!(caught > 700, "{caught}");
}

/// Every fixture profile (Docker's two, Podman's, the recorded examples) and the builtin, for every
/// native architecture with a syscall table: the optimised program is proved to decide as
/// the policy, with and without runc's stub.
#[test]
fn every_fixture_profile_on_every_native_arch() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<std::path::PathBuf> = [
        "docker-default.json",
        "docker-default-2025-05.json",
        "podman-default.json",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    for f in ["example.json", "record-1.json", "record-2.json"] {
        files.push(examples.join(f));
    }
    let mut proved = 0;
    for native in Arch::supported() {
        if confine_abi::SyscallTable::for_arch(native).is_err() {
            continue;
        }
        let mut profiles = vec![docker(native, CapSet::docker_default())];
        for f in &files {
            // examples/example.json is the README's profile with errors: not a filter
            let Some(p) = load(&Source::Path(f.clone())).unwrap().profile else {
                continue;
            };
            match resolve(&p, &host(native, CapSet::docker_default())) {
                Resolution::Filter(r) => profiles.push(r),
                Resolution::Unconfined => {}
            }
        }
        for r in &profiles {
            for enosys_stub in [true, false] {
                let opts = Options {
                    enosys_stub,
                    ..Options::default()
                };
                let p = build(r, opts).unwrap();
                let prog = optimize::generate(&p).unwrap();
                let proof = prove(
                    &Program::new(&prog).unwrap(),
                    &PolicySide::new(&p),
                    DEFAULT_WORK,
                );
                assert_eq!(proof.verdict, Verdict::Proved, "{native:?}");
                proved += 1;
            }
        }
    }
    eprintln!("fixture profiles: {proved} (profile, arch, stub) programs proved");
    assert!(proved >= 15 * 6 * 2, "{proved}");
}

/// 10,000 seeded random profiles (overlapping rules, every operator and action, several
/// architecture sets): every one that compiles is proved.
#[test]
fn ten_thousand_random_profiles_are_proved() {
    let mut rng = Rng(0x00c0_ffee);
    let (mut proved, mut refused) = (0, 0);
    for _ in 0..10_000 {
        let r = random_profile(&mut rng);
        let Ok(p) = build(&r, Options::default()) else {
            refused += 1;
            continue;
        };
        let prog = optimize::generate(&p).unwrap();
        let proof = prove(
            &Program::new(&prog).unwrap(),
            &PolicySide::new(&p),
            DEFAULT_WORK,
        );
        assert_eq!(proof.verdict, Verdict::Proved, "{r:?}");
        proved += 1;
    }
    eprintln!(
        "random profiles: {proved} proved, {refused} refused by the compiler (libseccomp's EEXIST)"
    );
    assert!(proved > 8_000);
}

/// The policy side's partition agrees with `Policy::eval` on a witness of every piece, and its
/// pieces are disjoint and cover the inputs sampled: the symbolic semantics is the policy's.
#[test]
fn the_policy_side_is_policy_eval() {
    use confine_bpf::verify::{Cell, Out, Side, Work};
    let mut rng = Rng(0x0bad_5eed);
    let mut profiles = vec![
        docker(Arch::X86_64, CapSet::docker_default()),
        resolved("podman-default.json", Arch::S390x),
    ];
    while profiles.len() < 300 {
        profiles.push(random_profile(&mut rng));
    }
    let mut pieces_checked = 0;
    for r in &profiles {
        for arg_width in [
            confine_seccomp::ArgWidth::Faithful,
            confine_seccomp::ArgWidth::Kernel,
        ] {
            let opts = Options {
                arg_width,
                ..Options::default()
            };
            let Ok(p) = build(r, opts) else { continue };
            let side = PolicySide::new(&p);
            let mut work = Work::new(DEFAULT_WORK);
            let pieces = side.partition(Cell::full(), &mut work).unwrap();
            for piece in &pieces {
                let w = piece
                    .cell
                    .witness(&mut work)
                    .unwrap()
                    .expect("a piece has inputs");
                assert_eq!(piece.out, Out::Ret(side.eval(&w)), "{w:x?}");
                pieces_checked += 1;
            }
            // sampled inputs fall in exactly one piece, whose outcome is eval's
            let consts: Vec<u32> = vec![0, 1, 2, 0x8000_0000, u32::MAX, 41, 56, 435];
            let audits: Vec<u32> = p.arches.iter().map(|a| a.arch.audit_arch()).collect();
            for _ in 0..200 {
                let mut w = [0u32; WORDS];
                w[1] = if rng.below(5) == 0 {
                    7
                } else {
                    rng.pick(&audits)
                };
                w[0] = rng.below(500) as u32 | if rng.below(4) == 0 { 0x4000_0000 } else { 0 };
                for x in w.iter_mut().skip(2) {
                    *x = rng.pick(&consts);
                }
                let holding: Vec<_> = pieces
                    .iter()
                    .filter(|pc| {
                        (0..WORDS).all(|i| pc.cell.word(i).is_none_or(|s| s.contains(w[i])))
                    })
                    .collect();
                assert_eq!(holding.len(), 1, "{w:x?}");
                assert_eq!(holding[0].out, Out::Ret(side.eval(&w)));
            }
        }
    }
    assert!(pieces_checked > 10_000, "{pieces_checked}");
}
