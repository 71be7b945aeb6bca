//! From a resolved profile to per-architecture syscall decisions, exactly as runc builds its
//! libseccomp filter (libcontainer/seccomp/seccomp_linux.go) and as libseccomp merges the rules
//! (see [`super::tree`]), plus runc's `-ENOSYS` stub (libcontainer/seccomp/patchbpf).
//!
//! runc's semantics, reproduced:
//! * one rule per name; a rule whose action (with its errno) equals the default is skipped;
//! * `SCMP_ACT_KILL` is KILL_THREAD; ERRNO and TRACE without `errnoRet` use EPERM;
//! * the conditions of a rule are ANDed, unless an argument index repeats: then every condition
//!   becomes a rule of its own and they are ORed;
//! * a name libseccomp cannot resolve at all is skipped; a name absent on one architecture is
//!   skipped there;
//! * the filter covers the native architecture plus `architectures`;
//! * on ABIs with `socketcall`/`ipc` multiplexers (x86, s390, s390x, ppc, ppc64, mips o32) a
//!   socket or SysV IPC call is added twice: to the direct syscall, and to the multiplexer with
//!   argument 0 replaced by `== call number`, as libseccomp does.
//! * an unconditional rule decides its syscall: a later conditional rule is dropped, an earlier
//!   one is replaced; of two unconditional rules the first stays.
//! * a conditional rule is dropped when an earlier rule for the same syscall with the same
//!   action tests a subset of its conditions (libseccomp's prune finds it redundant), so a
//!   later rule that would have conflicted with it merges instead;
//! * a name an ABI lacks gets a pseudo-syscall tree there on ABIs without a rule hook: its rules
//!   never reach the filter, but they can conflict (EEXIST) like any other.

use super::tree::{Cond, Conflict, Forest, NodeId};
use super::CompileError;
use crate::action as ret;
use confine_abi::mux::{multiplexed, mux_call};
use confine_abi::syscalls::{NameId, NumbersById};
use confine_abi::{Arch, SyscallTable};
use confine_profile::{Action, Flag, Resolved};
use std::collections::BTreeMap;

/// `SECCOMP_RET_ERRNO | ENOSYS`, what runc's stub returns.
pub const RET_ENOSYS: u32 = ret::ERRNO | 38;

/// The kernel's x32 syscall bit.
pub const X32_BIT: u32 = 0x4000_0000;

/// Options that change what is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Prepend runc's `-ENOSYS` stub (default on, like runc).
    pub enosys_stub: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { enosys_stub: true }
    }
}

/// What one syscall does on one ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The same action whatever the arguments.
    Always(u32),
    /// Decided by an argument tree in the policy's forest; `None` from it means the default.
    Tree(NodeId),
}

/// The decisions of one architecture of the filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchPolicy {
    /// The ABI.
    pub arch: Arch,
    /// Syscall number → decision, sorted by number; numbers not listed get the default
    /// action.
    pub syscalls: Vec<(u32, Decision)>,
    /// Whether libseccomp compares 64-bit arguments as two words on this ABI.
    pub bits64: bool,
    /// The first rule that set each number's decision, sorted by number.
    pub origins: Vec<(u32, Origin)>,
}

/// Where a syscall's decision came from, for `eval` and `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The rule index in the resolved profile.
    pub rule: usize,
    /// The index of the name in that rule's `names`.
    pub name: usize,
}

/// Everything the code generators need.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The default action value.
    pub default_action: u32,
    /// Action for an architecture outside the filter (libseccomp's default: KILL_THREAD).
    pub bad_arch_action: u32,
    /// The filter's architectures, native first.
    pub arches: Vec<ArchPolicy>,
    /// The argument trees.
    pub forest: Forest,
    /// runc's stub: per listed architecture, the highest syscall number the profile names.
    pub stub: Vec<(Arch, u32)>,
    /// Filter flags to install with (`SPEC_ALLOW` added when the profile has none, as runc).
    pub flags: Vec<Flag>,
    /// Names skipped because no architecture knows them (runc skips them).
    pub unknown_names: Vec<String>,
}

