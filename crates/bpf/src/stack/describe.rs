//! How an argument-dependent verdict reads: each path's conditions reduced to intervals per
//! compared word.

use super::compared_fields;
use crate::action;
use crate::explore::{CmpOp, Cond, Field};

/// `depends on arg0, arg1: ERRNO(EPERM) if arg0 == 0x5; ALLOW`.
pub(super) fn depends(paths: &[(Option<u32>, Vec<Cond>)], args64: bool) -> String {
    let args = compared_fields(paths);
    let mut cases: Vec<String> = Vec::new();
    for (r, conds) in paths {
        // paths whose conditions contradict each other are never taken
        let Some(c) = simplify(conds, args64) else {
            continue;
        };
        let what = r.map(action::describe).unwrap_or_else(|| "?".into());
        let case = if c.is_empty() {
            what
        } else {
            format!("{what} if {}", c.join(" && "))
        };
        if !cases.contains(&case) {
            cases.push(case);
        }
    }
    format!("depends on {}: {}", args.join(", "), cases.join("; "))
}

/// Whether `0 OP k` holds.
fn decided(op: CmpOp, k: u32) -> bool {
    match op {
        CmpOp::Eq => k == 0,
        CmpOp::Gt => false,
        CmpOp::Ge => k == 0,
        CmpOp::Set => false,
    }
}

/// Reduce a path's conditions: per compared word an interval and excluded values (`None` when
/// they contradict each other, i.e. the path cannot be taken); masked and JSET tests are kept
/// as written. A high word that must be 0 is left out (the low word's conditions then read as
/// the whole argument's).
pub fn simplify(conds: &[Cond], args64: bool) -> Option<Vec<String>> {
    struct Range {
        field: Field,
        lo: u32,
        hi: u32,
        not: Vec<u32>,
    }
    let mut ranges: Vec<Range> = Vec::new();
    let mut other: Vec<String> = Vec::new();
    for c in conds {
        // a word masked with 0 is 0: the comparison is decided
        if c.field.is_some() && c.mask == 0 {
            if decided(c.op, c.k) != c.holds {
                return None;
            }
            continue;
        }
        let Some(field) = c.field.filter(|_| c.mask == u32::MAX && c.op != CmpOp::Set) else {
            let t = c.to_string();
            if !other.contains(&t) {
                other.push(t);
            }
            continue;
        };
        let r = match ranges.iter_mut().position(|r| r.field == field) {
            Some(i) => &mut ranges[i],
            None => {
                ranges.push(Range {
                    field,
                    lo: 0,
                    hi: u32::MAX,
                    not: Vec::new(),
                });
                ranges.last_mut().unwrap()
            }
        };
        match (c.op, c.holds) {
            (CmpOp::Eq, true) => {
                r.lo = r.lo.max(c.k);
                r.hi = r.hi.min(c.k);
            }
            (CmpOp::Eq, false) => r.not.push(c.k),
            (CmpOp::Gt, true) => r.lo = r.lo.max(c.k.checked_add(1)?),
            (CmpOp::Gt, false) => r.hi = r.hi.min(c.k),
            (CmpOp::Ge, true) => r.lo = r.lo.max(c.k),
            (CmpOp::Ge, false) => r.hi = r.hi.min(c.k.checked_sub(1)?),
            (CmpOp::Set, _) => unreachable!("kept as written"),
        }
    }
    let mut out = Vec::new();
    for r in &ranges {
        if r.lo > r.hi {
            return None;
        }
        let mut not: Vec<u32> = r
            .not
            .iter()
            .copied()
            .filter(|v| (r.lo..=r.hi).contains(v))
            .collect();
        not.sort_unstable();
        not.dedup();
        if u64::from(r.hi - r.lo) < not.len() as u64 {
            return None;
        }
        let hi_word_zero = matches!(r.field, Field::Arg { hi: true, .. }) && r.lo == 0 && r.hi == 0;
        if hi_word_zero {
            continue;
        }
        let name = match r.field {
            Field::Arg { n, hi: false } => {
                // the whole argument when its high word is known to be 0
                let hi_zero = ranges
                    .iter()
                    .any(|h| h.field == Field::Arg { n, hi: true } && h.lo == 0 && h.hi == 0);
                if hi_zero || !args64 {
                    format!("arg{n}")
                } else {
                    format!("arg{n}&0xffffffff")
                }
            }
            f => f.to_string(),
        };
        if r.lo == r.hi {
            out.push(format!("{name} == {:#x}", r.lo));
            continue;
        }
        if r.lo > 0 {
            out.push(format!("{name} >= {:#x}", r.lo));
        }
        if r.hi < u32::MAX {
            out.push(format!("{name} <= {:#x}", r.hi));
        }
        for v in not {
            out.push(format!("{name} != {v:#x}"));
        }
    }
    out.extend(other);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: u8, hi: bool, op: CmpOp, k: u32, holds: bool) -> Cond {
        Cond {
            field: Some(Field::Arg { n, hi }),
            mask: u32::MAX,
            op,
            k,
            holds,
        }
    }

    #[test]
    fn conditions_reduce_to_ranges() {
        // hi == 0 && lo < 0x26: "arg0 <= 0x25"
        let s = simplify(
            &[
                c(0, true, CmpOp::Eq, 0, true),
                c(0, false, CmpOp::Ge, 0x26, false),
            ],
            true,
        )
        .unwrap();
        assert_eq!(s, ["arg0 <= 0x25"]);
        // contradictions: the path is never taken
        assert!(simplify(
            &[
                c(0, true, CmpOp::Gt, 0, false),
                c(0, true, CmpOp::Eq, 0, false)
            ],
            true
        )
        .is_none());
        assert!(simplify(
            &[
                c(1, false, CmpOp::Gt, 5, true),
                c(1, false, CmpOp::Ge, 5, false)
            ],
            true
        )
        .is_none());
        let w = [
            c(2, false, CmpOp::Eq, 7, false),
            c(2, false, CmpOp::Gt, 9, false),
        ];
        let s = simplify(&w, true).unwrap();
        assert_eq!(s, ["arg2&0xffffffff <= 0x9", "arg2&0xffffffff != 0x7"]);
        // on a 32-bit ABI the low word is the argument
        assert_eq!(simplify(&w, false).unwrap(), ["arg2 <= 0x9", "arg2 != 0x7"]);
        // a word masked with 0 is 0
        let mut m = c(0, true, CmpOp::Set, 0, true);
        m.mask = 0;
        assert!(simplify(&[m], true).is_none());
        m.holds = false;
        assert_eq!(simplify(&[m], true).unwrap(), Vec::<String>::new());
    }
}
