//! What is judged: a stack of filters, asked about concrete calls (the emulator) and about
//! the paths a call can take (the explorer, cached per ABI and number).

use crate::solve::satisfy;
use crate::{runs, Example, Profiled};
use confine_abi::{Arch, SyscallTable};
use confine_bpf::explore::{Cond, Field, Limit};
use confine_bpf::stack::{Stack, Verdict};
use confine_profile::KernelVersion;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// What is judged: a stack of filters for a native architecture and kernel.
pub struct Target<'a> {
    /// The filters (a process's, oldest first, or one compiled program).
    pub stack: Stack<'a>,
    /// The native architecture: its ABIs are the ones judged.
    pub native: Arch,
    /// The kernel the filters run on (some findings depend on it).
    pub kernel: KernelVersion,
    /// The profile the program was compiled from, when there is one.
    pub profile: Option<Profiled<'a>>,
    verdicts: RefCell<HashMap<(Arch, u32), Rc<Verdict>>>,
}

impl<'a> Target<'a> {
    /// A target for `stack` on `native` and `kernel`, with the `profile` it came from.
    pub fn new(
        stack: Stack<'a>,
        native: Arch,
        kernel: KernelVersion,
        profile: Option<Profiled<'a>>,
    ) -> Self {
        Target {
            stack,
            native,
            kernel,
            profile,
            verdicts: RefCell::default(),
        }
    }

    /// The number of `name` on `abi`, when the ABI has the call.
    pub fn number(abi: Arch, name: &str) -> Option<u32> {
        SyscallTable::for_arch(abi).ok()?.number(name)
    }

    /// What the stack decides for `nr` on `abi`, arguments unknown (explored once).
    pub fn verdict(&self, abi: Arch, nr: u32) -> Rc<Verdict> {
        if let Some(v) = self.verdicts.borrow().get(&(abi, nr)) {
            return v.clone();
        }
        let v = Rc::new(self.stack.verdict(abi, nr));
        self.verdicts.borrow_mut().insert((abi, nr), v.clone());
        v
    }

    /// What the filters return for one concrete call.
    pub fn eval(&self, abi: Arch, nr: u32, args: &[u64; 6]) -> u32 {
        self.stack.eval_args(abi, nr, args)
    }

    /// An example of one concrete call.
    pub fn example(&self, abi: Arch, name: &str, nr: u32, args: [u64; 6]) -> Example {
        Example {
            abi,
            syscall: name.to_string(),
            nr,
            args,
            ret: self.eval(abi, nr, &args),
        }
    }

    /// Argument vectors that reach the running paths of `nr` on `abi`, checked on the whole
    /// stack; empty when no solvable path runs (see [`Target::undecided`] for whether that
    /// means refused).
    pub fn witnesses(&self, abi: Arch, nr: u32) -> Vec<[u64; 6]> {
        self.points_where(abi, nr, &[], true)
            .into_iter()
            .filter(|a| runs(self.eval(abi, nr, a)))
            .collect()
    }

    /// One argument vector that makes `nr` on `abi` run, if any.
    pub fn witness(&self, abi: Arch, nr: u32) -> Option<[u64; 6]> {
        self.witness_with(abi, nr, &[])
    }

    /// One argument vector that makes `nr` on `abi` run and meets `extra` too (e.g. a flag
    /// bit set), if the explorer's paths give one.
    pub fn witness_with(&self, abi: Arch, nr: u32, extra: &[Cond]) -> Option<[u64; 6]> {
        if let Verdict::Fixed(r) = *self.verdict(abi, nr) {
            if !runs(r) {
                return None;
            }
            return satisfy(extra, abi.args64()).filter(|a| runs(self.eval(abi, nr, a)));
        }
        self.points_where(abi, nr, extra, true)
            .into_iter()
            .find(|a| runs(self.eval(abi, nr, a)))
    }