impl ArchPolicy {
    /// The decision listed for `nr`, if any.
    pub fn decision(&self, nr: u32) -> Option<Decision> {
        let i = self.syscalls.binary_search_by_key(&nr, |e| e.0).ok()?;
        Some(self.syscalls[i].1)
    }
}

impl Policy {
    /// The first rule that set the decision of `nr` on `arch`.
    pub fn origin(&self, arch: Arch, nr: u32) -> Option<Origin> {
        let a = self.arches.iter().find(|a| a.arch == arch)?;
        let i = a.origins.binary_search_by_key(&nr, |o| o.0).ok()?;
        Some(a.origins[i].1)
    }
}

/// runc's mapping of a profile action to the kernel's return value.
pub fn action_value(action: Action, errno: Option<u32>) -> u32 {
    let data = |d: Option<u32>| d.unwrap_or(1) & 0xffff;
    match action {
        Action::Kill | Action::KillThread => ret::KILL_THREAD,
        Action::KillProcess => ret::KILL_PROCESS,
        Action::Trap => ret::TRAP,
        Action::Errno => ret::ERRNO | data(errno),
        Action::Trace => ret::TRACE | data(errno),
        Action::Allow => ret::ALLOW,
        Action::Log => ret::LOG,
        Action::Notify => ret::USER_NOTIF,
    }
}

/// libseccomp's word size per ABI (x32 and MIPS n32 are 32-bit there).
pub fn libseccomp_bits64(arch: Arch) -> bool {
    matches!(
        arch,
        Arch::X86_64
            | Arch::Aarch64
            | Arch::Mips64
            | Arch::Mipsel64
            | Arch::Ppc64
            | Arch::Ppc64le
            | Arch::S390x
            | Arch::Riscv64
            | Arch::Loongarch64
            | Arch::Parisc64
    )
}

/// Whether libseccomp 2.5.4 adds a rule whose name the ABI lacks to a pseudo-syscall tree
/// there: on every ABI without its own rule hook (the hooks of the multiplexing ABIs drop such
/// rules). Found by probing: two conflicting `ipc` rules on an x86_64-only filter fail with
/// EEXIST, on x86 they do not.
fn pseudo_rules(arch: Arch) -> bool {
    !multiplexed(arch)
}

/// Whether libseccomp 2.5.4 resolves `name` at all (it gives names it knows a pseudo number on
/// ABIs that lack them; names newer than its tables are skipped by runc).
fn libseccomp_knows(id: NameId) -> bool {
    !confine_abi::syscalls::UNKNOWN_TO_LIBSECCOMP_2_5_4.contains(&id.name())
}

/// A rule's name looked up once: its id, and its multiplexer and call number.
type NameInfo = (Option<NameId>, Option<(&'static str, u64)>);

/// One syscall's decision while rules are added (small and `Copy`: the dense arrays hold
/// one per number).
#[derive(Clone, Copy, Debug)]
struct Entry {
    action: u32,
    chains: Option<NodeId>,
    origin: Origin,
    /// Index in [`Builder::merged`] of the conditional rules merged into `chains`.
    merged: u32,
}

/// Whether two conditions test the same thing (the second value matters only to masked `==`).
fn same_cond(a: &Cond, b: &Cond) -> bool {
    a.arg == b.arg
        && a.op == b.op
        && a.value == b.value
        && (a.op != confine_profile::Operator::MaskedEqual || a.value_two == b.value_two)
}

/// The most slots a dense array gets (every ABI's main syscall range fits).
const DENSE_MAX: usize = 1024;

/// Entries by syscall number: a dense array from the ABI's first number (syscall numbers of
/// one ABI are small and contiguous), anything else in a side map.
struct Dense {
    base: u32,
    slots: Vec<Option<Entry>>,
    other: BTreeMap<u32, Entry>,
}

impl Dense {
    fn new(base: u32, len: usize) -> Dense {
        Dense {
            base,
            slots: vec![None; len],
            other: BTreeMap::new(),
        }
    }

    fn get_mut(&mut self, nr: u32) -> Option<&mut Entry> {
        match nr.checked_sub(self.base).map(|i| i as usize) {
            Some(i) if i < self.slots.len() => self.slots[i].as_mut(),
            _ => self.other.get_mut(&nr),
        }
    }

    fn insert(&mut self, nr: u32, e: Entry) {
        match nr.checked_sub(self.base).map(|i| i as usize) {
            Some(i) if i < self.slots.len() => self.slots[i] = Some(e),
            _ => {
                self.other.insert(nr, e);
            }
        }
    }

    /// Every entry, by number.
    fn entries(&self) -> impl Iterator<Item = (u32, Entry)> + '_ {
        let base = self.base;
        let side = |(nr, e): (&u32, &Entry)| (*nr, *e);
        self.other
            .range(..base)
            .map(side)
            .chain(
                self.slots
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, e)| Some((base + i as u32, (*e)?))),
            )
            .chain(self.other.range(base..).map(side))
    }

    /// How many entries there are.
    fn len(&self) -> usize {
        self.other.len() + self.slots.iter().filter(|e| e.is_some()).count()
    }
}

