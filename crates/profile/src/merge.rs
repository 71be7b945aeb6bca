//! The union of several profiles of one program (for example several recordings): every
//! syscall one of them allows, the merged profile allows.
//!
//! The inputs must share `defaultAction` (with its errno), `listenerPath` and
//! `listenerMetadata`: a union of profiles that deny differently has no meaning. They must be
//! resolved (no `archMap`, `includes` or `excludes`), since which of those rules apply depends
//! on a host.
//!
//! Per syscall, over all inputs:
//! * an unconditional ALLOW anywhere makes it one unconditional ALLOW: conditional ALLOW rules
//!   are covered by it, other actions lose to it (both reported as [`Widening`]s);
//! * otherwise its conditional ALLOW rules are kept (identical ones once), and its other rules
//!   are dropped, since an unconditional rule would decide the syscall alone (reported);
//! * otherwise (nothing allows it) its unconditional rule is kept, or else its conditional
//!   rules; two different unconditional actions are an error ([`MergeError::Conflict`]).
//!
//! The result is stable: names sorted within a rule; the unconditional ALLOW rule first, then
//! conditional ALLOW rules by name and arguments, then the other actions in [`Action`] order.

use crate::json::LineIndex;
use crate::model::{Action, Arg, Filter, Flag, Format, Operator, Profile, Rule};
use confine_abi::Arch;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One profile to merge, with what its errors are located with.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The name used in messages (the path, `-`, `builtin:docker-default`).
    pub label: &'a str,
    /// The parsed profile.
    pub profile: &'a Profile,
    /// The source's line index, to locate rules.
    pub lines: &'a LineIndex,
}

impl Input<'_> {
    fn at(&self, offset: usize) -> String {
        let p = self.lines.pos(offset);
        format!("{}:{}:{}", self.label, p.line, p.col)
    }
}

/// Why profiles cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Fewer than two profiles.
    #[error("merging needs at least 2 profiles, {0} given")]
    TooFew(usize),
    /// Two inputs differ in a profile-wide setting.
    #[error("{first}: {key} is {a}, but {second}: {key} is {b}; a union of profiles that differ in {key} is not meaningful")]
    Differs {
        /// The setting (`defaultAction`, `listenerPath`, `listenerMetadata`).
        key: &'static str,
        /// The first input.
        first: String,
        /// Its value.
        a: String,
        /// The input that differs.
        second: String,
        /// Its value.
        b: String,
    },
    /// An input is not resolved for a host.
    #[error("{at}: {what}: merge takes resolved profiles; resolve it for the host first (confine seccomp resolve -o FILE)")]
    Unresolved {
        /// file:line:col.
        at: String,
        /// What needs a host (`archMap`, rule N (name) has includes/excludes).
        what: String,
    },
    /// A syscall that no input allows is given two different actions.
    #[error("{at}: {syscall} is {a}, but {other}: {syscall} is {b}; no input allows it, so the union cannot choose")]
    Conflict {
        /// The syscall.
        syscall: String,
        /// file:line:col of the first rule.
        at: String,
        /// Its action.
        a: String,
        /// file:line:col of the other rule.
        other: String,
        /// Its action.
        b: String,
    },
}

/// How the merge allows more than an input did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WideningKind {
    /// A conditional ALLOW rule became unconditional: another input allows the syscall with
    /// any arguments.
    Covered,
    /// Another action (ERRNO, KILL, LOG, …) lost to an ALLOW of another input.
    AllowWins,
}

/// A rule of an input that the merge replaced by a wider ALLOW.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Widening {
    /// The syscall.
    pub syscall: String,
    /// How.
    pub kind: WideningKind,
    /// Where the narrower rule is (file:line:col).
    pub rule: String,
    /// What it said: the action, and its conditions.
    pub was: String,
    /// Where the ALLOW that replaced it is (file:line:col).
    pub allowed_by: String,
    /// Whether that ALLOW has conditions (for some arguments only).
    pub conditional: bool,
}

/// The merged profile and what it widened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// The union, in the stable order.
    pub profile: Profile,
    /// Rules replaced by a wider ALLOW, sorted.
    pub widenings: Vec<Widening>,
}

impl Merged {
    /// Every syscall some rule of the merged profile names, sorted.
    pub fn syscalls(&self) -> Vec<&str> {
        self.names(|_| true)
    }

