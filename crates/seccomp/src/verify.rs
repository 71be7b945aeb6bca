//! A policy as one side of a proof ([`confine_bpf::verify`]): its decisions over every input,
//! partitioned symbolically exactly as [`Policy::eval`] decides them. The `arch` word splits
//! into the policy's audit values and all the others (the bad-architecture action); each
//! audit value's `nr` word into [`Policy::intervals`]; an argument tree into the cells where
//! each of its nodes holds or not, walked in libseccomp's order (a sub-level that matches
//! nothing falls through to the next sibling, the end of the top level is the default).
//!
//! The policy side never reads a program: a proof of the compiled program against it checks
//! the code generators against the semantics, not against themselves.

use crate::policy::Policy;
use crate::tree::{Cmp, NodeId};
use crate::verdict::Leaf;
use confine_bpf::action::Ret;
use confine_bpf::verify::cell::{arg_word, little_endian, ARCH, NR};
use confine_bpf::verify::{Cell, Op, Out, Over, Piece, Side, Test, Work, WORDS};

/// The decision spans of one audit value: `(first nr, last nr, leaf)`, sorted.
type Spans = Vec<(u32, u32, Leaf)>;

/// A policy, with its decision intervals computed once per audit value.
pub struct PolicySide<'a> {
    policy: &'a Policy,
    arches: Vec<(u32, Spans)>,
}

impl<'a> PolicySide<'a> {
    /// The policy as a side of a proof.
    pub fn new(policy: &'a Policy) -> PolicySide<'a> {
        let mut audits: Vec<u32> = policy.arches.iter().map(|a| a.arch.audit_arch()).collect();
        audits.dedup();
        let mut seen = Vec::new();
        audits.retain(|a| {
            let new = !seen.contains(a);
            seen.push(*a);
            new
        });
        let arches = audits
            .into_iter()
            .map(|a| {
                let iv = policy.intervals(a);
                let spans = iv
                    .iter()
                    .enumerate()
                    .map(|(i, &(lo, leaf))| {
                        let hi = iv.get(i + 1).map_or(u32::MAX, |n| n.0 - 1);
                        (lo, hi, leaf)
                    })
                    .collect();
                (a, spans)
            })
            .collect();
        PolicySide { policy, arches }
    }

    fn ret(r: Ret) -> Out {
        Out::Ret(r.into())
    }

    /// The pieces of one argument tree's level from node `id` on, within `cell`.
    fn tree(
        &self,
        id: Option<NodeId>,
        cell: Cell,
        le: bool,
        work: &mut Work,
        out: &mut Vec<(Cell, Option<Ret>)>,
    ) -> Result<(), Over> {
        let Some(id) = id else {
            out.push((cell, None));
            return Ok(());
        };
        work.spend(1)?;
        let forest = &self.policy.forest;
        let n = forest.node(id);
        let (yes, no) = match n.derived_outcomes() {
            // a derived high word: its test is one of the low word's sign bit
            Some((clear, set)) if clear == set => {
                if clear {
                    (Some(cell), None)
                } else {
                    (None, Some(cell))
                }
            }
            Some((clear, _)) => {
                let sign = Test {
                    mask: 0x8000_0000,
                    op: Op::Eq,
                    k: 0,
                };
                let (c, s) = cell.split(arg_word(n.arg, false, le), sign, work)?;
                if clear {
                    (c, s)
                } else {
                    (s, c)
                }
            }
            None => {
                let op = match n.cmp {
                    Cmp::Eq | Cmp::MaskedEq => Op::Eq,
                    Cmp::Gt => Op::Gt,
                    Cmp::Ge => Op::Ge,
                };
                let t = Test {
                    mask: n.mask,
                    op,
                    k: n.datum,
                };
                cell.split(arg_word(n.arg, n.hi, le), t, work)?
            }
        };
        for (side, holds) in [(yes, true), (no, false)] {
            let Some(side) = side else { continue };
            let (act, nxt) = if holds {
                (n.act_t, n.nxt_t)
            } else {
                (n.act_f, n.nxt_f)
            };
            if let Some(sub) = nxt {
                let mut subs = Vec::new();
                self.tree(Some(forest.level_first(sub)), side, le, work, &mut subs)?;
                for (c, r) in subs {
                    match r {
                        Some(_) => out.push((c, r)),
                        None => self.tree(forest.next_sibling(id), c, le, work, out)?,
                    }
                }
            } else if let Some(a) = act {
                out.push((side, Some(a)));
            } else {
                self.tree(forest.next_sibling(id), side, le, work, out)?;
            }
        }
        Ok(())
    }

    fn leaf(
        &self,
        leaf: Leaf,
        cell: Cell,
        le: bool,
        work: &mut Work,
        out: &mut Vec<Piece>,
    ) -> Result<(), Over> {
        match leaf {
            Leaf::Ret(r) => out.push(Piece {
                cell,
                out: Self::ret(r),
                exact: true,
            }),
            Leaf::Tree(_, t) => {
                let mut pieces = Vec::new();
                let first = self.policy.forest.level_first(t);
                self.tree(Some(first), cell, le, work, &mut pieces)?;
                for (cell, r) in pieces {
                    out.push(Piece {
                        cell,
                        out: Self::ret(r.unwrap_or(self.policy.default_action)),
                        exact: true,
                    });
                }
            }
        }
        Ok(())
    }
}

impl Side for PolicySide<'_> {
    fn partition(&self, cell: Cell, work: &mut Work) -> Result<Vec<Piece>, Over> {
        let mut out = Vec::new();
        let mut rest = Some(cell);
        for (audit, spans) in &self.arches {
            let Some(c) = rest.take() else { break };
            let t = Test {
                mask: u32::MAX,
                op: Op::Eq,
                k: *audit,
            };
            let (this, other) = c.split(ARCH, t, work)?;
            rest = other;
            let Some(this) = this else { continue };
            let le = little_endian(*audit);
            // the spans the cell's numbers can fall in
            let (lo, hi) = this.hull(NR);
            let start = spans.partition_point(|s| s.1 < lo);
            for &(slo, shi, leaf) in &spans[start..] {
                if slo > hi {
                    break;
                }
                if let Some(c) = this.restrict(NR, &[(slo, shi)], work)? {
                    self.leaf(leaf, c, le, work, &mut out)?;
                }
                if out.len() > confine_bpf::verify::MAX_PIECES {
                    return Err(Over::Pieces);
                }
            }
        }
        if let Some(c) = rest {
            out.push(Piece {
                cell: c,
                out: Self::ret(self.policy.bad_arch_action),
                exact: true,
            });
        }
        Ok(out)
    }

    fn eval(&self, words: &[u32; WORDS]) -> u32 {
        let le = little_endian(words[ARCH]);
        let d = confine_bpf::verify::cell::data_of(words, le);
        self.policy.eval(d.arch, d.nr, &d.args).into()
    }
}