struct Builder {
    forest: Forest,
    dbs: Vec<(Arch, Dense)>,
    /// Per ABI, the rules of names libseccomp gives a pseudo-syscall number there (names it
    /// knows that the ABI lacks), by name id. They never reach the filter, but libseccomp
    /// merges them like any other rule on ABIs without a rule hook, so they can conflict.
    pseudo: Vec<Dense>,
    /// Per conditional entry, the rules merged into its tree: their conditions and action.
    merged: Vec<Vec<(Vec<Cond>, u32)>>,
}

/// Where a rule goes on one ABI.
#[derive(Clone, Copy)]
enum Slot {
    /// A syscall number of the ABI.
    Nr(u32),
    /// A name the ABI lacks: libseccomp's pseudo-syscall, keyed by name id.
    Pseudo(u32),
}

impl Builder {
    /// The map a slot lives in, and its key there.
    fn slot_map(&mut self, db: usize, slot: Slot) -> (&mut Dense, u32) {
        match slot {
            Slot::Nr(nr) => (&mut self.dbs[db].1, nr),
            Slot::Pseudo(id) => (&mut self.pseudo[db], id),
        }
    }

    /// libseccomp's `db_rule_add` for one ABI.
    fn add(
        &mut self,
        db: usize,
        slot: Slot,
        conds: &[Cond],
        action: u32,
        origin: &Origin,
    ) -> Result<(), Conflict> {
        if conds.is_empty() {
            // the common case, without a tree: an unconditional rule decides its syscall
            // unless an unconditional one came first
            let (map, nr) = self.slot_map(db, slot);
            match map.get_mut(nr) {
                Some(e) if e.chains.is_none() => {}
                _ => map.insert(
                    nr,
                    Entry {
                        action,
                        chains: None,
                        origin: *origin,
                        merged: u32::MAX,
                    },
                ),
            }
            return Ok(());
        }
        let bits64 = libseccomp_bits64(self.dbs[db].0);
        let chain = self.forest.chain(conds, action, bits64);
        let merged = self.merged.len() as u32;
        let (map, nr) = self.slot_map(db, slot);
        let Some(e) = map.get_mut(nr).map(|e| *e) else {
            let entry = Entry {
                action,
                chains: chain,
                origin: *origin,
                merged,
            };
            map.insert(nr, entry);
            if chain.is_some() {
                self.merged.push(vec![(conds.to_vec(), action)]);
            }
            return Ok(());
        };
        let (new, r) = match (e.chains, chain) {
            // an unconditional decision stays, whatever comes after it
            (None, _) => return Ok(()),
            (Some(_), None) => (
                Entry {
                    action,
                    chains: None,
                    origin: *origin,
                    merged: e.merged,
                },
                Ok(()),
            ),
            (Some(root), Some(c)) => {
                let rules = &mut self.merged[e.merged as usize];
                // libseccomp's prune drops a rule that an earlier rule with the same action
                // and a subset of its conditions already covers
                if rules.iter().any(|(rc, ra)| {
                    *ra == action
                        && rc.len() < conds.len()
                        && rc.iter().all(|c| conds.iter().any(|d| same_cond(c, d)))
                }) {
                    return Ok(());
                }
                rules.push((conds.to_vec(), action));
                let mut tree = Some(root);
                let r = self.forest.add(&mut tree, c);
                (Entry { chains: tree, ..e }, r)
            }
        };
        self.slot_map(db, slot).0.insert(nr, new);
        r
    }
}

