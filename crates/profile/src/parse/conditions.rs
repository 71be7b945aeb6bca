//! The conditions a rule carries: its argument comparisons (`args`: index, value, valueTwo,
//! op) and its Docker `includes`/`excludes` filters (capabilities, native architectures,
//! minimum kernel).

use super::Cx;
use crate::json::{Node, Value};
use crate::model::{Arg, Filter, KernelVersion, Operator};
use confine_abi::{Arch, Capability};

const ARG_KEYS: [&str; 4] = ["index", "value", "valueTwo", "op"];
const FILTER_KEYS: [&str; 3] = ["caps", "arches", "minKernel"];

impl Cx<'_> {
    pub(super) fn args(&mut self, node: Option<&Node>) -> Option<Vec<Arg>> {
        let Some(node) = node else {
            return Some(Vec::new());
        };
        let Value::Array(items) = &node.value else {
            self.error(
                "type",
                node.at,
                format!("args must be an array, found {}", node.value.kind()),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            if item.value == Value::Null {
                self.error("null-arg", item.at, "an argument condition is null".into());
                ok = false;
                continue;
            }
            let Some([index, value, value_two, op]) =
                self.fields(item, "an argument condition", ARG_KEYS)
            else {
                ok = false;
                continue;
            };
            let idx = self.uint(index, "index", u64::from(u32::MAX));
            if let Some(i) = idx.filter(|&i| i > 5) {
                self.error(
                    "bad-arg-index",
                    index.map_or(item.at, |n| n.at),
                    format!(
                        "argument index {i} is out of range: syscalls have 6 arguments, 0 to 5"
                    ),
                );
                ok = false;
            }
            let v = self.uint(value, "value", u64::MAX);
            let v2 = self.uint(value_two, "valueTwo", u64::MAX);
            let op = match self.string(op, "op") {
                Some(s) => Operator::parse(&s).or_else(|| {
                    let valid: Vec<_> = Operator::ALL.iter().map(|o| o.as_str()).collect();
                    self.error(
                        "bad-operator",
                        op.map_or(item.at, |n| n.at),
                        format!("unknown operator `{s}` (valid: {})", valid.join(", ")),
                    );
                    None
                }),
                None => {
                    self.error(
                        "bad-operator",
                        item.at,
                        "the argument condition has no `op`".into(),
                    );
                    None
                }
            };
            if let (Some(o), Some(n)) = (op, value_two) {
                if o != Operator::MaskedEqual && v2.is_some_and(|x| x != 0) {
                    self.warn(
                        "value-two-ignored",
                        n.at,
                        format!(
                            "valueTwo is only used by SCMP_CMP_MASKED_EQ; with {o} it is ignored"
                        ),
                    );
                }
            }
            let bad_numbers = (index.is_some() && idx.is_none())
                || (value.is_some() && v.is_none())
                || (value_two.is_some() && v2.is_none());
            match op {
                Some(op) if ok && !bad_numbers => out.push(Arg {
                    index: idx.unwrap_or(0) as u32,
                    value: v.unwrap_or(0),
                    value_two: v2.unwrap_or(0),
                    op,
                }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(super) fn filter(&mut self, node: Option<&Node>, what: &str) -> Filter {
        let Some(node) = node else {
            return Filter::default();
        };
        let Some([caps, arches, min]) = self.fields(node, what, FILTER_KEYS) else {
            return Filter::default();
        };
        let caps = self.strings(caps, "caps").unwrap_or_default();
        for (c, at) in &caps {
            match Capability::parse(c) {
                Ok(cap) if cap.name() == *c => {}
                Ok(cap) => self.warn(
                    "cap-spelling",
                    *at,
                    format!(
                        "Docker compares capability names exactly: `{c}` never matches; write {}",
                        cap.name()
                    ),
                ),
                Err(_) => self.warn(
                    "unknown-cap",
                    *at,
                    format!("`{c}` is not a capability: this condition never matches a host"),
                ),
            }
        }
        let arches = self.strings(arches, "arches").unwrap_or_default();
        for (a, at) in &arches {
            if Arch::from_native(a).is_none()
                && !matches!(a.as_str(), "loongarch64" | "mipsle" | "mips3l64n32")
            {
                let hint = match Arch::parse(a) {
                    Ok(x) => format!(
                        "; Docker compares native names exactly, write `{}`",
                        x.native_name()
                    ),
                    Err(_) => String::new(),
                };
                self.warn("unknown-native-arch", *at, format!("`{a}` is not a Docker architecture name: this condition never matches{hint}"));
            }
        }
        let min_kernel = match self.string(min, "minKernel") {
            Some(s) if s.is_empty() => None,
            Some(s) => match KernelVersion::parse_min(&s) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.error("bad-min-kernel", min.map_or(node.at, |n| n.at), e);
                    None
                }
            },
            None => None,
        };
        Filter {
            caps: caps.into_iter().map(|(c, _)| c).collect(),
            arches: arches.into_iter().map(|(a, _)| a).collect(),
            min_kernel,
        }
    }
}
