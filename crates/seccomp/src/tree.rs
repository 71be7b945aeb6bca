//! Argument decision trees that decide exactly as libseccomp's do.
//!
//! runc hands every rule to libseccomp, which merges the rules of one syscall into a tree of
//! 32-bit comparisons (src/db.c in libseccomp 2.5.4, which Debian 12's runc links). Which rule
//! wins when rules overlap is decided by that tree's shape, not by rule order, so confine builds
//! the same shape. What this module reproduces, from reading and probing libseccomp:
//!
//! * A rule becomes a chain of nodes, one level per argument in index order. On 64-bit ABIs a
//!   condition is a high-word and a low-word node (`==`, `!=`, masked `==`) or three nodes
//!   (`hi > H`, else `hi == H` and then a low-word `>`/`>=`); `!=`, `<` and `<=` are stored as
//!   `==`, `>=`, `>` with the rule's action on the false branch. 32-bit ABIs compare the low word
//!   only. A masked `==` whose mask is 0 is a tautology and adds no node.
//! * Nodes of one level are kept sorted, greatest first: higher argument index, high word before
//!   low word, then `==`/`!=`/masked `==` before `<`/`<=` before `>`/`>=`, then larger data first
//!   (smaller first for `<`/`<=`). Equal nodes (same word, operation, datum and mask) merge.
//! * Adding a chain that ends in a different action where an equal path already ends, or that
//!   would replace a sub-tree holding another action, fails with EEXIST: runc then refuses to
//!   start the container, and confine refuses to compile.
//! * Evaluation: a node whose test sends it to a sub-level evaluates that level; when the
//!   sub-level matches nothing, evaluation continues with the node's next sibling; a branch with
//!   neither sub-level nor action also continues with the next sibling; the end of the top level
//!   is the filter's default action.

use confine_bpf::action::Ret;
use confine_profile::Operator;

/// Index of a node in a [`Forest`].
pub type NodeId = usize;

/// The comparison a node performs on (argument word & mask).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `==`
    Eq,
    /// masked `==` (the mask is applied first)
    MaskedEq,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// One 32-bit comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Argument index, 0–5.
    pub arg: u8,
    /// Compares the high word (64-bit ABIs only).
    pub hi: bool,
    /// The comparison performed.
    pub cmp: Cmp,
    /// The operator of the rule it came from (decides the sort order).
    pub op_orig: Operator,
    /// Mask applied to the word before comparing.
    pub mask: u32,
    /// The operand, already masked.
    pub datum: u32,
    /// The full 64-bit operand of the rule.
    pub datum_full: u64,
    /// A high-word node of a narrow argument (`--arg-width kernel`): the word is derived from
    /// the low word (see [`Cond::narrow`]); `Some(signed)`.
    pub derived: Option<bool>,
    /// Action when the test holds and there is no sub-level.
    pub act_t: Option<Ret>,
    /// Action when the test fails and there is no sub-level.
    pub act_f: Option<Ret>,
    /// Sub-level when the test holds.
    pub nxt_t: Option<NodeId>,
    /// Sub-level when the test fails.
    pub nxt_f: Option<NodeId>,
    prev: Option<NodeId>,
    next: Option<NodeId>,
    /// Linked into a level by a merge (as a sibling).
    linked: bool,
}

impl Node {
    /// Whether the node's comparison holds for the six 64-bit arguments.
    pub fn holds(&self, args: &[u64; 6]) -> bool {
        let a = args[usize::from(self.arg)];
        let word = match (self.hi, self.derived) {
            (true, Some(signed)) => Self::derived_word(signed, a as u32),
            (true, None) => (a >> 32) as u32,
            (false, _) => a as u32,
        } & self.mask;
        match self.cmp {
            Cmp::Eq | Cmp::MaskedEq => word == self.datum,
            Cmp::Gt => word > self.datum,
            Cmp::Ge => word >= self.datum,
        }
    }

    /// The high word of a narrow argument whose low word is `lo`: the sign extension for a
    /// signed type, 0 for an unsigned one.
    pub fn derived_word(signed: bool, lo: u32) -> u32 {
        if signed && lo & 0x8000_0000 != 0 {
            u32::MAX
        } else {
            0
        }
    }