    /// The syscalls the merged profile allows with any arguments, sorted.
    pub fn allowed(&self) -> Vec<&str> {
        self.names(|r| r.action == Action::Allow && r.args.is_empty())
    }

    /// The syscalls the merged profile allows for some arguments only, sorted.
    pub fn allowed_conditionally(&self) -> Vec<&str> {
        self.names(|r| r.action == Action::Allow && !r.args.is_empty())
    }

    fn names(&self, keep: impl Fn(&Rule) -> bool) -> Vec<&str> {
        let set: BTreeSet<&str> = (self.profile.syscalls.iter().filter(|r| keep(r)))
            .flat_map(|r| r.names.iter().map(String::as_str))
            .collect();
        set.into_iter().collect()
    }
}

/// An action with the errno runc uses for it: EPERM when ERRNO or TRACE have no `errnoRet`,
/// none for the actions that ignore it.
type Key = (Action, Option<u32>);

fn key(action: Action, errno: Option<u32>) -> Key {
    (action, action.takes_errno().then(|| errno.unwrap_or(1)))
}

fn spell((action, errno): Key) -> String {
    match errno {
        Some(e) => format!("{action}({})", errno_words(e)),
        None => action.to_string(),
    }
}

fn errno_words(e: u32) -> String {
    match u16::try_from(e).ok().and_then(confine_abi::errno::name) {
        Some(n) => n.to_string(),
        None => e.to_string(),
    }
}

/// Conditions in a canonical order (they are ANDed, or ORed when an index repeats: either way
/// their order means nothing).
fn sorted_args(args: &[Arg]) -> Vec<Arg> {
    let mut v = args.to_vec();
    v.sort_by_key(arg_key);
    v
}

/// A condition as a sortable value: index, value, valueTwo, operator.
type ArgKey = (u32, u64, u64, Operator);

fn arg_key(a: &Arg) -> ArgKey {
    (a.index, a.value, a.value_two, a.op)
}

fn args_key(args: &[Arg]) -> Vec<ArgKey> {
    args.iter().map(arg_key).collect()
}

/// One name of one rule of one input.
struct Use {
    key: Key,
    args: Vec<Arg>,
    at: String,
}

