//! Seeded random profiles against the real libseccomp (Debian 12's 2.5.4, as runc uses it):
//! overlapping rules, every operator, repeated argument indexes (runc's OR split), every action,
//! several default actions and architecture sets. For each profile, either both refuse it
//! (libseccomp's EEXIST, which makes runc fail) or the program runc would install and confine's
//! policy give the same verdict on every sampled (arch, nr, arguments).
//!
//! Differences are allowed only where a known libseccomp 2.5.4 behaviour explains them, each
//! counted and printed: a rule libseccomp silently drops (its prune step treats a rule on the
//! other branch of an equal test as redundant), a rule or one name of a rule it drops because an
//! earlier rule with the same action covers it (so a later rule that would conflict with it is
//! accepted), the syscall-number load it loses when its first syscall block is a
//! pseudo-syscall, and stale accumulator compares after a sub-level falls through. Anything
//! else fails the test (`CONFINE_DIFF_SHOW=1` prints the profiles). Profiles libseccomp never
//! finishes compiling are counted and skipped.
//!
//! `CONFINE_DIFF_PROFILES=N` sets the number of profiles (default 10,000; try 100,000 locally).

mod support;

use confine_abi::{Arch, SyscallTable};
use confine_bpf::{Emulator, SeccompData};
use confine_profile::{Resolved, ResolvedRule};
use confine_seccomp::{build, reference, CompileError, Options};
use confine_test_support::probe::neighbours;
use support::{libseccomp_batch, random_profile, Rng, NAMES};

fn arg_vectors(r: &Resolved, rng: &mut Rng) -> Vec<[u64; 6]> {
    let mut consts = vec![0u64, u64::MAX];
    for rule in &r.rules {
        for a in &rule.args {
            for v in [a.value, a.value_two, a.value & a.value_two] {
                consts.extend(neighbours(v));
            }
        }
    }
    consts.sort();
    consts.dedup();
    let mut out = vec![[0u64; 6]];
    for _ in 0..48 {
        let mut v = [0u64; 6];
        for x in v.iter_mut().take(4) {
            *x = rng.pick(&consts);
        }
        out.push(v);
    }
    out
}

/// The libseccomp-level rules of a profile: runc's OR split makes one per condition.
fn split_rules(r: &Resolved) -> Vec<ResolvedRule> {
    let mut out = Vec::new();
    for rule in &r.rules {
        let mut counts = [0u8; 6];
        for a in &rule.args {
            counts[a.index.min(5) as usize] += 1;
        }
        if counts.iter().any(|&c| c > 1) {
            for a in &rule.args {
                out.push(ResolvedRule {
                    args: vec![*a],
                    ..rule.clone()
                });
            }
        } else {
            out.push(rule.clone());
        }
    }
    out
}

/// If libseccomp's verdicts for (arch, nr) are exactly confine's with one libseccomp-level rule
/// left out, that rule is the one libseccomp dropped.
fn dropped_rule(
    r: &Resolved,
    arch: Arch,
    nr: u32,
    vecs: &[[u64; 6]],
    theirs: &Emulator,
) -> Option<usize> {
    let rules = split_rules(r);
    (0..rules.len()).find(|&k| {
        let mut r2 = r.clone();
        r2.rules = rules
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != k)
            .map(|(_, x)| x.clone())
            .collect();
        let Ok(p2) = build(&r2, Options::default()) else {
            return false;
        };
        vecs.iter().all(|args| {
            let d = SeccompData {
                nr,
                arch: arch.audit_arch(),
                args: *args,
                ..Default::default()
            };
            u32::from(p2.eval(arch.audit_arch(), nr, args))
                == theirs.run(&d, arch.is_little_endian()).ret
        })
    })
}

