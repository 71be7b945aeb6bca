//! From a resolved profile to per-architecture syscall decisions, exactly as runc builds its
//! libseccomp filter (libcontainer/seccomp/seccomp_linux.go) and as libseccomp merges the rules
//! (see [`super::tree`]), plus the thresholds of runc's `-ENOSYS` stub (see [`super::stub`]).
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

use crate::stub;
use crate::tree::{Cond, Conflict, Forest, NodeId};
pub use crate::verdict::Leaf;
use crate::CompileError;
use confine_abi::mux::mux_call;
use confine_abi::syscalls::NameId;
use confine_abi::{Arch, SyscallTable};
use confine_bpf::action::Ret;
use confine_profile::{Action, Flag, Resolved};
use std::collections::BTreeMap;

pub use crate::stub::RET_ENOSYS;

/// Options that change what is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Prepend runc's `-ENOSYS` stub (default on, like runc).
    pub enosys_stub: bool,
    /// How argument conditions are compared.
    pub arg_width: ArgWidth,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            enosys_stub: true,
            arg_width: ArgWidth::Faithful,
        }
    }
}

/// How much of an argument a condition compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ArgWidth {
    /// All 64 bits of the register on 64-bit ABIs, as libseccomp and runc do (Docker's
    /// behaviour, and the default).
    #[default]
    Faithful,
    /// Only what the kernel reads: for an argument whose type is narrower than 64 bits
    /// (`confine_abi::argtypes`), the high word compared is the one the natural register value
    /// of its low 32 bits has (their sign extension for a signed type, 0 otherwise), not the
    /// register's: the program decides every call as the faithful one decides the value the
    /// kernel reads, so a high half cannot get a refused value through.
    Kernel,
}

/// What one syscall does on one ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The same action whatever the arguments.
    Always(Ret),
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
    pub default_action: Ret,
    /// Action for an architecture outside the filter (libseccomp's default: KILL_THREAD).
    pub bad_arch_action: Ret,
    /// The filter's architectures, native first.
    pub arches: Vec<ArchPolicy>,
    /// The argument trees.
    pub forest: Forest,
    /// runc's stub (see [`crate::stub`]): per listed architecture, the highest syscall number
    /// the profile names.
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
pub fn action_value(action: Action, errno: Option<u32>) -> Ret {
    // the kernel keeps the low 16 bits
    let data = |d: Option<u32>| d.unwrap_or(1) as u16;
    match action {
        Action::Kill | Action::KillThread => Ret::KillThread,
        Action::KillProcess => Ret::KillProcess,
        Action::Trap => Ret::Trap(0),
        Action::Errno => Ret::Errno(data(errno)),
        Action::Trace => Ret::Trace(data(errno)),
        Action::Allow => Ret::Allow,
        Action::Log => Ret::Log,
        Action::Notify => Ret::Notify,
    }
}

/// The conditions of one rule for syscall `nr` of `arch` in kernel mode: those on an
/// argument the kernel reads narrower than 64 bits take its high word from its low word (the
/// natural register value of the 32 bits the kernel reads), never from the register. A
/// value (or a mask) whose high half is neither 0 nor the sign extension of its low half
/// means nothing to the kernel there: `Err((arg, value))`.
fn narrowed(conds: &[Cond], arch: Arch, nr: u32) -> Result<Vec<Cond>, (u8, u64)> {
    let meaningful = |v: u64| {
        let hi = (v >> 32) as u32;
        hi == 0 || (hi == u32::MAX && v & 0x8000_0000 != 0)
    };
    conds
        .iter()
        .map(|c| {
            let mut c = *c;
            if let Some(t) = confine_abi::argtypes::arg_type(arch, nr, c.arg).filter(|t| t.narrow())
            {
                let values: &[u64] = if c.op == confine_profile::Operator::MaskedEqual {
                    &[c.value, c.value_two]
                } else {
                    &[c.value]
                };
                if let Some(&bad) = values.iter().find(|&&v| !meaningful(v)) {
                    return Err((c.arg, bad));
                }
                c.narrow = Some(t.signed);
            }
            Ok(c)
        })
        .collect()
}

/// Whether libseccomp 2.5.4 adds a rule whose name the ABI lacks to a pseudo-syscall tree
/// there: on every ABI without its own rule hook (the hooks of the multiplexing ABIs drop such
/// rules). Found by probing: two conflicting `ipc` rules on an x86_64-only filter fail with
/// EEXIST, on x86 they do not.
fn pseudo_rules(arch: Arch) -> bool {
    !arch.multiplexed()
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
    action: Ret,
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
    merged: Vec<Vec<(Vec<Cond>, Ret)>>,
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
        action: Ret,
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
        let bits64 = self.dbs[db].0.libseccomp_word64();
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
                let total: usize = rules.iter().map(|(rc, _)| rc.len()).sum();
                if total + conds.len() > crate::MAX_CONDITIONS_PER_SYSCALL {
                    return Err(Conflict::TooMany);
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
                narrow: None,
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
                let mux = mux_any.filter(|_| arch.multiplexed());
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
                        Conflict::TooMany => CompileError::TooManyConditions {
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
                                narrow: None,
                            });
                            b.add(db, Slot::Nr(mux_nr), &c, action, &origin)
                                .map_err(fail)?;
                        }
                    }
                    if let Some(nr) = by_id[db].get(id) {
                        if opts.arg_width == ArgWidth::Kernel && arch.args64() {
                            let g = narrowed(g, arch, nr).map_err(|(arg, value)| {
                                CompileError::ArgWidth {
                                    rule: ri,
                                    name: name.clone(),
                                    arch,
                                    arg,
                                    value,
                                }
                            })?;
                            b.add(db, Slot::Nr(nr), &g, action, &origin).map_err(fail)?;
                            continue;
                        }
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
    let stub = if opts.enosys_stub && stub::wanted(r.default_action) {
        let flat: Vec<(Option<NameId>, bool)> = ids
            .iter()
            .flatten()
            .map(|&(id, mux)| (id, mux.is_some()))
            .collect();
        stub::thresholds(r, &flat, &arches, &by_id)
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
            bits64: arch.libseccomp_word64(),
            origins,
            syscalls,
        });
    }
    let arches = arch_policies;
    Ok(Policy {
        default_action,
        bad_arch_action: Ret::KillThread,
        arches,
        forest: b.forest,
        stub,
        flags,
        unknown_names: unknown,
    })
}
