//! Architectures: libseccomp names (`SCMP_ARCH_*`) in `architectures` and in Docker's
//! `archMap` with its `subArchitectures`.

use super::Cx;
use crate::json::{Node, Value};
use crate::model::ArchMapEntry;
use confine_abi::Arch;

const ARCHMAP_KEYS: [&str; 2] = ["architecture", "subArchitectures"];

impl Cx<'_> {
    pub(super) fn arch(&mut self, s: &str, at: usize) -> Option<Arch> {
        Arch::from_scmp(s).or_else(|| {
            let hint = match Arch::parse(s) {
                Ok(a) => format!("; did you mean {}?", a.scmp_name()),
                Err(_) => String::new(),
            };
            self.error("bad-arch", at, format!("unknown architecture `{s}` (profiles use libseccomp's names such as SCMP_ARCH_X86_64{hint})"));
            None
        })
    }

    pub(super) fn arch_list(&mut self, node: Option<&Node>, what: &str) -> Vec<Arch> {
        let mut out: Vec<Arch> = Vec::new();
        for (s, at) in self.strings(node, what).unwrap_or_default() {
            if let Some(a) = self.arch(&s, at) {
                if out.contains(&a) {
                    self.warn(
                        "duplicate-arch",
                        at,
                        format!("{s} is listed twice in {what}"),
                    );
                } else {
                    out.push(a);
                }
            }
        }
        out
    }

    pub(super) fn arch_map(&mut self, node: Option<&Node>) -> Vec<ArchMapEntry> {
        let Some(node) = node else { return Vec::new() };
        let Value::Array(items) = &node.value else {
            self.error(
                "type",
                node.at,
                format!("archMap must be an array, found {}", node.value.kind()),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            if item.value == Value::Null {
                continue;
            }
            let Some([arch, subs]) = self.fields(item, "an archMap entry", ARCHMAP_KEYS) else {
                continue;
            };
            let name = self.string(arch, "architecture").unwrap_or_default();
            let sub_arches = self.arch_list(subs, "subArchitectures");
            if name.is_empty() {
                self.warn(
                    "empty-arch",
                    item.at,
                    "archMap entry without `architecture`: it never matches".into(),
                );
                continue;
            }
            if let Some(a) = self.arch(&name, arch.map_or(item.at, |n| n.at)) {
                out.push(ArchMapEntry {
                    arch: a,
                    sub_arches,
                });
            }
        }
        out
    }
}