#[test]
fn random_profiles_match_runc_and_libseccomp() {
    let n: usize = std::env::var("CONFINE_DIFF_PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x00c0_ffee);
    let (mut verdicts, mut refused, mut profiles) = (0usize, 0usize, 0usize);
    let mut hangs = Vec::new();
    let mut hang_accepted = 0usize;
    let (mut stale, mut first_stale) = (0usize, None);
    let mut no_nr_load = 0usize;
    let mut dropped = 0usize;
    let mut refused_by_confine_only = 0usize;
    let (mut unexplained_profiles, mut unexplained_verdicts) = (0usize, 0usize);
    let mut unexplained_accepts = 0usize;
    let batch = 2_000;
    let mut done = 0;
    while done < n {
        let count = batch.min(n - done);
        let jobs: Vec<(Resolved, std::path::PathBuf)> = (0..count)
            .map(|i| {
                (
                    random_profile(&mut rng),
                    dir.path().join(format!("p{i}.bpf")),
                )
            })
            .collect();
        let libs = libseccomp_batch(&jobs, dir.path());
        for ((r, _), lib) in jobs.iter().zip(libs) {
            profiles += 1;
            let ours = build(r, Options::default());
            if lib.hang {
                // confine must refuse what libseccomp loops on, not loop too
                if !matches!(ours, Err(CompileError::SharedNode { .. })) {
                    hang_accepted += 1;
                }
                hangs.push(r.clone());
                continue;
            }
            if let Some(name) = &lib.conflict {
                if !matches!(ours, Err(CompileError::Conflict { .. })) {
                    if std::env::var("CONFINE_DIFF_SHOW").is_ok() {
                        eprintln!(
                            "LIB-ONLY REFUSAL ({name}):\n{}",
                            confine_profile::emit::to_json(
                                r,
                                confine_profile::emit::OutputFormat::Oci
                            )
                        );
                    }
                    unexplained_accepts += 1;
                    continue;
                }
                refused += 1;
                continue;
            }
            let policy = match ours {
                Ok(p) => p,
                Err(e) => {
                    // libseccomp accepted what confine refuses: explained when libseccomp
                    // silently dropped one rule and then decides exactly as confine does
                    // without that rule (checked on the syscalls the profile names).
                    let vecs = arg_vectors(r, &mut rng);
                    let rules = split_rules(r);
                    // candidates: every libseccomp-level rule left out, then every single name
                    // of one (its prune drops one name's chain that an earlier rule covers)
                    let mut candidates: Vec<Vec<ResolvedRule>> = (0..rules.len())
                        .map(|k| {
                            rules
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| *i != k)
                                .map(|(_, x)| x.clone())
                                .collect()
                        })
                        .collect();
                    for k in 0..rules.len() {
                        for j in 0..rules[k].names.len() {
                            let mut v = rules.clone();
                            let mut names = v[k].names.to_vec();
                            names.remove(j);
                            v[k].names = names.into();
                            candidates.push(v);
                        }
                    }
                    let explained = candidates.into_iter().any(|cand| {
                        let mut r2 = r.clone();
                        r2.rules = cand;
                        let Ok(p2) = build(&r2, Options::default()) else {
                            return false;
                        };
                        let mut prog = reference::stub_prefix(&p2).unwrap();
                        prog.extend(&lib.prog);
                        let theirs = Emulator::new(&prog).unwrap();
                        p2.arches.iter().all(|a| {
                            let t = SyscallTable::for_arch(a.arch).unwrap();
                            NAMES.iter().filter_map(|n| t.number(n)).all(|nr| {
                                vecs.iter().all(|args| {
                                    let d = SeccompData {
                                        nr,
                                        arch: a.arch.audit_arch(),
                                        args: *args,
                                        ..Default::default()
                                    };
                                    let le = a.arch.is_little_endian();
                                    // libseccomp's lost number load is its own category
                                    support::missing_nr_load(&prog, &d, le)
                                        || u32::from(p2.eval(a.arch.audit_arch(), nr, args))
                                            == theirs.run(&d, le).ret
                                })
                            })
                        })
                    });
                    if !explained {
                        unexplained_profiles += 1;
                        if std::env::var("CONFINE_DIFF_SHOW").is_ok() {
                            eprintln!(
                                "CONFINE-ONLY REFUSAL ({e}):\n{}",
                                confine_profile::emit::to_json(
                                    r,
                                    confine_profile::emit::OutputFormat::Oci
                                )
                            );
                        }
                        continue;
                    }
                    refused_by_confine_only += 1;
                    continue;
                }
            };
            let mut runc_prog = reference::stub_prefix(&policy).unwrap();
            runc_prog.extend(&lib.prog);
            let theirs = Emulator::new(&runc_prog).unwrap();
            let mut arches: Vec<Arch> = policy.arches.iter().map(|a| a.arch).collect();
            arches.push(Arch::Riscv64);
            let vecs = arg_vectors(r, &mut rng);
            for arch in arches {
                let mut nrs = vec![0u32, u32::MAX, 0x4000_0000, 999, 0x9fff_ffff, 0xc000_0000];
                if let Ok(t) = SyscallTable::for_arch(arch) {
                    nrs.extend(NAMES.iter().filter_map(|n| t.number(n)));
                    nrs.push(t.max_number().min(0x0f_0000) + 1);
                }
                for nr in nrs {
                    for args in &vecs {
                        let d = SeccompData {
                            nr,
                            arch: arch.audit_arch(),
                            args: *args,
                            ..Default::default()
                        };
                        let want = theirs.run(&d, arch.is_little_endian()).ret;
                        let got = u32::from(policy.eval(arch.audit_arch(), nr, args));
                        if got != want
                            && support::missing_nr_load(&runc_prog, &d, arch.is_little_endian())
                        {
                            no_nr_load += 1;
                            continue;
                        }
                        if got != want && dropped_rule(r, arch, nr, &vecs, &theirs).is_some() {
                            dropped += 1;
                            continue;
                        }
                        if got != want && policy.libseccomp_hazard(arch.audit_arch(), nr) {
                            stale += 1;
                            if first_stale.is_none() {
                                first_stale = Some(format!("{arch} nr {nr} args {args:x?}: rules say {got:#x}, libseccomp's program {want:#x}"));
                            }
                            continue;
                        }
                        if got != want {
                            unexplained_verdicts += 1;
                            continue;
                        }
                        verdicts += 1;
                    }
                }
            }
        }
        done += count;
    }
    eprintln!(
        "{profiles} random profiles: {refused} refused by both (EEXIST), {verdicts} verdicts equal"
    );
    eprintln!(
        "  libseccomp 2.5.4 never finished on {} (runc would hang); confine refuses {} of them as looping",
        hangs.len(),
        hangs.len() - hang_accepted
    );
    eprintln!("  {refused_by_confine_only} profiles confine refuses (EEXIST) that libseccomp accepts by silently dropping a rule, or one name of a rule, that an earlier rule covers");
    eprintln!(
        "  {dropped} verdicts differ where libseccomp silently dropped one rule (confine keeps it)"
    );
    eprintln!("  {no_nr_load} verdicts differ where libseccomp lost the syscall-number load");
    eprintln!("  {stale} verdicts differ where libseccomp compares a stale accumulator");
    if let Some(s) = &first_stale {
        eprintln!("    first: {s}");
    }
    eprintln!("  UNEXPLAINED: {unexplained_profiles} refusals by confine only, {unexplained_accepts} refusals by libseccomp only, {unexplained_verdicts} verdicts");
    assert!(verdicts > 0);
    assert_eq!(
        unexplained_verdicts, 0,
        "verdicts that differ from libseccomp's with no known libseccomp behaviour to explain them"
    );
    // left, about 1 in 10,000 profiles (0 in the default seeded set, 3 in 30,000), all on x86
    // with socket/IPC names: libseccomp's prune drops a new multiplexer chain whose last test
    // equals an existing leaf's even when the actions differ (its bug), or removes an existing
    // chain a shorter new one covers; confine models neither node by node, and no profile edit
    // reproduces a dropped multiplexer half for the check above
    assert!(
        (unexplained_profiles + unexplained_accepts) * 5000 <= profiles,
        "{unexplained_profiles} refusals by confine only and {unexplained_accepts} by libseccomp only in {profiles} profiles (run with CONFINE_DIFF_SHOW=1 to print them)"
    );
    assert_eq!(
        hang_accepted, 0,
        "confine accepted profiles libseccomp loops on"
    );
    assert!(
        hangs.len() * 100 < profiles,
        "libseccomp hung on more than 1% of the profiles"
    );
}
