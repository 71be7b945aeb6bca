//! Writing a resolved profile back out as JSON: stable, byte for byte, for diffs and for
//! `docker run --security-opt seccomp=…` or a Kubernetes `Localhost` profile.

use crate::model::Arg;
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

/// The resolved profile as a JSON value, keys in runtime-spec order.
pub fn to_value(r: &Resolved, format: OutputFormat) -> Value {
    let mut m = Map::new();
    m.insert("defaultAction".into(), json!(r.default_action.as_str()));
    if let Some(e) = r.default_errno_ret {
        m.insert("defaultErrnoRet".into(), json!(e));
    }
    if !r.architectures.is_empty() {
        let a: Vec<_> = r.architectures.iter().map(|a| a.scmp_name()).collect();
        m.insert("architectures".into(), json!(a));
    }
    if let Some(f) = &r.flags {
        let f: Vec<_> = f.iter().map(|f| f.as_str()).collect();
        m.insert("flags".into(), json!(f));
    }
    if let Some(p) = &r.listener_path {
        m.insert("listenerPath".into(), json!(p));
    }
    if let Some(p) = &r.listener_metadata {
        m.insert("listenerMetadata".into(), json!(p));
    }
    let rules: Vec<Value> = r
        .rules
        .iter()
        .map(|rule| {
            let mut o = Map::new();
            o.insert("names".into(), json!(&*rule.names));
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
            if format == OutputFormat::Docker {
                if let Some(c) = &rule.comment {
                    o.insert("comment".into(), json!(c));
                }
            }
            Value::Object(o)
        })
        .collect();
    m.insert("syscalls".into(), Value::Array(rules));
    Value::Object(m)
}

/// The resolved profile as pretty JSON text with a final newline.
pub fn to_json(r: &Resolved, format: OutputFormat) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(r, format)).expect("JSON values serialize");
    s.push('\n');
    s
}