    /// For a derived high-word node: whether the test holds when the low word's sign bit is
    /// clear and when it is set.
    pub fn derived_outcomes(&self) -> Option<(bool, bool)> {
        let signed = self.derived?;
        let test = |w: u32| {
            let w = w & self.mask;
            match self.cmp {
                Cmp::Eq | Cmp::MaskedEq => w == self.datum,
                Cmp::Gt => w > self.datum,
                Cmp::Ge => w >= self.datum,
            }
        };
        Some((
            test(Self::derived_word(signed, 0)),
            test(Self::derived_word(signed, 0x8000_0000)),
        ))
    }

    /// The branch taken for the arguments: its action and its sub-level.
    pub fn branch(&self, args: &[u64; 6]) -> (Option<Ret>, Option<NodeId>) {
        if self.holds(args) {
            (self.act_t, self.nxt_t)
        } else {
            (self.act_f, self.nxt_f)
        }
    }
}

/// A rule could not be merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// libseccomp returns EEXIST and runc refuses the profile.
    Exists,
    /// The merge would link a node of the new rule's chain into a level a second time
    /// (64-bit `!=` chains share their continuation between the high and low word): the
    /// levels become a cycle, and libseccomp 2.5.4 loops forever on the same profile.
    SharedNode,
    /// More than [`crate::MAX_CONDITIONS_PER_SYSCALL`] conditions would be merged into one
    /// syscall's tree (confine's bound, not libseccomp's).
    TooMany,
}

/// The nodes of every syscall tree of a policy.
#[derive(Clone, Debug, Default)]
pub struct Forest {
    nodes: Vec<Node>,
}

/// One condition as the tree builder takes it: argument, operator, value (the mask for masked
/// `==`), and the second value (the expected value for masked `==`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cond {
    /// Argument index.
    pub arg: u8,
    /// Operator.
    pub op: Operator,
    /// `value` of the profile.
    pub value: u64,
    /// `valueTwo` of the profile.
    pub value_two: u64,
    /// `--arg-width kernel`: the kernel reads 32 bits of this argument, signed (`Some(true)`)
    /// or not. Its high word is then not read from the register but derived from the low
    /// word, as the natural register value of what the kernel reads has it: all ones when
    /// signed and negative, 0 otherwise.
    pub narrow: Option<bool>,
}

fn op_class(op: Operator) -> u8 {
    match op {
        Operator::MaskedEqual | Operator::EqualTo | Operator::NotEqual => 3,
        Operator::LessEqual | Operator::LessThan => 2,
        Operator::GreaterEqual | Operator::GreaterThan => 1,
    }
}

impl Forest {
    /// A node by id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The first node of the level `id` belongs to.
    pub fn level_first(&self, mut id: NodeId) -> NodeId {
        while let Some(p) = self.nodes[id].prev {
            id = p;
        }
        id
    }

    /// The next node on the same level.
    pub fn next_sibling(&self, id: NodeId) -> Option<NodeId> {
        self.nodes[id].next
    }

    /// Add a node for a comparison on one word: `(arg, hi)`, the test, the rule's operator,
    /// `(mask, datum)` of the word and the rule's full 64-bit operand.
    fn new_node(
        &mut self,
        word: (u8, bool),
        cmp: Cmp,
        op: Operator,
        md: (u32, u32),
        full: u64,
        derived: Option<bool>,
    ) -> NodeId {
        let (arg, hi) = word;
        let derived = derived.filter(|_| hi);
        let (mask, datum) = md;
        self.nodes.push(Node {
            arg,
            hi,
            cmp,
            op_orig: op,
            mask,
            datum: datum & mask,
            datum_full: full,
            derived,
            act_t: None,
            act_f: None,
            nxt_t: None,
            nxt_f: None,
            prev: None,
            linked: false,
            next: None,
        });
        self.nodes.len() - 1
    }

