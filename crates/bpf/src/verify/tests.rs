use super::*;
use crate::insn::Insn;

const ALLOW: u32 = 0x7fff_0000;
const EPERM: u32 = 0x0005_0001;

fn ld(k: u32) -> Insn {
    Insn::stmt(0x20, k)
}
fn ret(k: u32) -> Insn {
    Insn::stmt(0x06, k)
}
fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
    Insn::jump(0x15, k, jt, jf)
}

fn proof(a: &[Insn], b: &[Insn]) -> Proof {
    prove(
        &Program::new(a).unwrap(),
        &Program::new(b).unwrap(),
        DEFAULT_WORK,
    )
}

#[test]
fn equal_layouts_are_proved() {
    // nr == 3 → EPERM, as a jeq and as two range tests
    let a = vec![ld(0), jeq(3, 0, 1), ret(EPERM), ret(ALLOW)];
    let b = vec![
        ld(0),
        Insn::jump(0x35, 3, 1, 0), // jge 3
        ret(ALLOW),
        Insn::jump(0x25, 3, 1, 0), // jgt 3
        ret(EPERM),
        ret(ALLOW),
    ];
    let p = proof(&a, &b);
    assert_eq!(p.verdict, Verdict::Proved, "{p:?}");
    assert!(p.cases >= 2);
}

#[test]
fn a_planted_difference_is_found_and_replayed() {
    let a = vec![ld(0), jeq(3, 0, 1), ret(EPERM), ret(ALLOW)];
    let b = vec![ld(0), jeq(4, 0, 1), ret(EPERM), ret(ALLOW)];
    let Verdict::Differ(d) = proof(&a, &b).verdict else {
        panic!()
    };
    let nrs: Vec<u32> = d.iter().map(|x| x.words[0]).collect();
    assert_eq!(nrs.len(), 2, "{d:?}");
    assert!(nrs.contains(&3) && nrs.contains(&4));
}

#[test]
fn masked_equality_needs_bits() {
    // (arg0 & 0x0f0f) == 0x0101 against jset tests that say the same
    let a = vec![
        ld(16),
        Insn::stmt(0x54, 0x0f0f), // and
        jeq(0x0101, 0, 1),
        ret(EPERM),
        ret(ALLOW),
    ];
    let b = vec![
        ld(16),
        Insn::jump(0x45, 0x0e0e, 2, 0), // jset 0x0e0e → allow
        Insn::jump(0x45, 0x0100, 0, 1), // jset 0x100 else allow
        ret(EPERM),
        ret(ALLOW),
    ];
    // b lacks the bit 0 check: differs where bit 8 set and bit 0 clear
    match proof(&a, &b).verdict {
        Verdict::Differ(d) => assert!(d.iter().all(|x| x.words[4] & 0xf0f == 0x100)),
        v => panic!("{v:?}"),
    }
    let b_fixed = vec![
        ld(16),
        Insn::jump(0x45, 0x0e0e, 3, 0),
        Insn::jump(0x45, 0x0100, 0, 2),
        Insn::jump(0x45, 0x0001, 0, 1),
        ret(EPERM),
        ret(ALLOW),
    ];
    assert_eq!(proof(&a, &b_fixed).verdict, Verdict::Proved);
}

#[test]
fn division_by_a_zero_word_kills() {
    // A = 100; X = arg0; A /= X; ret ALLOW  ≡  arg0 == 0 → 0 (KILL_THREAD) else ALLOW
    let a = vec![
        Insn::stmt(0x00, 100), // ld #100
        Insn::stmt(0x61, 0),   // ldx M[0]? no: use ld arg then tax
        ret(ALLOW),
    ];
    let _ = a;
    let a = vec![
        ld(16),
        Insn::stmt(0x07, 0), // tax
        Insn::stmt(0x00, 100),
        Insn::stmt(0x3c, 0), // div x
        ret(ALLOW),
    ];
    let b = vec![ld(16), jeq(0, 0, 1), ret(0), ret(ALLOW)];
    assert_eq!(proof(&a, &b).verdict, Verdict::Proved);
    let c = vec![ret(ALLOW)];
    match proof(&a, &c).verdict {
        Verdict::Differ(d) => assert_eq!((d[0].words[4], d[0].left), (0, 0)),
        v => panic!("{v:?}"),
    }
}