/// Build the policy runc + libseccomp would install for `r`.
pub fn build(r: &Resolved, opts: Options) -> Result<Policy, CompileError> {
    let default_action = action_value(r.default_action, r.default_errno_ret);
    if r.default_action == Action::Notify {
        return Err(CompileError::NotifyDefault);
    }
    let mut arches = vec![r.host.arch];
    for a in &r.architectures {
        if !arches.contains(a) {
            arches.push(*a);
        }
    }
    let tables = arches
        .iter()
        .map(|&a| SyscallTable::for_arch(a).map_err(CompileError::Arch))
        .collect::<Result<Vec<_>, _>>()?;
    let mut b = Builder {
        forest: Forest::default(),
        dbs: arches
            .iter()
            .zip(&tables)
            .map(|(&a, t)| {
                let (lo, hi) = t.number_range().unwrap_or((0, 0));
                // the main range only: ARM's private calls sit near 0xf0000, far above the
                // rest, and go to the side map
                (a, Dense::new(lo, ((hi - lo) as usize + 1).min(DENSE_MAX)))
            })
            .collect(),
        pseudo: arches
            .iter()
            .map(|_| Dense::new(0, NameId::count().min(DENSE_MAX)))
            .collect(),
        merged: Vec::new(),
    };
    // every name of every rule, looked up once: its id and its multiplexer call
    let ids: Vec<Vec<NameInfo>> = r
        .rules
        .iter()
        .map(|rule| {
            rule.names
                .iter()
                .map(|n| (NameId::of(n), mux_call(n)))
                .collect()
        })
        .collect();
    let by_id: Vec<_> = tables.iter().map(|t| t.numbers_by_id()).collect();
    let mux_nrs: Vec<[Option<u32>; 2]> = tables
        .iter()
        .map(|t| [t.number("socketcall"), t.number("ipc")])
        .collect();
    let mut unknown = Vec::new();
    for (ri, rule) in r.rules.iter().enumerate() {
        let action = action_value(rule.action, rule.errno_ret);
        if action == default_action {
            continue;
        }
        let mut counts = [0u32; 6];
        for a in &rule.args {
            counts[a.index.min(5) as usize] += 1;
        }
        let conds: Vec<Cond> = rule
            .args
            .iter()
            .map(|a| Cond {
                arg: a.index as u8,
                op: a.op,
                value: a.value,
                value_two: a.value_two,
            })
            .collect();
        // runc: a repeated index turns every condition into its own rule
        let groups: Vec<Vec<Cond>> = if counts.iter().any(|&c| c > 1) {
            conds.iter().map(|c| vec![*c]).collect()
        } else {
            vec![conds]
        };
        for (ni, name) in rule.names.iter().enumerate() {
            // one hash lookup per name; the tables are then asked by id
            let Some(id) = ids[ri][ni].0 else {
                if !unknown.contains(name) {
                    unknown.push(name.clone());
                }
                continue;
            };
            let origin = Origin { rule: ri, name: ni };
            let mux_any = ids[ri][ni].1;
            // asked only when some ABI lacks the name, and then once
            let mut knows = None;
            for db in 0..tables.len() {
                let arch = arches[db];
                let mux = mux_any.filter(|_| multiplexed(arch));
                for g in &groups {
                    // a transaction: if any ABI refuses the rule, runc fails
                    let fail = |c| match c {
                        Conflict::Exists => CompileError::Conflict {
                            rule: ri,
                            name: name.clone(),
                            arch,
                        },
                        Conflict::SharedNode => CompileError::SharedNode {
                            rule: ri,
                            name: name.clone(),
                            arch,
                        },
                    };
                    if let Some((mux_name, call)) = mux {
                        let mux_nr = mux_nrs[db][usize::from(mux_name == "ipc")];
                        if let Some(mux_nr) = mux_nr {
                            let mut c: Vec<Cond> =
                                g.iter().filter(|c| c.arg != 0).copied().collect();
                            c.push(Cond {
                                arg: 0,
                                op: confine_profile::Operator::EqualTo,
                                value: call,
                                value_two: 0,
                            });
                            b.add(db, Slot::Nr(mux_nr), &c, action, &origin)
                                .map_err(fail)?;
                        }
                    }
                    if let Some(nr) = by_id[db].get(id) {
                        b.add(db, Slot::Nr(nr), g, action, &origin).map_err(fail)?;
                    } else if mux.is_none()
                        && pseudo_rules(arch)
                        && *knows.get_or_insert_with(|| libseccomp_knows(id))
                    {
                        b.add(db, Slot::Pseudo(id.index()), g, action, &origin)
                            .map_err(fail)?;
                    }
                }
            }
        }
    }
    let stub = if opts.enosys_stub
        && !matches!(
            r.default_action,
            Action::Allow | Action::Log | Action::Trace
        ) {
        let flat: Vec<(Option<NameId>, bool)> = ids
            .iter()
            .flatten()
            .map(|&(id, mux)| (id, mux.is_some()))
            .collect();
        stub_thresholds(r, &flat, &arches, &by_id)
    } else {
        Vec::new()
    };
    let flags = match &r.flags {
        None => vec![Flag::SpecAllow],
        Some(f) => f.iter().copied().filter(|f| *f != Flag::Tsync).collect(),
    };
    let mut arch_policies = Vec::with_capacity(b.dbs.len());
    for (arch, map) in &b.dbs {
        let n = map.len();
        let (mut syscalls, mut origins) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (nr, e) in map.entries() {
            syscalls.push((
                nr,
                match e.chains {
                    None => Decision::Always(e.action),
                    Some(t) => Decision::Tree(t),
                },
            ));
            origins.push((nr, e.origin));
        }
        arch_policies.push(ArchPolicy {
            arch: *arch,
            bits64: libseccomp_bits64(*arch),
            origins,
            syscalls,
        });
    }
    let arches = arch_policies;
    Ok(Policy {
        default_action,
        bad_arch_action: ret::KILL_THREAD,
        arches,
        forest: b.forest,
        stub,
        flags,
        unknown_names: unknown,
    })
}