    /// Build the chain of one rule (conditions on distinct arguments). Returns the first node,
    /// or `None` when no condition needs a node (the rule is unconditional).
    pub fn chain(&mut self, conds: &[Cond], action: Ret, bits64: bool) -> Option<NodeId> {
        if conds.is_empty() {
            return None;
        }
        let mut sorted: Vec<Cond> = conds.to_vec();
        sorted.sort_by_key(|c| c.arg);
        let mut head = None;
        // the nodes whose true (or false) branch leads to the next condition
        let mut tails: Vec<(NodeId, bool)> = Vec::new();
        for c in sorted {
            let (mask, datum) = match c.op {
                Operator::MaskedEqual => (c.value, c.value_two),
                _ => (u64::MAX, c.value),
            };
            let need_lo = !(c.op == Operator::MaskedEqual && mask as u32 == 0);
            let need_hi = !(c.op == Operator::MaskedEqual && (mask >> 32) as u32 == 0);
            let (first, next_tails) = if bits64 {
                if !need_lo && !need_hi {
                    continue;
                }
                let (hm, lm) = ((mask >> 32) as u32, mask as u32);
                let (hd, ld) = ((datum >> 32) as u32, datum as u32);
                match c.op {
                    Operator::GreaterThan
                    | Operator::GreaterEqual
                    | Operator::LessThan
                    | Operator::LessEqual => {
                        let lo_cmp = match c.op {
                            Operator::GreaterThan | Operator::LessEqual => Cmp::Gt,
                            _ => Cmp::Ge,
                        };
                        let n0 =
                            self.new_node((c.arg, true), Cmp::Gt, c.op, (hm, hd), datum, c.narrow);
                        let n1 =
                            self.new_node((c.arg, true), Cmp::Eq, c.op, (hm, hd), datum, c.narrow);
                        let n2 =
                            self.new_node((c.arg, false), lo_cmp, c.op, (lm, ld), datum, c.narrow);
                        self.nodes[n0].nxt_f = Some(n1);
                        self.nodes[n1].nxt_t = Some(n2);
                        let t = matches!(c.op, Operator::GreaterThan | Operator::GreaterEqual);
                        if t {
                            (n0, vec![(n0, true), (n2, true)])
                        } else {
                            (n0, vec![(n1, false), (n2, false)])
                        }
                    }
                    _ => {
                        let cmp = if c.op == Operator::MaskedEqual {
                            Cmp::MaskedEq
                        } else {
                            Cmp::Eq
                        };
                        let n0 = self.new_node((c.arg, true), cmp, c.op, (hm, hd), datum, c.narrow);
                        let n1 =
                            self.new_node((c.arg, false), cmp, c.op, (lm, ld), datum, c.narrow);
                        self.nodes[n0].nxt_t = Some(n1);
                        if c.op == Operator::NotEqual {
                            (n0, vec![(n0, false), (n1, false)])
                        } else {
                            (n0, vec![(n1, true)])
                        }
                    }
                }
            } else {
                if !need_lo {
                    continue;
                }
                let (cmp, t) = match c.op {
                    Operator::NotEqual => (Cmp::Eq, false),
                    Operator::LessThan => (Cmp::Ge, false),
                    Operator::LessEqual => (Cmp::Gt, false),
                    Operator::EqualTo => (Cmp::Eq, true),
                    Operator::MaskedEqual => (Cmp::MaskedEq, true),
                    Operator::GreaterThan => (Cmp::Gt, true),
                    Operator::GreaterEqual => (Cmp::Ge, true),
                };
                let n = self.new_node(
                    (c.arg, false),
                    cmp,
                    c.op,
                    (mask as u32, datum as u32),
                    datum,
                    None,
                );
                (n, vec![(n, t)])
            };
            for &(id, t) in &tails {
                if t {
                    self.nodes[id].nxt_t = Some(first);
                } else {
                    self.nodes[id].nxt_f = Some(first);
                }
            }
            head.get_or_insert(first);
            tails = next_tails;
        }
        for (id, t) in tails {
            if t {
                self.nodes[id].act_t = Some(action);
            } else {
                self.nodes[id].act_f = Some(action);
            }
        }
        head
    }

    fn prio(&self, id: NodeId) -> u32 {
        let n = &self.nodes[id];
        (u32::from(n.arg) << 1) + u32::from(n.hi)
    }

