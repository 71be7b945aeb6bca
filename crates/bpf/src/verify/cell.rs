//! A cell: a set of inputs given as one [`WordSet`] per 32-bit word of `struct seccomp_data`
//! (16 of them: `nr`, `arch`, the instruction pointer's two halves, each argument's two), the
//! words independent of each other. Splitting a cell on a comparison gives the two cells where
//! it holds and where it does not; a side that cannot happen is left out, decided exactly.

use super::word::{Test, WordSet, Work};
use super::Over;
use crate::emu::SeccompData;
use std::sync::Arc;

/// The number of 32-bit words in `struct seccomp_data`.
pub const WORDS: usize = 16;

/// The word index of `nr`.
pub const NR: usize = 0;
/// The word index of `arch`.
pub const ARCH: usize = 1;

/// A set of inputs: one exact set of values per word.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    words: [Option<Arc<WordSet>>; WORDS],
}

impl Cell {
    /// Every input.
    pub fn full() -> Cell {
        Cell::default()
    }

    /// The set of word `i` (`None`: unrestricted).
    pub fn word(&self, i: usize) -> Option<&WordSet> {
        self.words[i].as_deref()
    }

    /// The cell where `t` holds on word `i`, and the one where it does not; `None` for a side
    /// with no input.
    pub fn split(
        &self,
        i: usize,
        t: Test,
        work: &mut Work,
    ) -> Result<(Option<Cell>, Option<Cell>), Over> {
        let decided = match self.word(i) {
            Some(w) => w.decided(t),
            None => None,
        };
        match decided {
            Some(true) => Ok((Some(self.clone()), None)),
            Some(false) => Ok((None, Some(self.clone()))),
            None => Ok((self.with(i, t, true, work)?, self.with(i, t, false, work)?)),
        }
    }

    /// The cell where `t == holds` on word `i`, `None` when empty.
    pub fn with(
        &self,
        i: usize,
        t: Test,
        holds: bool,
        work: &mut Work,
    ) -> Result<Option<Cell>, Over> {
        let full = WordSet::full();
        let cur = self.words[i].as_deref().unwrap_or(&full);
        Ok(cur.with(t, holds, work)?.map(|w| self.replaced(i, w)))
    }

    /// The cell with word `i` within the sorted disjoint intervals `ivs`, `None` when empty.
    pub fn restrict(
        &self,
        i: usize,
        ivs: &[(u32, u32)],
        work: &mut Work,
    ) -> Result<Option<Cell>, Over> {
        let full = WordSet::full();
        let cur = self.words[i].as_deref().unwrap_or(&full);
        Ok(cur.restrict(ivs, work)?.map(|w| self.replaced(i, w)))
    }

    fn replaced(&self, i: usize, w: WordSet) -> Cell {
        let mut c = self.clone();
        c.words[i] = (!w.is_full()).then(|| Arc::new(w));
        c
    }

    /// The smallest interval containing every value of word `i`.
    pub fn hull(&self, i: usize) -> (u32, u32) {
        match self.word(i) {
            None => (0, u32::MAX),
            Some(w) => {
                let iv = w.intervals();
                (iv[0].0, iv[iv.len() - 1].1)
            }
        }
    }

    /// The value of word `i` when the cell has only one.
    pub fn single(&self, i: usize) -> Option<u32> {
        let w = self.word(i)?;
        match w.intervals() {
            [(lo, hi)] if lo == hi && w.contains(*lo) => Some(*lo),
            _ => None,
        }
    }

    /// An input of the cell, every word as small as the search finds.
    pub fn witness(&self, work: &mut Work) -> Result<Option<[u32; WORDS]>, Over> {
        let mut out = [0u32; WORDS];
        for (i, w) in self.words.iter().enumerate() {
            if let Some(w) = w {
                match w.witness(work)? {
                    Some(v) => out[i] = v,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(out))
    }
}

/// `struct seccomp_data` holding `words` at their offsets, read in the given byte order.
pub fn data_of(words: &[u32; WORDS], little_endian: bool) -> SeccompData {
    let pair = |i: usize| {
        let (first, second) = (u64::from(words[i]), u64::from(words[i + 1]));
        if little_endian {
            first | second << 32
        } else {
            first << 32 | second
        }
    };
    let mut args = [0u64; 6];
    for (n, a) in args.iter_mut().enumerate() {
        *a = pair(4 + 2 * n);
    }
    SeccompData {
        nr: words[NR],
        arch: words[ARCH],
        instruction_pointer: pair(2),
        args,
    }
}

/// The word index of the low (`hi == false`) or high half of argument `arg` in the given byte
/// order.
pub fn arg_word(arg: u8, hi: bool, little_endian: bool) -> usize {
    4 + 2 * usize::from(arg) + usize::from(hi == little_endian)
}

/// Whether an `AUDIT_ARCH_*` value is a little-endian architecture (unknown values: yes; the
/// byte order then only decides how a witness is printed).
pub fn little_endian(audit_arch: u32) -> bool {
    confine_abi::Arch::supported()
        .find(|a| a.audit_arch() == audit_arch)
        .is_none_or(|a| a.is_little_endian())
}