/// runc's `findLastSyscalls`: for each listed architecture, the highest number any rule names
/// (socket/IPC names do not count on multiplexing ABIs: libseccomp resolves them to negative
/// pseudo numbers there).
/// `by_id` holds the number lookups of the filter's ABIs, `arches` in the same order.
fn stub_thresholds(
    r: &Resolved,
    ids: &[(Option<NameId>, bool)],
    arches: &[Arch],
    by_id: &[NumbersById],
) -> Vec<(Arch, u32)> {
    let mut out = Vec::new();
    for &arch in &r.architectures {
        // every listed architecture is one of the filter's
        let Some(t) = arches.iter().position(|a| *a == arch).map(|i| &by_id[i]) else {
            continue;
        };
        let mux = multiplexed(arch);
        let max = ids
            .iter()
            .filter(|(_, is_mux)| !(mux && *is_mux))
            .filter_map(|(id, _)| t.get((*id)?))
            .max()
            .unwrap_or(0);
        if max != 0 && !out.iter().any(|(a, _)| *a == arch) {
            out.push((arch, max));
        }
    }
    out
}

/// What decides one (arch, nr) before arguments are looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// A fixed return value.
    Ret(u32),
    /// An argument tree of the given ABI (its unmatched outcome is the default action).
    Tree(Arch, NodeId),
}

