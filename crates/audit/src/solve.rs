//! Concrete arguments for one path of the explorer: a value for every 32-bit word its
//! conditions test.
//!
//! The conditions on one word are bit facts and comparisons: `(w & m) == k` fixes the bits of
//! `m`, `(w & k) == 0` clears bits, `(w & k) != 0` needs one of them, and `!=`, `>`, `>=`
//! cut ranges. The solver fixes the bits the equalities and cleared masks force, then tries
//! candidates built on them: the forced value, it with one more free bit set, and the
//! constants the word is compared with (±1, with the forced bits laid over them). Every
//! candidate is checked against all the word's conditions, so an answer is always right;
//! `None` means no candidate met them, which callers report as undecided, never as refused.

use confine_bpf::explore::{CmpOp, Cond, Field};

/// Whether `v` meets `c`.
pub(crate) fn holds(c: &Cond, v: u32) -> bool {
    let x = v & c.mask;
    let r = match c.op {
        CmpOp::Eq => x == c.k,
        CmpOp::Gt => x > c.k,
        CmpOp::Ge => x >= c.k,
        CmpOp::Set => x & c.k != 0,
    };
    r == c.holds
}

/// A value of one word meeting every condition of `conds` (all on that word).
fn word(conds: &[&Cond]) -> Option<u32> {
    // bits forced by holding equalities and by masks that must be clear
    let (mut fixed_mask, mut fixed_val) = (0u32, 0u32);
    for c in conds {
        let (m, v) = match (c.op, c.holds) {
            (CmpOp::Eq, true) => (c.mask, c.k),
            (CmpOp::Set, false) => (c.mask & c.k, 0),
            _ => continue,
        };
        if (fixed_val ^ v) & fixed_mask & m != 0 {
            return None;
        }
        fixed_mask |= m;
        fixed_val = (fixed_val & !m) | (v & m);
    }
    let lay = |v: u32| (v & !fixed_mask) | fixed_val;
    let mut cands: Vec<u32> = vec![fixed_val, lay(u32::MAX)];
    // a mask needing one bit set: each of its free bits
    for c in conds {
        if c.op == CmpOp::Set && c.holds {
            let bits = c.mask & c.k & !fixed_mask;
            cands.extend(
                (0..32)
                    .filter(|b| bits >> b & 1 == 1)
                    .map(|b| fixed_val | 1 << b),
            );
        }
    }
    for c in conds {
        let k = c.k;
        for v in [k, k.wrapping_add(1), k.wrapping_sub(1), !k, k | !c.mask] {
            cands.push(lay(v));
        }
    }
    // one free bit more (an inequality on a masked word, `(w & m) != k`)
    cands.extend(
        (0..32)
            .filter(|b| fixed_mask >> b & 1 == 0)
            .map(|b| fixed_val | 1 << b),
    );
    cands
        .into_iter()
        .find(|&v| conds.iter().all(|c| holds(c, v)))
}

/// An argument vector meeting every condition of one path; `None` when a condition is on a
/// computed value, on the instruction pointer (evaluated as 0) other than `== 0`, on a high
/// word of a 32-bit ABI other than 0, or when no candidate meets them.
pub(crate) fn satisfy(conds: &[Cond], args64: bool) -> Option<[u64; 6]> {
    let mut args = [0u64; 6];
    let mut fields: Vec<Field> = Vec::new();
    for c in conds {
        match c.field {
            Some(f) if !fields.contains(&f) => fields.push(f),
            Some(_) => {}
            None => return None,
        }
    }
    for f in fields {
        let mine: Vec<&Cond> = conds.iter().filter(|c| c.field == Some(f)).collect();
        match f {
            Field::Arg { n, hi } => {
                let v = word(&mine)?;
                let a = &mut args[n as usize];
                if hi {
                    if !args64 && v != 0 {
                        return None;
                    }
                    *a = (*a & 0xffff_ffff) | (u64::from(v) << 32);
                } else {
                    *a = (*a & !0xffff_ffff) | u64::from(v);
                }
            }
            // the instruction pointer is 0 in every evaluation
            Field::Ip { .. } => {
                if !mine.iter().all(|c| holds(c, 0)) {
                    return None;
                }
            }
        }
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(field: Field, mask: u32, op: CmpOp, k: u32, holds: bool) -> Cond {
        Cond {
            field: Some(field),
            mask,
            op,
            k,
            holds,
        }
    }

    #[test]
    fn masked_and_range_conditions() {
        let lo = Field::Arg { n: 0, hi: false };
        let hi = Field::Arg { n: 0, hi: true };
        // (arg0 & 0x7e020000) == 0 and arg0>>32 == 0
        let conds = [
            c(hi, u32::MAX, CmpOp::Eq, 0, true),
            c(lo, 0x7e02_0000, CmpOp::Eq, 0, true),
        ];
        assert_eq!(satisfy(&conds, true).unwrap()[0] & 0x7e02_0000, 0);
        // 38 <= arg1 < 40, arg1 != 38
        let f = Field::Arg { n: 1, hi: false };
        let conds = [
            c(f, u32::MAX, CmpOp::Ge, 38, true),
            c(f, u32::MAX, CmpOp::Ge, 40, false),
            c(f, u32::MAX, CmpOp::Eq, 38, false),
        ];
        assert_eq!(satisfy(&conds, true).unwrap()[1], 39);
        // contradictory: none
        let conds = [
            c(f, u32::MAX, CmpOp::Gt, 5, true),
            c(f, u32::MAX, CmpOp::Gt, 4, false),
        ];
        assert_eq!(satisfy(&conds, true), None);
        // a high word on a 32-bit ABI must be zero
        let conds = [c(hi, u32::MAX, CmpOp::Eq, 1, true)];
        assert_eq!(satisfy(&conds, false), None);
    }

    /// Four bit checks at once (a review's raw program): bit 28 and bit 17 set, bits 30 and
    /// 31 clear; and "every namespace flag but exactly CLONE_NEWUSER", plus CLONE_NEWUSER.
    #[test]
    fn bit_facts() {
        let lo = Field::Arg { n: 0, hi: false };
        let conds = [
            c(lo, 1 << 28, CmpOp::Eq, 1 << 28, true),
            c(lo, 1 << 17, CmpOp::Eq, 1 << 17, true),
            c(lo, 1 << 30, CmpOp::Eq, 0, true),
            c(lo, 1 << 31, CmpOp::Eq, 0, true),
        ];
        let v = satisfy(&conds, true).unwrap()[0] as u32;
        assert!(conds.iter().all(|x| holds(x, v)), "{v:#x}");
        let conds = [
            c(lo, 0x7e02_0080, CmpOp::Eq, 0x1000_0000, false),
            c(lo, 0x1000_0000, CmpOp::Set, 0x1000_0000, true),
        ];
        let v = satisfy(&conds, true).unwrap()[0] as u32;
        assert!(
            v & 0x1000_0000 != 0 && v & 0x7e02_0080 != 0x1000_0000,
            "{v:#x}"
        );
        // a needed bit among several, with one of them forced clear
        let conds = [
            c(lo, 0b1100, CmpOp::Set, 0b1100, true),
            c(lo, 0b0100, CmpOp::Set, 0b0100, false),
        ];
        assert_eq!(satisfy(&conds, true).unwrap()[0] & 0b1100, 0b1000);
    }
}
