//! The values one 32-bit word of `struct seccomp_data` may take in a cell: an exact set,
//! kept as sorted disjoint intervals (every unmasked comparison, and masked ones whose value
//! set is a few intervals) plus the masked comparisons that are not (`(w & m) == k` with a
//! scattered mask, `jset`). Emptiness is decided exactly: a search over the word's bits from
//! the top, pruned by the intervals and by each comparison's reachable range, within a work
//! bound ([`Over`] when it is spent: the caller reports "undecided", never a guess).

use super::Over;

/// A comparison of classic BPF on a masked word: `(w & mask) op k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Test {
    /// Applied to the word before the comparison (`u32::MAX`: none).
    pub mask: u32,
    /// The comparison.
    pub op: Op,
    /// The constant.
    pub k: u32,
}

/// The comparisons of the jump instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `jeq`
    Eq,
    /// `jgt`
    Gt,
    /// `jge`
    Ge,
    /// `jset`: `(w & mask) & k != 0`
    Set,
}

impl Test {
    /// Whether the test holds for `v`.
    pub fn holds(&self, v: u32) -> bool {
        let w = v & self.mask;
        match self.op {
            Op::Eq => w == self.k,
            Op::Gt => w > self.k,
            Op::Ge => w >= self.k,
            Op::Set => w & self.k != 0,
        }
    }
}

/// The work the searches of one proof may still do (bit-search nodes and instructions).
#[derive(Debug, Clone)]
pub struct Work {
    left: u64,
}

impl Work {
    /// `steps` units of work.
    pub fn new(steps: u64) -> Work {
        Work { left: steps }
    }

    /// Spend `n` units.
    pub fn spend(&mut self, n: u64) -> Result<(), Over> {
        if self.left < n {
            self.left = 0;
            return Err(Over::Work);
        }
        self.left -= n;
        Ok(())
    }

    /// What is left.
    pub fn left(&self) -> u64 {
        self.left
    }
}

/// An exact set of 32-bit values, never empty once built through [`WordSet::with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordSet {
    /// Sorted, disjoint, inclusive, not adjacent.
    ivs: Vec<(u32, u32)>,
    /// Masked comparisons kept as bit facts: the test and whether it holds.
    bits: Vec<(Test, bool)>,
}

/// At most this many bits outside a mask, above its lowest bit, for `(w & m) == k` to be
/// turned into intervals (2^this of them).
const MAX_SPREAD_BITS: u32 = 4;