impl Policy {
    /// The verdict for one call, computed from the policy itself (no BPF): what the installed
    /// program must return. `args` are the six 64-bit arguments.
    pub fn eval(&self, audit_arch: u32, nr: u32, args: &[u64; 6]) -> u32 {
        match self.leaf(audit_arch, nr) {
            Leaf::Ret(v) => v,
            Leaf::Tree(_, t) => self.forest.eval(t, args).unwrap_or(self.default_action),
        }
    }

    /// The decision for (arch, nr) up to the argument checks.
    pub fn leaf(&self, audit_arch: u32, nr: u32) -> Leaf {
        if let Some(v) = self.eval_stub(audit_arch, nr) {
            return Leaf::Ret(v);
        }
        // no allocation: this runs for every breakpoint of every architecture at compile time
        let dbs = || {
            self.arches
                .iter()
                .filter(move |a| a.arch.audit_arch() == audit_arch)
        };
        if dbs().next().is_none() {
            return Leaf::Ret(self.bad_arch_action);
        }
        if audit_arch == Arch::X86_64.audit_arch() {
            let has64 = dbs().any(|a| a.arch == Arch::X86_64);
            let has32 = dbs().any(|a| a.arch == Arch::X32);
            if (has64 && !has32 && nr >= X32_BIT && nr != u32::MAX)
                || (has32 && !has64 && nr < X32_BIT)
            {
                return Leaf::Ret(self.bad_arch_action);
            }
        }
        for a in dbs() {
            if let Some(d) = a.decision(nr) {
                return match d {
                    Decision::Always(v) => Leaf::Ret(v),
                    Decision::Tree(t) => Leaf::Tree(a.arch, t),
                };
            }
        }
        Leaf::Ret(self.default_action)
    }