    /// libseccomp's `_db_chain_lt`.
    fn lt(&self, a: NodeId, b: NodeId) -> bool {
        let (pa, pb) = (self.prio(a), self.prio(b));
        if pa != pb {
            return pa < pb;
        }
        let (na, nb) = (&self.nodes[a], &self.nodes[b]);
        let (oa, ob) = (op_class(na.op_orig), op_class(nb.op_orig));
        if oa != ob {
            return oa < ob;
        }
        match na.op_orig {
            Operator::LessEqual | Operator::LessThan => na.datum > nb.datum,
            _ => na.datum < nb.datum,
        }
    }

    /// libseccomp's `_db_chain_eq`.
    fn eq(&self, a: NodeId, b: NodeId) -> bool {
        let (na, nb) = (&self.nodes[a], &self.nodes[b]);
        self.prio(a) == self.prio(b)
            && na.cmp == nb.cmp
            && na.datum == nb.datum
            && na.mask == nb.mask
    }

    fn leaf(&self, id: NodeId) -> bool {
        self.nodes[id].nxt_t.is_none() && self.nodes[id].nxt_f.is_none()
    }

    /// Whether every action in the level of `tree` (and below) equals `action`.
    fn act_check(&self, tree: Option<NodeId>, action: Ret) -> bool {
        let Some(t) = tree else { return true };
        let mut it = Some(self.level_first(t));
        while let Some(id) = it {
            let n = &self.nodes[id];
            if n.act_t.is_some_and(|a| a != action) || n.act_f.is_some_and(|a| a != action) {
                return false;
            }
            if !self.act_check(n.nxt_t, action) || !self.act_check(n.nxt_f, action) {
                return false;
            }
            it = n.next;
        }
        true
    }

    /// Merge the chain `new` into the syscall tree whose root is `*root`.
    pub fn add(&mut self, root: &mut Option<NodeId>, new: NodeId) -> Result<(), Conflict> {
        match *root {
            None => {
                *root = Some(new);
                Ok(())
            }
            Some(existing) => {
                let mut head = existing;
                let r = self.add_level(&mut head, new);
                *root = Some(head);
                r
            }
        }
    }

