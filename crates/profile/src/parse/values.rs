//! Reading JSON values as Go's `encoding/json` decodes them into moby's types: an object's
//! known keys (case-insensitive, last duplicate wins, `null` = absent, unknown keys ignored),
//! strings, unsigned integers and string arrays, each mismatch an error where it is.

use super::{go_fold_eq, Cx};
use crate::json::{Node, Value};

const DOCKER_ONLY: [&str; 5] = ["archMap", "name", "comment", "includes", "excludes"];

impl Cx<'_> {
    /// Read an object's members into the `known` slots (last duplicate wins, `null` = absent).
    pub(super) fn fields<'n, const N: usize>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: [&'static str; N],
    ) -> Option<[Option<&'n Node>; N]> {
        let Value::Object(members) = &node.value else {
            self.error(
                "type",
                node.at,
                format!("{what} must be an object, found {}", node.value.kind()),
            );
            return None;
        };
        let mut slots: [Option<&Node>; N] = [None; N];
        let mut seen: [Option<usize>; N] = [None; N];
        for m in members {
            let slot = known.iter().position(|k| *k == m.key).or_else(|| {
                let i = known.iter().position(|k| go_fold_eq(k, &m.key))?;
                self.warn(
                    "key-case",
                    m.key_at,
                    format!(
                        "key `{}` is read as `{}`: Docker (Go) matches keys case-insensitively, runc's schema does not",
                        m.key, known[i]
                    ),
                );
                Some(i)
            });
            let Some(i) = slot else {
                let hint = match m.key.as_str() {
                    "errno" | "defaultErrno" => {
                        " (Podman's string form of errnoRet; Docker and runc use only the number)"
                    }
                    _ => "",
                };
                self.warn(
                    "unknown-key",
                    m.key_at,
                    format!(
                        "unknown key `{}` in {what} is ignored, as Docker ignores it{hint}",
                        m.key
                    ),
                );
                continue;
            };
            if self.oci && DOCKER_ONLY.contains(&known[i]) {
                self.warn(
                    "docker-only-key",
                    m.key_at,
                    format!("`{}` is a Docker profile key; in an OCI config runc ignores it, and so does confine", known[i]),
                );
                continue;
            }
            if let Some(prev) = seen[i] {
                let p = self.lines.pos(prev);
                self.warn(
                    "duplicate-key",
                    m.key_at,
                    format!(
                        "duplicate key `{}`: the value at {}:{} is ignored (Go keeps the last one)",
                        known[i], p.line, p.col
                    ),
                );
            }
            seen[i] = Some(m.key_at);
            slots[i] = match m.value.value {
                Value::Null => None,
                _ => Some(&m.value),
            };
        }
        Some(slots)
    }

    pub(super) fn string(&mut self, node: Option<&Node>, what: &str) -> Option<String> {
        match &node?.value {
            Value::String(s) => Some(s.clone()),
            v => {
                self.error(
                    "type",
                    node?.at,
                    format!("{what} must be a string, found {}", v.kind()),
                );
                None
            }
        }
    }

    /// An unsigned integer as Go decodes one: digits only, no sign, fraction or exponent.
    pub(super) fn uint(&mut self, node: Option<&Node>, what: &str, max: u64) -> Option<u64> {
        let node = node?;
        let Value::Number(raw) = &node.value else {
            self.error(
                "type",
                node.at,
                format!(
                    "{what} must be an unsigned integer, found {}",
                    node.value.kind()
                ),
            );
            return None;
        };
        if !raw.bytes().all(|c| c.is_ascii_digit()) {
            self.error(
                "type",
                node.at,
                format!("{what} must be an unsigned integer, found `{raw}`"),
            );
            return None;
        }
        match raw.parse::<u64>() {
            Ok(v) if v <= max => Some(v),
            _ => {
                self.error(
                    "range",
                    node.at,
                    format!("{what} is {raw}, above the maximum {max}"),
                );
                None
            }
        }
    }

    pub(super) fn strings(
        &mut self,
        node: Option<&Node>,
        what: &str,
    ) -> Option<Vec<(String, usize)>> {
        let node = node?;
        let Value::Array(items) = &node.value else {
            self.error(
                "type",
                node.at,
                format!(
                    "{what} must be an array of strings, found {}",
                    node.value.kind()
                ),
            );
            return None;
        };
        let mut out = Vec::new();
        for it in items {
            match &it.value {
                Value::String(s) => out.push((s.clone(), it.at)),
                // Go decodes null into a string element as "".
                Value::Null => out.push((String::new(), it.at)),
                v => self.error(
                    "type",
                    it.at,
                    format!("{what} must hold strings, found {}", v.kind()),
                ),
            }
        }
        Some(out)
    }
}