#[test]
fn computed_comparisons_are_never_guessed() {
    // A = arg0 + 1; jeq 0 → EPERM: the comparison is opaque
    let a = vec![
        ld(16),
        Insn::stmt(0x04, 1), // add #1
        jeq(0, 0, 1),
        ret(EPERM),
        ret(ALLOW),
    ];
    let b = vec![ret(ALLOW)];
    // arg0 == 0xffffffff differs, but the proof only sees an opaque split: the witness (all
    // zero) agrees, so it cannot refute: undecided, never proved
    match proof(&a, &b).verdict {
        Verdict::Undecided(Undecided::Opaque, _) | Verdict::Differ(_) => {}
        v => panic!("{v:?}"),
    }
    // even against itself: the opaque split is followed both ways on each side, and the
    // crossed cases cannot be told apart, so it is not proved
    assert!(matches!(
        proof(&a, &a).verdict,
        Verdict::Undecided(Undecided::Opaque, _)
    ));
}

/// Random programs over three words and a mutant of each: a proof is never wrong on the
/// values the programs' constants pick out (enumerated), and each difference replays.
#[test]
fn random_programs_against_enumeration() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let vals = [0u32, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0xffff_ffff, 0x8000_0000];
    let (mut proved, mut differ) = (0, 0);
    for _ in 0..400 {
        let n = 4 + next(10) as usize;
        let mut p = Vec::new();
        for at in 0..n {
            let left = (n - at) as u64; // instructions after this one, ret included
            match next(4) {
                0 => p.push(ld([0u32, 4, 16][next(3) as usize])),
                1 => p.push(Insn::stmt(0x54, vals[next(12) as usize] | 1)),
                _ if left > 1 => {
                    let code = [0x15u16, 0x25, 0x35, 0x45][next(4) as usize];
                    let (jt, jf) = (next(left) as u8, next(left) as u8);
                    p.push(Insn::jump(code, vals[next(10) as usize], jt, jf));
                }
                _ => p.push(ret([ALLOW, EPERM, 0][next(3) as usize])),
            }
        }
        p.push(ret(ALLOW));
        p.push(ret(EPERM));
        let mut q = p.clone();
        let at = next(q.len() as u64) as usize;
        match q[at].class() {
            crate::insn::class::JMP => {
                let i = &mut q[at];
                (i.jt, i.jf) = (i.jf, i.jt);
            }
            _ => q[at].k ^= 1 << next(3),
        }
        let (Ok(pp), Ok(qq)) = (Program::new(&p), Program::new(&q)) else {
            continue;
        };
        let r = prove(&pp, &qq, DEFAULT_WORK);
        let mut found = None;
        for &nr in &vals {
            for &arch in &vals {
                for &a0 in &vals {
                    let mut w = [0u32; WORDS];
                    (w[0], w[1], w[4]) = (nr, arch, a0);
                    if pp.eval(&w) != qq.eval(&w) {
                        found = Some(w);
                    }
                }
            }
        }
        match r.verdict {
            Verdict::Proved => {
                assert!(
                    found.is_none(),
                    "{p:?} vs {q:?}: proved, but {found:x?} differs"
                );
                proved += 1;
            }
            Verdict::Differ(d) => {
                for x in &d {
                    assert_ne!(pp.eval(&x.words), qq.eval(&x.words));
                }
                differ += 1;
            }
            Verdict::Undecided(u, _) => panic!("{u}"),
        }
    }
    assert!(proved > 20 && differ > 20, "{proved} {differ}");
}
