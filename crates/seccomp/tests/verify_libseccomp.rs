//! Docker's default, compiled by confine, proved equivalent to what runc installs (runc's
//! `-ENOSYS` stub in front of libseccomp 2.5.4's program, made by Debian's python3-seccomp)
//! for every input, except exactly the syscalls newer than libseccomp 2.5.4 (on the ABI in
//! question), which the proof lists as the differences.

mod support;

use confine_abi::{Arch, CapSet, SyscallTable};
use confine_bpf::verify::cell::{data_of, little_endian};
use confine_bpf::verify::{prove, Program, Verdict, DEFAULT_WORK};
use confine_seccomp::verify::PolicySide;
use confine_seccomp::{build, optimize, reference, Options};
use confine_test_support::host::docker;
use support::{libseccomp, without};

#[test]
fn docker_default_against_runc_and_libseccomp() {
    let dir = tempfile::tempdir().unwrap();
    let r = docker(Arch::X86_64, CapSet::docker_default());
    let lib = libseccomp(&r, dir.path(), support::runc_optimize(&r));
    let known = without(&r, &lib.unknown);
    let policy_known = build(&known, Options::default()).unwrap();
    let mut runc = reference::stub_prefix(&policy_known).unwrap();
    runc.extend(&lib.prog);
    let runc_side = Program::new(&runc).unwrap();
    // the names libseccomp 2.5.4 resolves natively but has no number for on one of the filter's
    // ABIs, where confine's table (the kernel's) has one: x32's map_shadow_stack, which the
    // kernel gave x32 in Linux 6.10 (`453 common map_shadow_stack`), after libseccomp 2.5.4
    let absent: Vec<(Arch, u32)> = lib
        .absent
        .iter()
        .filter_map(|(a, name)| Some((*a, SyscallTable::for_arch(*a).ok()?.number(name)?)))
        .collect();
    let shadow_x32 = SyscallTable::for_arch(Arch::X32)
        .unwrap()
        .number("map_shadow_stack");
    assert_eq!(shadow_x32, Some(Arch::X32.syscall_base() + 453));
    // the one such name of Docker's default under libseccomp 2.5.4
    assert_eq!(absent, [(Arch::X32, Arch::X32.syscall_base() + 453)]);
    let abi_of = |audit: u32, nr: u32| {
        if audit == Arch::X86_64.audit_arch() && Arch::is_x32_number(nr) {
            Arch::X32
        } else {
            Arch::supported().find(|a| a.audit_arch() == audit).unwrap()
        }
    };
    // what runc installs decides exactly as the policy of the names libseccomp knows, except
    // exactly those ABI-absent numbers
    let p = prove(&runc_side, &PolicySide::new(&policy_known), DEFAULT_WORK);
    let mut absent_listed = Vec::new();
    match &p.verdict {
        Verdict::Proved => {}
        Verdict::Differ(d) => {
            for x in d {
                let audit = x.arch.expect("a difference on a covered architecture");
                for nr in x.nr_range.0..=x.nr_range.1 {
                    let a = abi_of(audit, nr);
                    assert!(absent.contains(&(a, nr)), "{a} nr {nr} differs: {x:?}");
                    absent_listed.push((a, nr));
                }
            }
        }
        v => panic!("{v:?}"),
    }
    absent_listed.sort_unstable();
    let mut want = absent.clone();
    want.sort_unstable();
    want.dedup();
    assert_eq!(absent_listed, want, "every ABI-absent name is a difference");
    // confine's program against runc's: the differences are exactly the syscalls newer than
    // libseccomp 2.5.4 (on the ABI in question) that the profile names, and the numbers between
    // the two stubs' thresholds (runc's stub answers ENOSYS above the highest number libseccomp
    // knows)
    let full = build(&r, Options::default()).unwrap();
    let ours = optimize::generate(&full).unwrap();
    let p = prove(&Program::new(&ours).unwrap(), &runc_side, DEFAULT_WORK);
    let Verdict::Differ(diffs) = p.verdict else {
        panic!("{:?}", p.verdict)
    };
    let threshold = |pol: &confine_seccomp::Policy, a: Arch| {
        pol.stub.iter().find(|(x, _)| *x == a).map(|e| e.1)
    };
    let expected = |a: Arch, nr: u32| {
        let t = SyscallTable::for_arch(a).unwrap();
        let newer = t
            .name_of(nr)
            .is_some_and(|n| lib.unknown.iter().any(|u| u == n));
        let between = match (threshold(&policy_known, a), threshold(&full, a)) {
            (Some(lo), Some(hi)) => nr > lo && nr <= hi,
            _ => false,
        };
        newer || between || absent.contains(&(a, nr))
    };
    let mut listed = Vec::new();
    for d in &diffs {
        let audit = d.arch.expect("a difference on a covered architecture");
        for nr in d.nr_range.0..=d.nr_range.1 {
            let a = abi_of(audit, nr);
            assert!(expected(a, nr), "{a} nr {nr} differs: {d:?}");
            listed.push((a, nr));
        }
        let le = little_endian(audit);
        let data = data_of(&d.words, le);
        assert_eq!(data.args, [0; 6]);
    }
    // and every newer syscall the profile names is listed, and every ABI-absent one
    for x in &absent {
        assert!(listed.contains(x), "{x:?} not listed");
    }
    for a in [Arch::X86_64, Arch::X86, Arch::X32] {
        let t = SyscallTable::for_arch(a).unwrap();
        for name in &lib.unknown {
            if let Some(nr) = t.number(name) {
                assert!(listed.contains(&(a, nr)), "{a} {name} ({nr}) not listed");
            }
        }
    }
    eprintln!(
        "confine vs runc+libseccomp: {} cases, {} difference classes, {} numbers; libseccomp 2.5.4 does not know {:?}, nor {:?} on those ABIs",
        p.cases,
        diffs.len(),
        listed.len(),
        lib.unknown,
        absent
    );
}
