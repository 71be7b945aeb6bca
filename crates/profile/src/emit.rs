//! Writing a resolved profile back out as JSON: stable, byte for byte, for diffs and for
//! `docker run --security-opt seccomp=…` or a Kubernetes `Localhost` profile.

use crate::model::{Action, Arg, Flag, Profile};
use crate::resolve::Resolved;
use serde_json::{json, Map, Value};

/// Which JSON shape to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// The runtime-spec `linux.seccomp` object, as dockerd hands it to runc.
    Oci,
    /// The same rules as a Docker profile, keeping each rule's `comment`.
    Docker,
}

fn arg_json(a: &Arg) -> Value {
    let mut m = Map::new();
    m.insert("index".into(), json!(a.index));
    m.insert("value".into(), json!(a.value));
    if a.value_two != 0 {
        m.insert("valueTwo".into(), json!(a.value_two));
    }
    m.insert("op".into(), json!(a.op.as_str()));
    Value::Object(m)
}

/// The profile-wide keys, in runtime-spec order, before `syscalls`.
struct Head<'a> {
    default_action: Option<Action>,
    default_errno_ret: Option<u32>,
    architectures: &'a [confine_abi::Arch],
    flags: Option<&'a [Flag]>,
    listener_path: Option<&'a str>,
    listener_metadata: Option<&'a str>,
}

/// One rule's keys.
struct RuleView<'a> {
    names: &'a [String],
    action: Action,
    errno_ret: Option<u32>,
    args: &'a [Arg],
    comment: Option<&'a str>,
}

fn object<'a>(head: Head<'_>, rules: impl Iterator<Item = RuleView<'a>>) -> Value {
    let mut m = Map::new();
    if let Some(a) = head.default_action {
        m.insert("defaultAction".into(), json!(a.as_str()));
    }
    if let Some(e) = head.default_errno_ret {
        m.insert("defaultErrnoRet".into(), json!(e));
    }
    if !head.architectures.is_empty() {
        let a: Vec<_> = head.architectures.iter().map(|a| a.scmp_name()).collect();
        m.insert("architectures".into(), json!(a));
    }
    if let Some(f) = head.flags {
        let f: Vec<_> = f.iter().map(|f| f.as_str()).collect();
        m.insert("flags".into(), json!(f));
    }
    if let Some(p) = head.listener_path {
        m.insert("listenerPath".into(), json!(p));
    }
    if let Some(p) = head.listener_metadata {
        m.insert("listenerMetadata".into(), json!(p));
    }
    let rules: Vec<Value> = rules
        .map(|rule| {
            let mut o = Map::new();
            o.insert("names".into(), json!(rule.names));
            o.insert("action".into(), json!(rule.action.as_str()));
            if let Some(e) = rule.errno_ret {
                o.insert("errnoRet".into(), json!(e));
            }
            if !rule.args.is_empty() {
                o.insert(
                    "args".into(),
                    Value::Array(rule.args.iter().map(arg_json).collect()),
                );
            }
            if let Some(c) = rule.comment {
                o.insert("comment".into(), json!(c));
            }
            Value::Object(o)
        })
        .collect();
    m.insert("syscalls".into(), Value::Array(rules));
    Value::Object(m)
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialize");
    s.push('\n');
    s
}

/// The resolved profile as a JSON value, keys in runtime-spec order.
pub fn to_value(r: &Resolved, format: OutputFormat) -> Value {
    let head = Head {
        default_action: Some(r.default_action),
        default_errno_ret: r.default_errno_ret,
        architectures: &r.architectures,
        flags: r.flags.as_deref(),
        listener_path: r.listener_path.as_deref(),
        listener_metadata: r.listener_metadata.as_deref(),
    };
    object(
        head,
        r.rules.iter().map(|rule| RuleView {
            names: &rule.names,
            action: rule.action,
            errno_ret: rule.errno_ret,
            args: &rule.args,
            comment: rule
                .comment
                .as_deref()
                .filter(|_| format == OutputFormat::Docker),
        }),
    )
}

/// A profile without Docker-only keys (no `archMap`, `includes`, `excludes`; what
/// [`crate::merge`] produces) as pretty JSON text with a final newline, in the same shape as
/// [`to_json`] with [`OutputFormat::Oci`]: rule comments are left out.
pub fn profile_to_json(p: &Profile) -> String {
    let head = Head {
        default_action: p.default_action,
        default_errno_ret: p.default_errno_ret,
        architectures: &p.architectures,
        flags: p.flags.as_deref(),
        listener_path: p.listener_path.as_deref(),
        listener_metadata: p.listener_metadata.as_deref(),
    };
    pretty(&object(
        head,
        p.syscalls.iter().map(|rule| RuleView {
            names: &rule.names,
            action: rule.action,
            errno_ret: rule.errno_ret,
            args: &rule.args,
            comment: None,
        }),
    ))
}

/// The resolved profile as pretty JSON text with a final newline.
pub fn to_json(r: &Resolved, format: OutputFormat) -> String {
    pretty(&to_value(r, format))
}