    /// Maximal intervals of constant decision over all 2^32 numbers of `audit_arch`:
    /// `(first number, leaf)`, sorted. Equivalent to [`Policy::leaf`] at every number (the
    /// optimiser's tests check the program against `leaf`), computed without a lookup per
    /// number: the explicit entries are merged once and walked in order.
    pub fn intervals(&self, audit_arch: u32) -> Vec<(u32, Leaf)> {
        let dbs: Vec<&ArchPolicy> = self
            .arches
            .iter()
            .filter(|a| a.arch.audit_arch() == audit_arch)
            .collect();
        if dbs.is_empty() {
            return vec![(0, Leaf::Ret(self.bad_arch_action))];
        }
        let mut entries: Vec<(u32, Leaf)> =
            Vec::with_capacity(dbs.iter().map(|a| a.syscalls.len()).sum());
        for a in &dbs {
            for &(nr, d) in &a.syscalls {
                entries.push((
                    nr,
                    match d {
                        Decision::Always(v) => Leaf::Ret(v),
                        Decision::Tree(t) => Leaf::Tree(a.arch, t),
                    },
                ));
            }
        }
        // x86_64's and x32's numbers do not overlap: usually sorted already. Stable, so the
        // first architecture listing a number decides it, as in `leaf`.
        if !entries.is_sorted_by_key(|e| e.0) {
            entries.sort_by_key(|e| e.0);
        }
        entries.dedup_by_key(|e| e.0);
        // zones where the stub and the x32 split answer alike: bounded by 0, 1, the x32
        // split, the top, the stub's thresholds, and where the x32 bit flips above the split
        // (runc's stub tests the bit, so 0x80000000..0xbfffffff count as native numbers)
        let mut bounds: Vec<u32> = vec![0, 1, X32_BIT, 0x8000_0000, 0xc000_0000, u32::MAX];
        for &(a, max) in &self.stub {
            if a.audit_arch() == audit_arch {
                bounds.extend(max.checked_add(1));
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let stub = Stub::of(self, audit_arch);
        // which half of x86_64's numbers has no ABI in the filter (bad-arch action there)
        let (mut has64, mut has32) = (false, false);
        if audit_arch == Arch::X86_64.audit_arch() {
            has64 = dbs.iter().any(|a| a.arch == Arch::X86_64);
            has32 = dbs.iter().any(|a| a.arch == Arch::X32);
        }
        let default = Leaf::Ret(self.default_action);
        let mut out: Vec<(u32, Leaf)> = Vec::with_capacity(2 * entries.len() + bounds.len());
        let mut push = |start: u32, leaf: Leaf| {
            if out.last().is_none_or(|(_, l)| *l != leaf) {
                out.push((start, leaf));
            }
        };
        let mut next = 0;
        for (z, &lo) in bounds.iter().enumerate() {
            // the zone is [lo, hi]
            let hi = bounds.get(z + 1).map_or(u32::MAX, |b| b - 1);
            let fixed = if let Some(v) = stub.at(lo) {
                Some(v)
            } else if (has64 && !has32 && lo >= X32_BIT && lo != u32::MAX)
                || (has32 && !has64 && lo < X32_BIT)
            {
                Some(self.bad_arch_action)
            } else {
                None
            };
            while next < entries.len() && entries[next].0 < lo {
                next += 1;
            }
            if let Some(v) = fixed {
                push(lo, Leaf::Ret(v));
                continue;
            }
            if entries.get(next).is_none_or(|e| e.0 != lo) {
                push(lo, default);
            }
            // each entry, and the default after it unless the next number is listed too
            while let Some(&(nr, leaf)) = entries.get(next).filter(|e| e.0 <= hi) {
                push(nr, leaf);
                next += 1;
                if nr < hi && entries.get(next).is_none_or(|e| e.0 != nr + 1) {
                    push(nr + 1, default);
                }
            }
        }
        out
    }

    /// Whether libseccomp 2.5.4's program for (arch, nr) may compare a stale accumulator (see
    /// [`Forest::libseccomp_stale_hazard`]).
    pub fn libseccomp_hazard(&self, audit_arch: u32, nr: u32) -> bool {
        self.arches
            .iter()
            .filter(|a| a.arch.audit_arch() == audit_arch)
            .filter_map(|a| a.decision(nr))
            .any(|d| matches!(d, Decision::Tree(t) if self.forest.libseccomp_stale_hazard(t)))
    }

    /// runc's stub alone: `Some(ENOSYS)` when it answers.
    pub fn eval_stub(&self, audit_arch: u32, nr: u32) -> Option<u32> {
        Stub::of(self, audit_arch).at(nr)
    }
}

/// runc's stub for one audit architecture, its thresholds looked up once.
#[derive(Clone, Copy)]
enum Stub {
    /// No stub for this architecture.
    None,
    /// x86_64's audit value, shared by x86_64 and x32: a threshold for each half.
    X86_64 {
        native: Option<u32>,
        x32: Option<u32>,
    },
    /// Numbers above `max` get ENOSYS (and 0 too on s390/s390x, as runc's stub does).
    Max { max: u32, zero: bool },
}

impl Stub {
    fn of(p: &Policy, audit_arch: u32) -> Stub {
        let mut mine = p.stub.iter().filter(|(a, _)| a.audit_arch() == audit_arch);
        let Some(&(first, first_max)) = mine.next() else {
            return Stub::None;
        };
        if audit_arch == Arch::X86_64.audit_arch() {
            // the first entry of each ABI counts
            let of = |want: Arch| p.stub.iter().find(|(a, _)| *a == want).map(|e| e.1);
            Stub::X86_64 {
                native: of(Arch::X86_64),
                x32: of(Arch::X32),
            }
        } else {
            Stub::Max {
                max: first_max,
                zero: matches!(first, Arch::S390 | Arch::S390x),
            }
        }
    }

    fn at(self, nr: u32) -> Option<u32> {
        let max = match self {
            Stub::None => return None,
            Stub::X86_64 { native, x32 } => match (native, x32, nr & X32_BIT != 0) {
                (_, Some(m), true) => m,
                (Some(m), _, false) => m,
                _ => return None,
            },
            Stub::Max { zero: true, .. } if nr == 0 => return Some(RET_ENOSYS),
            Stub::Max { max, .. } => max,
        };
        (nr > max).then_some(RET_ENOSYS)
    }
}
