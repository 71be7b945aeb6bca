//! Proofs over every input: that two deciders (a program, or a profile's policy given by the
//! compiler crate) return the same value for every `struct seccomp_data`, every `arch`, every
//! `nr`, every argument and instruction-pointer word, or the inputs where they do not.
//!
//! Each side partitions a cell of inputs into pieces with one outcome each ([`Side`]); the
//! proof partitions the whole input space by the left side, each piece again by the right,
//! and compares the two outcomes on every resulting case. A case where they differ is
//! replayed concretely on a witness (the emulator for a program, the policy's own evaluation
//! for a policy) and reported only when the replay confirms it; a replay that contradicts the
//! symbolic outcome of an exact piece, an opaque result, or a spent work bound makes the answer
//! [`Verdict::Undecided`] with its reason, never a proof.

pub mod cell;
pub mod program;
pub mod word;

pub use cell::{Cell, WORDS};
pub use program::Program;
pub use word::{Op, Test, WordSet, Work};

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Over {
    /// The work bound was spent.
    #[error("the work bound was spent")]
    Work,
    /// One side split a cell into more than [`MAX_PIECES`] pieces.
    #[error("more than {MAX_PIECES} cases")]
    Pieces,
}

/// At most this many pieces from one partition (the memory a proof may hold).
pub const MAX_PIECES: usize = 1 << 20;

/// What a side decides on a piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Out {
    /// This return value for every input of the piece.
    Ret(u32),
    /// A value computed from the input (`ret a` after arithmetic): not followed.
    Unknown,
}

/// A cell of inputs with one outcome.
#[derive(Clone, Debug)]
pub struct Piece {
    /// The inputs.
    pub cell: Cell,
    /// What the side returns for them.
    pub out: Out,
    /// Whether every input of the cell takes this piece's path (false after a jump on an
    /// opaque value: the path was followed for the whole cell without splitting it).
    pub exact: bool,
}

/// One side of a proof.
pub trait Side {
    /// Partition `cell` into pieces with one outcome each; every input of `cell` must be in
    /// some piece whose outcome is what [`Side::eval`] returns for it.
    fn partition(&self, cell: Cell, work: &mut Work) -> Result<Vec<Piece>, Over>;
    /// The return value for one input, computed concretely (the check of every reported
    /// difference).
    fn eval(&self, words: &[u32; WORDS]) -> u32;
}

/// One input where the sides differ, confirmed concretely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The input, word by word (`nr`, `arch`, instruction pointer, arguments).
    pub words: [u32; WORDS],
    /// Every value of `nr` in the same case: the interval around the witness.
    pub nr_range: (u32, u32),
    /// The value of `arch` when the case has only one; `None`: a set of values (the
    /// architectures neither side names, say).
    pub arch: Option<u32>,
    /// The left side's return value.
    pub left: u32,
    /// The right side's.
    pub right: u32,
}

/// Why a proof could not be completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undecided {
    /// The work bound was spent.
    Work(u64),
    /// A side split the inputs into more than [`MAX_PIECES`] cases.
    Pieces,
    /// A side returns a value computed from its input.
    Computed,
    /// Sides disagree symbolically on a case whose replay agrees, after a jump on a computed
    /// value: the case could not be split exactly.
    Opaque,
    /// A symbolic outcome contradicted by its replay (a bug in confine).
    Internal(String),
}

impl std::fmt::Display for Undecided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Undecided::Work(n) => write!(f, "the work bound ({n} steps) was spent"),
            Undecided::Pieces => write!(
                f,
                "a side splits the inputs into more than {MAX_PIECES} cases"
            ),
            Undecided::Computed => {
                f.write_str("a program returns a value computed from its input (ret a)")
            }
            Undecided::Opaque => f.write_str(
                "a program compares a value computed from its input, and the cases it leaves \
                 could not be decided",
            ),
            Undecided::Internal(s) => write!(f, "internal error: {s}"),
        }
    }
}

/// The result of a proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Equal on every input.
    Proved,
    /// Not equal: the differences, one per class (same arch, `nr` range and both values).
    Differ(Vec<Difference>),
    /// Neither proved nor refuted; any differences found so far.
    Undecided(Undecided, Vec<Difference>),
}

/// A proof's answer and how many cases it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// Proved, differ or undecided.
    pub verdict: Verdict,
    /// The cases compared (pieces of the left side refined by the right).
    pub cases: u64,
}

/// The work a proof may do by default: instructions followed and bit-search nodes.
pub const DEFAULT_WORK: u64 = 1 << 28;

/// At most this many difference classes are kept.
pub const MAX_DIFFERENCES: usize = 4096;

/// Prove `left` and `right` equal on every input, within `work` steps.
pub fn prove(left: &dyn Side, right: &dyn Side, work: u64) -> Proof {
    let mut w = Work::new(work);
    let mut cases = 0u64;
    let mut diffs: Vec<Difference> = Vec::new();
    let mut undecided: Option<Undecided> = None;
    let result = (|| -> Result<(), Over> {
        for lp in left.partition(Cell::full(), &mut w)? {
            for rp in right.partition(lp.cell, &mut w)? {
                cases += 1;
                let exact = lp.exact && rp.exact;
                if lp.out == rp.out && matches!(lp.out, Out::Ret(_)) {
                    continue;
                }
                let Some(words) = rp.cell.witness(&mut w)? else {
                    undecided = Some(Undecided::Internal("an empty case".into()));
                    continue;
                };
                let (l, r) = (left.eval(&words), right.eval(&words));
                if l != r {
                    let d = Difference {
                        words,
                        nr_range: range_around(&rp.cell, cell::NR, words[cell::NR]),
                        arch: rp.cell.single(cell::ARCH),
                        left: l,
                        right: r,
                    };
                    let same = |x: &Difference| {
                        x.arch == d.arch
                            && x.nr_range == d.nr_range
                            && x.left == d.left
                            && x.right == d.right
                    };
                    if !diffs.iter().rev().any(same) && diffs.len() < MAX_DIFFERENCES {
                        diffs.push(d);
                    }
                    if exact && (lp.out != Out::Ret(l) || rp.out != Out::Ret(r)) {
                        undecided = Some(Undecided::Internal(format!(
                            "replay of {words:x?} gives {l:#x}/{r:#x}, the proof {:?}/{:?}",
                            lp.out, rp.out
                        )));
                    }
                } else if matches!(lp.out, Out::Unknown) || matches!(rp.out, Out::Unknown) {
                    undecided.get_or_insert(Undecided::Computed);
                } else if exact {
                    undecided = Some(Undecided::Internal(format!(
                        "replay of {words:x?} gives {l:#x} on both sides, the proof {:?}/{:?}",
                        lp.out, rp.out
                    )));
                } else {
                    undecided.get_or_insert(Undecided::Opaque);
                }
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => {}
        Err(Over::Work) => undecided = Some(Undecided::Work(work)),
        Err(Over::Pieces) => undecided = Some(Undecided::Pieces),
    }
    let verdict = match undecided {
        Some(u) => Verdict::Undecided(u, diffs),
        None if diffs.is_empty() => Verdict::Proved,
        None => Verdict::Differ(diffs),
    };
    Proof { verdict, cases }
}

/// The interval of word `i`'s values in `cell` around `v`.
fn range_around(cell: &Cell, i: usize, v: u32) -> (u32, u32) {
    match cell.word(i) {
        None => (0, u32::MAX),
        Some(w) => {
            let iv = w.intervals();
            let k = iv.partition_point(|x| x.1 < v);
            iv.get(k).copied().unwrap_or((v, v))
        }
    }
}

#[cfg(test)]
mod tests;