/// Merge `inputs` (at least two) into their union.
pub fn merge(inputs: &[Input<'_>]) -> Result<Merged, MergeError> {
    let [first, rest @ ..] = inputs else {
        return Err(MergeError::TooFew(0));
    };
    if rest.is_empty() {
        return Err(MergeError::TooFew(1));
    }
    let fp = first.profile;
    let default_key = |p: &Profile| p.default_action.map(|a| key(a, p.default_errno_ret));
    let words = |v: Option<String>| v.map_or("absent".to_string(), |s| format!("`{s}`"));
    for other in rest {
        let p = other.profile;
        let differs = |key: &'static str, a: String, b: String| MergeError::Differs {
            key,
            first: first.label.to_string(),
            a,
            second: other.label.to_string(),
            b,
        };
        if default_key(fp) != default_key(p) {
            let w = |p: &Profile| words(default_key(p).map(spell));
            return Err(differs("defaultAction", w(fp), w(p)));
        }
        if fp.listener_path != p.listener_path {
            let (a, b) = (fp.listener_path.clone(), p.listener_path.clone());
            return Err(differs("listenerPath", words(a), words(b)));
        }
        if fp.listener_metadata != p.listener_metadata {
            let (a, b) = (fp.listener_metadata.clone(), p.listener_metadata.clone());
            return Err(differs("listenerMetadata", words(a), words(b)));
        }
    }
    let mut uses: BTreeMap<&str, Vec<Use>> = BTreeMap::new();
    for input in inputs {
        if !input.profile.arch_map.is_empty() {
            return Err(MergeError::Unresolved {
                at: input.at(0),
                what: "the profile has an archMap".into(),
            });
        }
        for (i, rule) in input.profile.syscalls.iter().enumerate() {
            if !rule.includes.is_empty() || !rule.excludes.is_empty() {
                let name = rule.names.first().map_or("", String::as_str);
                return Err(MergeError::Unresolved {
                    at: input.at(rule.at),
                    what: format!("rule {i} ({name}) has includes or excludes"),
                });
            }
            for name in rule.names.iter().filter(|n| !n.is_empty()) {
                uses.entry(name).or_default().push(Use {
                    key: key(rule.action, rule.errno_ret),
                    args: sorted_args(&rule.args),
                    at: input.at(rule.at),
                });
            }
        }
    }
    let mut out = Out::default();
    for (name, uses) in &uses {
        out.syscall(name, uses)?;
    }
    let architectures: Vec<Arch> = inputs
        .iter()
        .flat_map(|i| i.profile.architectures.iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let flags = inputs.iter().any(|i| i.profile.flags.is_some()).then(|| {
        // an input without flags gets SPEC_ALLOW from runc: the union keeps it
        let set: BTreeSet<Flag> = inputs
            .iter()
            .flat_map(|i| match &i.profile.flags {
                Some(f) => f.clone(),
                None => vec![Flag::SpecAllow],
            })
            .collect();
        set.into_iter().collect()
    });
    let default_action = fp.default_action;
    out.widenings.sort();
    out.widenings.dedup();
    Ok(Merged {
        profile: Profile {
            default_action,
            // written when any input writes it, so that the order of the inputs does not matter
            default_errno_ret: default_key(fp)
                .and_then(|(_, e)| e)
                .filter(|_| inputs.iter().any(|i| i.profile.default_errno_ret.is_some())),
            architectures,
            arch_map: Vec::new(),
            flags,
            listener_path: fp.listener_path.clone(),
            listener_metadata: fp.listener_metadata.clone(),
            syscalls: out.rules(),
            format: Format::Docker,
        },
        widenings: out.widenings,
    })
}

/// The merged rules being collected: names per (action, conditions).
#[derive(Default)]
struct Out {
    unconditional: BTreeMap<Key, BTreeSet<String>>,
    conditional: BTreeMap<(Key, Vec<ArgKey>), Cond>,
    widenings: Vec<Widening>,
}

struct Cond {
    args: Vec<Arg>,
    names: BTreeSet<String>,
}

impl Out {
    fn keep(&mut self, name: &str, u: &Use) {
        if u.args.is_empty() {
            self.unconditional
                .entry(u.key)
                .or_default()
                .insert(name.to_string());
        } else {
            self.conditional
                .entry((u.key, args_key(&u.args)))
                .or_insert_with(|| Cond {
                    args: u.args.clone(),
                    names: BTreeSet::new(),
                })
                .names
                .insert(name.to_string());
        }
    }

    fn widen(&mut self, name: &str, u: &Use, by: &Use) {
        let kind = if u.key.0 == Action::Allow {
            WideningKind::Covered
        } else {
            WideningKind::AllowWins
        };
        let was = match u.args.len() {
            0 => spell(u.key),
            n => format!("{} with {n} condition(s)", spell(u.key)),
        };
        self.widenings.push(Widening {
            syscall: name.to_string(),
            kind,
            rule: u.at.clone(),
            was,
            allowed_by: by.at.clone(),
            conditional: !by.args.is_empty(),
        });
    }

    /// Decide one syscall from every rule that names it.
    fn syscall(&mut self, name: &str, uses: &[Use]) -> Result<(), MergeError> {
        let allows = |u: &&Use| u.key.0 == Action::Allow;
        if let Some(by) = uses.iter().find(|u| allows(u) && u.args.is_empty()) {
            self.keep(name, by);
            for u in uses.iter().filter(|u| !(allows(u) && u.args.is_empty())) {
                self.widen(name, u, by);
            }
        } else if let Some(by) = uses.iter().find(allows) {
            for u in uses {
                if allows(&u) {
                    self.keep(name, u);
                } else {
                    self.widen(name, u, by);
                }
            }
        } else {
            let mut unconditional = uses.iter().filter(|u| u.args.is_empty());
            let Some(a) = unconditional.next() else {
                uses.iter().for_each(|u| self.keep(name, u));
                return Ok(());
            };
            if let Some(b) = unconditional.find(|b| b.key != a.key) {
                return Err(MergeError::Conflict {
                    syscall: name.to_string(),
                    at: a.at.clone(),
                    a: spell(a.key),
                    other: b.at.clone(),
                    b: spell(b.key),
                });
            }
            // an unconditional rule decides its syscall alone: conditional ones would be dead
            self.keep(name, a);
        }
        Ok(())
    }

    /// The rules in the stable order: unconditional ALLOW, conditional ALLOW by name and
    /// arguments, then per other action its unconditional rule and its conditional ones.
    fn rules(&self) -> Vec<Rule> {
        let rule = |(action, errno_ret): Key, names: &BTreeSet<String>, args: Vec<Arg>| Rule {
            names: names.iter().cloned().collect(),
            action,
            errno_ret,
            args,
            comment: None,
            includes: Filter::default(),
            excludes: Filter::default(),
            at: 0,
        };
        let mut keys: Vec<Key> = self.unconditional.keys().copied().collect();
        keys.extend(self.conditional.keys().map(|(k, _)| *k));
        keys.sort_by_key(|k| (k.0 != Action::Allow, *k));
        keys.dedup();
        let mut out = Vec::new();
        for k in keys {
            if let Some(names) = self.unconditional.get(&k) {
                out.push(rule(k, names, Vec::new()));
            }
            let mut cond: Vec<&Cond> = (self.conditional.iter())
                .filter(|((ck, _), _)| *ck == k)
                .map(|(_, c)| c)
                .collect();
            cond.sort_by(|a, b| {
                (a.names.first(), args_key(&a.args)).cmp(&(b.names.first(), args_key(&b.args)))
            });
            out.extend(cond.into_iter().map(|c| rule(k, &c.names, c.args.clone())));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_profile, Parsed};

    fn parse(label: &str, text: &str) -> Parsed {
        let p = parse_profile(text.as_bytes(), label);
        assert!(p.profile.is_some(), "{:?}", p.diagnostics);
        p
    }

    fn merged(texts: &[&str]) -> Result<Merged, MergeError> {
        let parsed: Vec<(String, Parsed)> = (texts.iter().enumerate())
            .map(|(i, t)| {
                let label = format!("{}.json", (b'a' + i as u8) as char);
                let p = parse(&label, t);
                (label, p)
            })
            .collect();
        let inputs: Vec<Input> = (parsed.iter())
            .map(|(label, p)| Input {
                label,
                profile: p.profile.as_ref().unwrap(),
                lines: &p.lines,
            })
            .collect();
        merge(&inputs)
    }

    fn json(m: &Merged) -> serde_json::Value {
        serde_json::from_str(&crate::emit::profile_to_json(&m.profile)).unwrap()
    }

    const A: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            {"names": ["write", "read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}"#;
    const B: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64"],
        "syscalls": [
            {"names": ["getpid", "write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality", "clone3"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["kill"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#;

    #[test]
    fn unconditional_allows_become_one_sorted_rule() {
        let m = merged(&[A, B]).unwrap();
        let v = json(&m);
        assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(
            v["architectures"],
            serde_json::json!(["SCMP_ARCH_X86", "SCMP_ARCH_X86_64"]),
            "sorted in confine-abi's order"
        );
        let rules = v["syscalls"].as_array().unwrap();
        assert_eq!(
            rules[0],
            serde_json::json!({"names": ["clone3", "getpid", "personality", "read", "write"],
                "action": "SCMP_ACT_ALLOW"})
        );
        assert_eq!(rules[1]["names"], serde_json::json!(["kill"]));
        assert_eq!(rules.len(), 2);
        assert_eq!(m.allowed().len(), 5);
        assert_eq!(m.allowed_conditionally(), ["kill"]);
    }

    #[test]
    fn widenings_are_reported() {
        let m = merged(&[A, B]).unwrap();
        let w: Vec<(&str, WideningKind, &str)> = (m.widenings.iter())
            .map(|w| (w.syscall.as_str(), w.kind, w.was.as_str()))
            .collect();
        assert_eq!(
            w,
            [
                ("clone3", WideningKind::AllowWins, "SCMP_ACT_ERRNO(ENOSYS)"),
                (
                    "personality",
                    WideningKind::Covered,
                    "SCMP_ACT_ALLOW with 1 condition(s)"
                ),
            ]
        );
        assert!(m.widenings[0].rule.starts_with("a.json:"));
        assert!(m.widenings[0].allowed_by.starts_with("b.json:"));
        assert!(!m.widenings[0].conditional);
    }

    #[test]
    fn conditional_allow_beats_other_actions_and_duplicates_go() {
        let c = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [
              {"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_KILL"}]}"#;
        let d = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [
              {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}"#;
        let m = merged(&[c, B, d]).unwrap();
        let kills: Vec<_> = (m.profile.syscalls.iter())
            .filter(|r| r.names.contains(&"kill".to_string()))
            .collect();
        assert_eq!(kills.len(), 1, "identical conditional rules once");
        let m = merged(&[c, d]).unwrap();
        let v = json(&m);
        assert_eq!(v["syscalls"].as_array().unwrap().len(), 2);
        assert_eq!(
            v["syscalls"][1]["names"],
            serde_json::json!(["personality"])
        );
        assert_eq!(v["syscalls"][1]["action"], "SCMP_ACT_ALLOW");
        assert_eq!(m.widenings.len(), 1);
        assert!(m.widenings[0].conditional);
        assert_eq!(m.widenings[0].was, "SCMP_ACT_KILL");
    }

    #[test]
    fn rules_no_input_allows_are_kept_or_refused() {
        let e = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["ptrace"], "action": "SCMP_ACT_KILL"}]}"#;
        let cond = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["ptrace"], "action": "SCMP_ACT_KILL", "args": [
              {"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [
              {"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#;
        let m = merged(&[e, cond, e]).unwrap();
        let v = json(&m);
        assert_eq!(
            v["syscalls"],
            serde_json::json!([
                {"names": ["ptrace"], "action": "SCMP_ACT_KILL"},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}])
        );
        // without an unconditional rule, the conditional ones stay (identical ones once)
        let m = merged(&[cond, cond]).unwrap();
        assert_eq!(m.profile.syscalls.len(), 2);
        assert!(m.profile.syscalls.iter().all(|r| r.args.len() == 1));
        let f = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO"}]}"#;
        match merged(&[e, f]) {
            Err(MergeError::Conflict { syscall, at, b, .. }) => {
                assert_eq!(syscall, "clone3");
                assert_eq!(at, "a.json:2:13");
                assert_eq!(b, "SCMP_ACT_ERRNO(EPERM)");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn settings_must_agree() {
        let kill = r#"{"defaultAction": "SCMP_ACT_KILL", "syscalls": []}"#;
        let e = merged(&[A, kill]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.json: defaultAction is `SCMP_ACT_ERRNO(EPERM)`, but b.json: defaultAction is `SCMP_ACT_KILL`; a union of profiles that differ in defaultAction is not meaningful"
        );
        let enosys = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38}"#;
        assert!(matches!(
            merged(&[A, enosys]),
            Err(MergeError::Differs {
                key: "defaultAction",
                ..
            })
        ));
        let listen = r#"{"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/x.sock"}"#;
        assert!(matches!(
            merged(&[A, listen]),
            Err(MergeError::Differs {
                key: "listenerPath",
                ..
            })
        ));
        assert_eq!(merged(&[A]).unwrap_err(), MergeError::TooFew(1));
        assert_eq!(merge(&[]).unwrap_err(), MergeError::TooFew(0));
    }

    #[test]
    fn host_dependent_profiles_are_refused() {
        let inc = r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}}]}"#;
        let e = merged(&[A, inc]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("b.json:2:13: rule 0 (ptrace) has includes or excludes"),
            "{e}"
        );
    }

    #[test]
    fn flags_union_counts_runcs_implicit_spec_allow() {
        let log = r#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"]}"#;
        let none = r#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": []}"#;
        assert_eq!(merged(&[A, B]).unwrap().profile.flags, None);
        assert_eq!(merged(&[none, none]).unwrap().profile.flags, Some(vec![]));
        assert_eq!(
            merged(&[log, A]).unwrap().profile.flags,
            Some(vec![Flag::Log, Flag::SpecAllow])
        );
    }

    #[test]
    fn output_parses_cleanly_and_is_a_fixpoint() {
        let m = merged(&[A, B]).unwrap();
        let text = crate::emit::profile_to_json(&m.profile);
        let again = parse("m.json", &text);
        assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
        // merging the result with an input changes nothing, byte for byte
        let m2 = merged(&[&text, A]).unwrap();
        assert_eq!(crate::emit::profile_to_json(&m2.profile), text);
        // and so does the order of the inputs
        let m3 = merged(&[B, A]).unwrap();
        assert_eq!(crate::emit::profile_to_json(&m3.profile), text);
        assert!(text.contains("\"defaultErrnoRet\": 1,"));
    }
}