    /// One argument vector per path of `nr` on `abi` (only the running ones with
    /// `running`), each meeting `extra` too; all zero when the verdict is fixed.
    fn points_where(&self, abi: Arch, nr: u32, extra: &[Cond], running: bool) -> Vec<[u64; 6]> {
        match &*self.verdict(abi, nr) {
            Verdict::Fixed(r) => {
                if running && !runs(*r) {
                    Vec::new()
                } else {
                    satisfy(extra, abi.args64()).into_iter().collect()
                }
            }
            // no path is known: the undecided check reports it
            Verdict::Undecided(_) => Vec::new(),
            Verdict::Depends(paths) => {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                for (ret, conds) in paths.iter() {
                    // a computed return value may run: try its path too
                    if running && ret.is_some_and(|r| !runs(r)) {
                        continue;
                    }
                    let all: Vec<Cond> = conds.iter().chain(extra).copied().collect();
                    if let Some(args) = satisfy(&all, abi.args64()) {
                        if seen.insert(args) {
                            out.push(args);
                        }
                    }
                }
                out
            }
        }
    }

    /// One argument vector per path of `nr` on `abi`, whatever it returns.
    pub fn points(&self, abi: Arch, nr: u32) -> Vec<[u64; 6]> {
        self.points_where(abi, nr, &[], false)
    }

    /// Why lint cannot tell whether `nr` on `abi` runs for some arguments, when a path it
    /// could not solve may run: the program returns a computed value, tests a computed value
    /// or the instruction pointer, has more paths than the explorer follows, or has a
    /// running path whose conditions no candidate meets. `None` when every path is solved
    /// or cannot run.
    pub fn undecided(&self, abi: Arch, nr: u32) -> Option<&'static str> {
        let v = self.verdict(abi, nr);
        let paths = match &*v {
            Verdict::Fixed(_) => return None,
            Verdict::Undecided(Limit::Paths) => {
                return Some("it has more paths than the explorer follows")
            }
            Verdict::Undecided(Limit::Work) => {
                return Some("it is too complex to decode within the explorer's work bound")
            }
            Verdict::Depends(paths) => paths,
        };
        for (ret, conds) in paths.iter() {
            if ret.is_some_and(|r| !runs(r)) {
                continue;
            }
            if ret.is_none() {
                return Some("a path returns a computed value");
            }
            if conds.iter().any(|c| c.field.is_none()) {
                return Some("a running path tests a computed value");
            }
            if conds
                .iter()
                .any(|c| matches!(c.field, Some(Field::Ip { .. })))
            {
                if satisfy(conds, abi.args64()).is_none() {
                    return Some("a running path tests the instruction pointer");
                }
                continue;
            }
            if satisfy(conds, abi.args64()).is_none() {
                return Some("a running path has conditions lint could not solve");
            }
        }
        None
    }

    /// The constants the filters compare argument `arg`'s low word with for `nr` on `abi`.
    pub fn constants(&self, abi: Arch, nr: u32, arg: u8) -> Vec<u32> {
        let mut out = Vec::new();
        if let Verdict::Depends(paths) = &*self.verdict(abi, nr) {
            for c in paths.iter().flat_map(|p| &p.1) {
                if c.field == Some(Field::Arg { n: arg, hi: false }) && !out.contains(&c.k) {
                    out.push(c.k);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The profile's rule that decides `nr` on `abi` with `args`, as `seccomp eval` explains
    /// it; `None` without a profile.
    pub fn rule(&self, abi: Arch, nr: u32, args: &[u64; 6]) -> Option<String> {
        let p = self.profile?;
        let name = SyscallTable::for_arch(abi).ok()?.name_of(nr);
        let why = confine_seccomp::explain::explain(p.policy, p.resolved, abi, nr, name, args);
        Some(why.to_string())
    }

    /// The ABIs judged: the native one first, then the others its kernel runs.
    pub fn abis(&self) -> &'static [Arch] {
        self.native.abis()
    }
}