/// Sorted disjoint intervals intersected.
fn intersect(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The complement of sorted disjoint intervals.
fn complement(a: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut next: Option<u32> = Some(0);
    for &(lo, hi) in a {
        if let Some(n) = next {
            if lo > n {
                out.push((n, lo - 1));
            }
        }
        next = hi.checked_add(1);
    }
    if let Some(n) = next {
        out.push((n, u32::MAX));
    }
    out
}

/// The values `v` with `(v & m) == k` as intervals, when there are few of them.
fn pattern_intervals(m: u32, k: u32) -> Option<Vec<(u32, u32)>> {
    if m == 0 {
        return Some(if k == 0 { vec![(0, u32::MAX)] } else { vec![] });
    }
    if k & !m != 0 {
        return Some(vec![]);
    }
    let low = m.trailing_zeros();
    let below = if low == 0 { 0 } else { (1u32 << low) - 1 };
    let spread = !m & !below & !((1u32 << low) | below);
    let free: Vec<u32> = (0..32).filter(|b| spread >> b & 1 == 1).collect();
    if free.len() as u32 > MAX_SPREAD_BITS {
        return None;
    }
    let mut out = Vec::with_capacity(1 << free.len());
    for combo in 0u32..(1 << free.len()) {
        let mut base = k;
        for (i, b) in free.iter().enumerate() {
            if combo >> i & 1 == 1 {
                base |= 1 << b;
            }
        }
        out.push((base, base | below));
    }
    out.sort_unstable();
    Some(out)
}

/// The values meeting `t == holds` as intervals, when that is exact and short.
fn as_intervals(t: Test, holds: bool) -> Option<Vec<(u32, u32)>> {
    let pos = match (t.op, t.mask) {
        (Op::Eq, u32::MAX) => vec![(t.k, t.k)],
        (Op::Gt, u32::MAX) => match t.k.checked_add(1) {
            Some(lo) => vec![(lo, u32::MAX)],
            None => vec![],
        },
        (Op::Ge, u32::MAX) => vec![(t.k, u32::MAX)],
        (Op::Eq, m) => pattern_intervals(m, t.k)?,
        // (w & m & k) != 0 is the complement of (w & (m & k)) == 0
        (Op::Set, m) => complement(&pattern_intervals(m & t.k, 0)?),
        _ => return None,
    };
    Some(if holds { pos } else { complement(&pos) })
}

impl Default for WordSet {
    fn default() -> Self {
        WordSet::full()
    }
}

impl WordSet {
    /// Every value.
    pub fn full() -> WordSet {
        WordSet {
            ivs: vec![(0, u32::MAX)],
            bits: Vec::new(),
        }
    }

    /// The values of `lo..=hi`.
    pub fn range(lo: u32, hi: u32) -> WordSet {
        WordSet {
            ivs: vec![(lo, hi)],
            bits: Vec::new(),
        }
    }

    /// Whether nothing restricts the word.
    pub fn is_full(&self) -> bool {
        self.bits.is_empty() && self.ivs == [(0, u32::MAX)]
    }

    /// The interval part: the set is exactly these values when [`WordSet::exact_intervals`].
    pub fn intervals(&self) -> &[(u32, u32)] {
        &self.ivs
    }

    /// Whether the intervals alone describe the set (no bit facts).
    pub fn exact_intervals(&self) -> bool {
        self.bits.is_empty()
    }

    /// Whether `v` is in the set.
    pub fn contains(&self, v: u32) -> bool {
        let i = self.ivs.partition_point(|iv| iv.1 < v);
        i < self.ivs.len() && self.ivs[i].0 <= v && self.bits.iter().all(|(t, h)| t.holds(v) == *h)
    }

    /// Whether `t` holds for every value of the set (`Some(true)`), for none (`Some(false)`),
    /// when that is plain from the intervals alone; `None`: the caller splits.
    pub fn decided(&self, t: Test) -> Option<bool> {
        if !self.bits.is_empty() || t.mask != u32::MAX {
            return None;
        }
        let (min, max) = (self.ivs.first()?.0, self.ivs.last()?.1);
        match t.op {
            Op::Eq if min == t.k && max == t.k => Some(true),
            Op::Eq if !self.contains(t.k) => Some(false),
            Op::Gt if min > t.k => Some(true),
            Op::Gt if max <= t.k => Some(false),
            Op::Ge if min >= t.k => Some(true),
            Op::Ge if max < t.k => Some(false),
            _ => None,
        }
    }

    /// The set with `t == holds` added; `None` when that leaves nothing.
    pub fn with(&self, t: Test, holds: bool, work: &mut Work) -> Result<Option<WordSet>, Over> {
        if let Some(ivs) = as_intervals(t, holds) {
            return self.restrict(&ivs, work);
        }
        let mut bits = self.bits.clone();
        if !bits.contains(&(t, holds)) {
            bits.push((t, holds));
        }
        let s = WordSet {
            ivs: self.ivs.clone(),
            bits,
        };
        Ok(s.witness(work)?.map(|_| s))
    }

    /// The set within `ivs` (sorted, disjoint); `None` when that leaves nothing.
    pub fn restrict(&self, ivs: &[(u32, u32)], work: &mut Work) -> Result<Option<WordSet>, Over> {
        work.spend(1 + (self.ivs.len() + ivs.len()) as u64 / 16)?;
        let s = WordSet {
            ivs: intersect(&self.ivs, ivs),
            bits: self.bits.clone(),
        };
        if s.ivs.is_empty() {
            return Ok(None);
        }
        if s.bits.is_empty() {
            return Ok(Some(s));
        }
        Ok(s.witness(work)?.map(|_| s))
    }

    /// A value of the set, the smallest the search meets first; `None` when it is empty.
    pub fn witness(&self, work: &mut Work) -> Result<Option<u32>, Over> {
        let Some(&(first, _)) = self.ivs.first() else {
            return Ok(None);
        };
        if self.bits.is_empty() {
            return Ok(Some(first));
        }
        // only the bits some test looks at are searched; the others are the intervals' alone
        let relevant = self.bits.iter().fold(0u32, |m, (t, _)| {
            m | match t.op {
                Op::Set => t.mask & t.k,
                _ => t.mask,
            }
        });
        self.search(relevant, 0, 0, work)
    }

    /// Depth-first over the bits of `relevant` from the top, those of `fixed` already set to
    /// the bits of `val`.
    fn search(
        &self,
        relevant: u32,
        fixed: u32,
        val: u32,
        work: &mut Work,
    ) -> Result<Option<u32>, Over> {
        work.spend(1)?;
        for (t, h) in &self.bits {
            if !feasible(t, *h, val, fixed) {
                return Ok(None);
            }
        }
        let Some(v) = self.first_match(fixed, val) else {
            return Ok(None);
        };
        let rest = relevant & !fixed;
        if rest == 0 {
            // every bit a test looks at is set, and each test is met
            return Ok(Some(v));
        }
        let bit = 1u32 << (31 - rest.leading_zeros());
        for b in [0, bit] {
            if let Some(v) = self.search(relevant, fixed | bit, val | b, work)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// The smallest value of the intervals whose bits of `fixed` are those of `val`.
    fn first_match(&self, fixed: u32, val: u32) -> Option<u32> {
        self.ivs
            .iter()
            .find_map(|&(lo, hi)| next_match(lo, fixed, val).filter(|&v| v <= hi))
    }
}

/// The smallest `v >= lo` whose bits of `fixed` are those of `val`.
fn next_match(lo: u32, fixed: u32, val: u32) -> Option<u32> {
    let val = val & fixed;
    // the value equal to `lo` on the bits above the current one, and the best way found so
    // far to go above `lo` (the lowest place where a free bit can rise: the smallest)
    let (mut prefix, mut above) = (0u32, None);
    for b in (0..32).rev() {
        let bit = 1u32 << b;
        let below = val & (bit - 1);
        let lob = lo & bit;
        if fixed & bit != 0 {
            let vb = val & bit;
            if vb > lob {
                return Some(prefix | vb | below);
            }
            if vb < lob {
                return above;
            }
            prefix |= vb;
        } else {
            if lob == 0 {
                above = Some(prefix | bit | below);
            }
            prefix |= lob;
        }
    }
    Some(prefix)
}

/// Whether some completion of the free bits (those not in `fixed`) of a word whose fixed bits
/// are `known` meets `t == holds`, the test alone.
fn feasible(t: &Test, holds: bool, known: u32, fixed: u32) -> bool {
    match t.op {
        Op::Set => {
            let m = t.mask & t.k;
            let set = known & m & fixed != 0;
            if holds {
                set || m & !fixed != 0
            } else {
                !set
            }
        }
        op => {
            let m = t.mask;
            let min = known & m & fixed;
            let max = min | (m & !fixed);
            let k = t.k;
            match (op, holds) {
                (Op::Eq, true) => k & !m == 0 && (k & fixed) & m == min,
                (Op::Eq, false) => !(min == max && min == k),
                (Op::Gt, true) => max > k,
                (Op::Gt, false) => min <= k,
                (Op::Ge, true) => max >= k,
                _ => min < k, // Ge, false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(s: &WordSet, vals: impl Iterator<Item = u32>) -> Option<u32> {
        vals.into_iter().find(|&v| s.contains(v))
    }

    #[test]
    fn next_match_is_the_smallest() {
        for (lo, fixed, val) in [
            (5u32, 0b110, 0b010),
            (0, 0, 0),
            (7, 0b1000, 0),
            (9, 0b1001, 0b1001),
            (u32::MAX - 3, 1, 0),
        ] {
            let want = (lo..=u32::MAX).take(1 << 16).find(|v| v & fixed == val);
            assert_eq!(next_match(lo, fixed, val), want, "{lo} {fixed:#b} {val:#b}");
        }
        assert_eq!(next_match(0xffff_fff0, 0x8, 0x0), Some(0xffff_fff0));
        assert_eq!(next_match(0xffff_fffc, 0x4, 0x0), None);
    }

    #[test]
    fn interval_algebra() {
        assert_eq!(complement(&[(0, 4), (9, 9)]), vec![(5, 8), (10, u32::MAX)]);
        assert_eq!(complement(&[(0, u32::MAX)]), vec![]);
        assert_eq!(
            pattern_intervals(0x4000_0000, 0x4000_0000).unwrap(),
            vec![(0x4000_0000, 0x7fff_ffff), (0xc000_0000, 0xffff_ffff)]
        );
    }

    /// Random conjunctions on a word whose masks live in the low 10 bits: the search's answer
    /// (empty or not) matches enumeration of all 2^10 low values (the high bits are free).
    #[test]
    fn exact_against_enumeration() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let mut s = WordSet::full();
            let mut work = Work::new(1 << 30);
            let mut empty = false;
            for _ in 0..(1 + next() % 6) {
                let mask = if next() % 3 == 0 {
                    u32::MAX
                } else {
                    (next() as u32) & 0x3ff
                };
                let op = [Op::Eq, Op::Gt, Op::Ge, Op::Set][(next() % 4) as usize];
                let k = (next() as u32) & 0x3ff;
                let t = Test { mask, op, k };
                let holds = next() % 2 == 0;
                match s.with(t, holds, &mut work).unwrap() {
                    Some(n) => s = n,
                    None => {
                        // check: nothing in the old set meets it
                        let all = (0..0x400u32).chain([u32::MAX, 0x8000_0000, 0xffff_fc00]);
                        let old = s.clone();
                        assert!(
                            (0..0x800u32)
                                .chain(all)
                                .all(|v| !(old.contains(v) && t.holds(v) == holds)),
                            "{t:?} {holds} on {old:?}"
                        );
                        empty = true;
                        break;
                    }
                }
            }
            if !empty {
                let w = s.witness(&mut work).unwrap().expect("non-empty");
                assert!(s.contains(w));
                assert!(brute(&s, (0..0x800u32).chain([u32::MAX])).is_some() || w > 0x7ff);
            }
        }
    }
}
