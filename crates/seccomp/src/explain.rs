//! Which rule of a profile decided a call: the explanation `seccomp eval` prints next to a
//! verdict.

use crate::policy::{Leaf, Policy};
use confine_abi::Arch;
use confine_profile::{Action, Resolved};
use std::fmt;

/// A rule as the explanation names it: its index in the source profile, its action and how
/// many argument conditions it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    /// The rule's index in the source profile's `syscalls`.
    pub index: usize,
    /// Its action.
    pub action: Action,
    /// How many argument conditions it has.
    pub conditions: usize,
}

/// What decided one call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Why {
    /// runc's -ENOSYS stub: the number is above the highest the profile names.
    Stub,
    /// An argument tree decided: the rules that name the call and whether one of their
    /// argument checks held (otherwise the default action applies).
    Arguments {
        /// Every rule that names the syscall (several may meet in one tree).
        rules: Vec<RuleRef>,
        /// Whether an argument check held.
        matched: bool,
    },
    /// One rule decided whatever the arguments.
    Rule {
        /// The rule.
        rule: RuleRef,
        /// The name under which it named the call.
        name: String,
    },
    /// No rule names the call: the default action.
    Default,
    /// The ABI is not one of the filter's architectures: the bad-architecture action.
    BadArch,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}", self.index, self.action)?;
        if self.conditions > 0 {
            write!(f, ", {} condition(s)", self.conditions)?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |rules: &[RuleRef]| {
            rules
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Why::Stub => f.write_str(
                "runc's -ENOSYS stub: the number is above the highest the profile names",
            ),
            Why::Arguments {
                rules,
                matched: true,
            } => write!(f, "the argument checks of rule(s) {}", list(rules)),
            Why::Arguments {
                rules,
                matched: false,
            } => write!(
                f,
                "the default action: no argument condition of rule(s) {} holds",
                list(rules)
            ),
            Why::Rule { rule, name } => write!(f, "rule {} ({name}): {}", rule.index, rule.action),
            Why::Default => f.write_str("no rule names it: the default action"),
            Why::BadArch => f.write_str(
                "the ABI is not one of the filter's architectures: the bad-architecture action",
            ),
        }
    }
}

/// Why `policy` (compiled from `resolved`) decides syscall `nr`, named `name` when the ABI
/// knows it, with arguments `args` on `arch` as it does.
pub fn explain(
    policy: &Policy,
    resolved: &Resolved,
    arch: Arch,
    nr: u32,
    name: Option<&str>,
    args: &[u64; 6],
) -> Why {
    if !policy.arches.iter().any(|a| a.arch == arch) {
        return Why::BadArch;
    }
    let audit = arch.audit_arch();
    if policy.eval_stub(audit, nr).is_some() {
        return Why::Stub;
    }
    let rule_ref = |i: usize| {
        let r = &resolved.rules[i];
        RuleRef {
            index: r.source_index,
            action: r.action,
            conditions: r.args.len(),
        }
    };
    match policy.leaf(audit, nr) {
        Leaf::Tree(_, tree) => Why::Arguments {
            rules: resolved
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| name.is_some_and(|n| r.names.iter().any(|x| x == n)))
                .map(|(i, _)| rule_ref(i))
                .collect(),
            matched: policy.forest.eval(tree, args).is_some(),
        },
        Leaf::Ret(_) => match policy.origin(arch, nr) {
            Some(o) => Why::Rule {
                rule: rule_ref(o.rule),
                name: resolved.rules[o.rule].names[o.name].clone(),
            },
            None => Why::Default,
        },
    }
}

/// Whether the decision of `nr` on `arch` depends on the arguments.
pub fn depends_on_arguments(policy: &Policy, arch: Arch, nr: u32) -> bool {
    matches!(policy.leaf(arch.audit_arch(), nr), Leaf::Tree(..))
}
