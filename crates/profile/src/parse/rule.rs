//! One entry of `syscalls`: its names, action and errno, with the argument conditions and
//! the `includes`/`excludes` filters read in `conditions`.

use super::{go_fold_eq, Cx, MAX_ERRNO};
use crate::json::{Node, Value};
use crate::model::{Action, Rule};

const RULE_KEYS: [&str; 8] = [
    "names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes",
];

/// The first syscall name of a rule, looked up before the rule is read so that findings about
/// its keys can already name it.
fn peek_first_name(node: &Node) -> Option<String> {
    let Value::Object(members) = &node.value else {
        return None;
    };
    let last = |key: &str| {
        members
            .iter()
            .rev()
            .find(|m| go_fold_eq(key, &m.key))
            .map(|m| &m.value.value)
    };
    match last("names") {
        Some(Value::Array(items)) => items.iter().find_map(|i| match &i.value {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }),
        _ => match last("name") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        },
    }
}

impl Cx<'_> {
    pub(super) fn action(&mut self, s: &str, at: usize) -> Option<Action> {
        Action::parse(s).or_else(|| {
            let valid: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
            self.error(
                "bad-action",
                at,
                format!("unknown action `{s}` (valid: {})", valid.join(", ")),
            );
            None
        })
    }

    pub(super) fn rule(&mut self, index: usize, node: &Node) -> Option<Rule> {
        self.rule = Some((index, None));
        if node.value == Value::Null {
            self.error(
                "null-rule",
                node.at,
                "a rule is null (dockerd would crash on it)".into(),
            );
            return None;
        }
        self.rule = Some((index, peek_first_name(node)));
        let [names, name, action, errno, args, comment, includes, excludes] =
            self.fields(node, "a rule", RULE_KEYS)?;
        let list = self.strings(names, "names").unwrap_or_default();
        let single = self.string(name, "name").unwrap_or_default();
        let first = list
            .first()
            .map(|(n, _)| n.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| Some(single.clone()).filter(|n| !n.is_empty()));
        self.rule = Some((index, first));
        if !single.is_empty() && !list.is_empty() {
            self.error(
                "name-and-names",
                name.map_or(node.at, |n| n.at),
                "the rule has both `name` and `names`; Docker refuses this (use `names`)".into(),
            );
        }
        let names: std::sync::Arc<[String]> = if list.is_empty() && !single.is_empty() {
            [single].into()
        } else {
            list.iter().map(|(n, _)| n.clone()).collect()
        };
        if names.is_empty() {
            self.error(
                "empty-names",
                node.at,
                "the rule names no syscall (`names` is empty or missing)".into(),
            );
        }
        for (n, at) in &list {
            if n.is_empty() {
                self.warn(
                    "empty-name",
                    *at,
                    "empty syscall name: runc cannot resolve it and skips it".into(),
                );
            }
        }
        let action = match self.string(action, "action") {
            Some(s) if !s.is_empty() => self.action(&s, action.map_or(node.at, |n| n.at)),
            _ => {
                self.error(
                    "bad-action",
                    action.map_or(node.at, |n| n.at),
                    "the rule has no action".into(),
                );
                None
            }
        };
        let errno_ret = self.uint(errno, "errnoRet", MAX_ERRNO).map(|v| v as u32);
        if let (Some(a), Some(e)) = (action, errno) {
            if errno_ret.is_some() && !a.takes_errno() {
                self.warn("errno-ignored", e.at, format!("errnoRet is ignored with {a}: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take it (runc ignores it)"));
            }
        }
        if action == Some(Action::Notify) {
            if let Some((_, at)) = list.iter().find(|(n, _)| n == "write") {
                self.error("notify-write", *at, "SCMP_ACT_NOTIFY on `write` can deadlock the runtime and the agent; runc refuses it".into());
            }
        }
        let args = self.args(args);
        let comment = self.string(comment, "comment");
        let includes = self.filter(includes, "includes");
        let excludes = self.filter(excludes, "excludes");
        Some(Rule {
            names,
            action: action?,
            errno_ret,
            args: args?,
            comment,
            includes,
            excludes,
            at: node.at,
        })
    }
}