    /// `_db_tree_add`: `head` is the pointer through which this level was reached (the root or
    /// a parent's branch); like libseccomp, the scan starts there, not at the level's first
    /// node, and the pointer moves when a node is inserted in front of it.
    fn add_level(&mut self, head: &mut NodeId, new: NodeId) -> Result<(), Conflict> {
        let mut x = *head;
        let n = new;
        loop {
            if self.eq(x, n) {
                let nn = self.nodes[n].clone();
                if let Some(na) = nn.act_t {
                    match self.nodes[x].act_t {
                        None => {
                            if !self.act_check(self.nodes[x].nxt_t, na) {
                                return Err(Conflict::Exists);
                            }
                            self.nodes[x].nxt_t = None;
                            self.nodes[x].act_t = Some(na);
                        }
                        Some(xa) if xa != na => {
                            if nn.hi && nn.datum_full > self.nodes[x].datum_full {
                                self.nodes[x].act_t = Some(na);
                            }
                            if self.leaf(x) || self.leaf(n) {
                                return Err(Conflict::Exists);
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(na) = nn.act_f {
                    match self.nodes[x].act_f {
                        None => {
                            if !self.act_check(self.nodes[x].nxt_f, na) {
                                return Err(Conflict::Exists);
                            }
                            self.nodes[x].nxt_f = None;
                            self.nodes[x].act_f = Some(na);
                        }
                        Some(xa) if xa != na => {
                            // libseccomp 2.5.4 overwrites the *true* action's value here
                            // (sic); the value only counts where a true action is set.
                            if nn.hi
                                && nn.datum_full < self.nodes[x].datum_full
                                && self.nodes[x].act_t.is_some()
                            {
                                self.nodes[x].act_t = Some(nn.act_t.unwrap_or(Ret::KillThread));
                            }
                            if self.leaf(x) || self.leaf(n) {
                                return Err(Conflict::Exists);
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(nt) = nn.nxt_t {
                    if let Some(mut xt) = self.nodes[x].nxt_t {
                        self.add_level(&mut xt, nt)?;
                        self.nodes[x].nxt_t = Some(xt);
                    } else if self.nodes[x].act_t.is_none() {
                        self.nodes[x].nxt_t = Some(nt);
                    } else {
                        return Ok(());
                    }
                }
                if let Some(nf) = nn.nxt_f {
                    if let Some(mut xf) = self.nodes[x].nxt_f {
                        self.add_level(&mut xf, nf)?;
                        self.nodes[x].nxt_f = Some(xf);
                    } else if self.nodes[x].act_f.is_none() {
                        self.nodes[x].nxt_f = Some(nf);
                    } else {
                        return Ok(());
                    }
                }
                return Ok(());
            } else if !self.lt(x, n) {
                // x >= n: move along, or append at the end of the level
                match self.nodes[x].next {
                    Some(nx) => x = nx,
                    None => {
                        if self.nodes[n].linked || self.nodes[n].prev.is_some() {
                            return Err(Conflict::SharedNode);
                        }
                        self.nodes[n].linked = true;
                        self.nodes[n].prev = Some(x);
                        self.nodes[x].next = Some(n);
                        return Ok(());
                    }
                }
            } else {
                // insert n before x
                if self.nodes[n].linked
                    || self.nodes[n].prev.is_some()
                    || self.nodes[n].next.is_some()
                {
                    return Err(Conflict::SharedNode);
                }
                self.nodes[n].linked = true;
                let p = self.nodes[x].prev;
                self.nodes[n].prev = p;
                self.nodes[n].next = Some(x);
                if let Some(p) = p {
                    self.nodes[p].next = Some(n);
                }
                self.nodes[x].prev = Some(n);
                if *head == x {
                    // the caller stores the new head through the pointer it came by
                    *head = n;
                }
                return Ok(());
            }
        }
    }

    /// Whether libseccomp 2.5.4's code for this tree can compare a stale accumulator.
    ///
    /// libseccomp skips the load of a node whose word (and mask) equals what its previous
    /// sibling loaded, assuming the node is reached from that sibling's false branch. It is also
    /// reached when the sibling's sub-level matches nothing and falls through; if that sub-level
    /// loaded another word, the node compares the wrong word (its final assembly repairs this
    /// only for the first block that jumps to the node). Verdicts of such trees can differ from
    /// the rules; confine decides by the rules. See the differential tests.
    pub fn libseccomp_stale_hazard(&self, start: NodeId) -> bool {
        let mut it = Some(self.level_first(start));
        while let Some(id) = it {
            let n = &self.nodes[id];
            for sub in [n.nxt_t, n.nxt_f].into_iter().flatten() {
                if self.libseccomp_stale_hazard(sub) {
                    return true;
                }
                if let Some(sib) = n.next {
                    let s = &self.nodes[sib];
                    let elided = (s.arg, s.hi) == (n.arg, n.hi) && s.mask & n.mask == s.mask;
                    if elided && self.loads_other_word(sub, (n.arg, n.hi, n.mask)) {
                        return true;
                    }
                }
            }
            it = n.next;
        }
        false
    }

    fn loads_other_word(&self, start: NodeId, word: (u8, bool, u32)) -> bool {
        let mut it = Some(self.level_first(start));
        while let Some(id) = it {
            let n = &self.nodes[id];
            if (n.arg, n.hi, n.mask) != word {
                return true;
            }
            for sub in [n.nxt_t, n.nxt_f].into_iter().flatten() {
                if self.loads_other_word(sub, word) {
                    return true;
                }
            }
            it = n.next;
        }
        false
    }

    /// Evaluate the tree whose level contains `start` on the arguments. `bits64` selects how
    /// words are taken: 64-bit ABIs compare high and low words, 32-bit ABIs the low word.
    /// `None`: nothing matched (the default action applies).
    pub fn eval(&self, start: NodeId, args: &[u64; 6]) -> Option<Ret> {
        let mut it = Some(self.level_first(start));
        while let Some(id) = it {
            let n = &self.nodes[id];
            let (act, nxt) = n.branch(args);
            if let Some(sub) = nxt {
                if let Some(r) = self.eval(sub, args) {
                    return Some(r);
                }
            } else if let Some(a) = act {
                return Some(a);
            }
            it = n.next;
        }
        None
    }
}
