//! From JSON bytes to a validated [`Profile`], with every finding located.
//!
//! The reading follows Docker (Go's `encoding/json` into moby's types) and runc:
//! keys match case-insensitively, unknown keys are ignored, the last of duplicate keys wins and
//! `null` means absent. confine accepts all of that but says so in a warning. What Docker or runc
//! would refuse, or what could only be a mistake (an unknown action, an argument index above 5),
//! is an error.
//!
//! [`parse_profile`] and the document level (a Docker profile, an OCI `linux.seccomp` or a
//! whole `config.json`; the profile's own keys) are here; the rest is in `report`
//! (diagnostics), `values` (JSON values as Go reads them), `rule` (a `syscalls` entry),
//! `conditions` (argument conditions, `includes`/`excludes`) and `arch` (architectures,
//! `archMap`).

mod arch;
mod conditions;
mod report;
mod rule;
mod values;

use crate::diag::{Diagnostic, NotShown, Severity};
use crate::json::{self, LineIndex, Node, Value};
use crate::model::{Action, Flag, Format, Profile, Rule};

/// The largest profile accepted, in bytes.
pub const MAX_PROFILE_BYTES: usize = 16 << 20;

/// The most entries in `syscalls` (rules) a profile may have; Docker's default has about 30,
/// a recorded profile one per syscall.
pub const MAX_RULES: usize = 100_000;

/// The most syscall names all the rules of a profile may carry together.
pub const MAX_NAMES: usize = 100_000;

/// The largest errno the kernel can return (MAX_ERRNO); libseccomp refuses larger ones.
pub const MAX_ERRNO: u64 = 4095;

/// The result of parsing: the profile when there was no error, and every finding.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The profile, `None` if any diagnostic is an error.
    pub profile: Option<Profile>,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Maps byte offsets of the source to line and column.
    pub lines: LineIndex,
    /// Findings beyond [`MAX_DIAGNOSTICS`](crate::diag::MAX_DIAGNOSTICS) counted but not kept (one `not-shown` diagnostic
    /// in `diagnostics` says so).
    pub not_shown: NotShown,
}

/// Parse a Docker profile, an OCI `linux.seccomp` object, or a whole OCI `config.json`.
/// `file` names the source in diagnostics.
pub fn parse_profile(bytes: &[u8], file: &str) -> Parsed {
    let valid = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    };
    let mut cx = Cx {
        file,
        lines: LineIndex::new(valid),
        diags: Vec::new(),
        rule: None,
        oci: false,
        omitted: Omitted::default(),
    };
    let profile = if bytes.len() > MAX_PROFILE_BYTES {
        cx.error(
            "too-large",
            0,
            format!("profile is {} bytes; the limit is 16 MiB", bytes.len()),
        );
        None
    } else {
        match json::parse(bytes) {
            Ok(root) => cx.root(&root),
            Err(e) => {
                cx.error("syntax", e.at, format!("invalid JSON: {}", e.message));
                None
            }
        }
    };
    let not_shown = NotShown {
        errors: cx.omitted.errors,
        warnings: cx.omitted.warnings,
    };
    cx.summarise_omitted();
    let failed = cx.diags.iter().any(|d| d.severity == Severity::Error);
    Parsed {
        profile: if failed { None } else { profile },
        diagnostics: cx.diags,
        lines: cx.lines,
        not_shown,
    }
}

struct Cx<'a> {
    file: &'a str,
    lines: LineIndex,
    diags: Vec<Diagnostic>,
    /// The rule being read: index and first syscall name.
    rule: Option<(usize, Option<String>)>,
    /// Reading the `linux.seccomp` of an OCI config: Docker-only keys are ignored, as runc does.
    oci: bool,
    /// The findings beyond [`MAX_DIAGNOSTICS`](crate::diag::MAX_DIAGNOSTICS), counted but not kept.
    omitted: Omitted,
}

/// Diagnostics counted but not kept.
#[derive(Default)]
struct Omitted {
    errors: usize,
    warnings: usize,
    /// Byte offset of the first one.
    first_at: usize,
}

const PROFILE_KEYS: [&str; 8] = [
    "defaultAction",
    "defaultErrnoRet",
    "architectures",
    "archMap",
    "syscalls",
    "flags",
    "listenerPath",
    "listenerMetadata",
];

/// Go's `encoding/json` matches keys with `strings.EqualFold` (simple Unicode case folding).
fn go_fold_eq(a: &str, b: &str) -> bool {
    fn fold(c: char) -> char {
        match c {
            '\u{17f}' => 's',  // LATIN SMALL LETTER LONG S folds to s
            '\u{212a}' => 'k', // KELVIN SIGN folds to k
            c => {
                let mut l = c.to_lowercase();
                match (l.next(), l.next()) {
                    (Some(x), None) => x,
                    _ => c,
                }
            }
        }
    }
    a.chars().count() == b.chars().count() && a.chars().map(fold).eq(b.chars().map(fold))
}

impl Cx<'_> {
    fn root(&mut self, root: &Node) -> Option<Profile> {
        let Value::Object(members) = &root.value else {
            self.error(
                "type",
                root.at,
                format!(
                    "a profile must be a JSON object, found {}",
                    root.value.kind()
                ),
            );
            return None;
        };
        let is_config = members.iter().any(|m| {
            ["ociVersion", "linux", "process", "root"]
                .iter()
                .any(|k| go_fold_eq(k, &m.key))
        }) && !members
            .iter()
            .any(|m| PROFILE_KEYS.iter().any(|k| go_fold_eq(k, &m.key)));
        if !is_config {
            return self.profile(root, Format::Docker);
        }
        let linux = members.iter().rev().find(|m| go_fold_eq("linux", &m.key));
        let seccomp = linux.and_then(|l| match &l.value.value {
            Value::Object(ms) => ms.iter().rev().find(|m| go_fold_eq("seccomp", &m.key)),
            _ => None,
        });
        match seccomp {
            Some(s) if s.value.value != Value::Null => {
                self.oci = true;
                self.profile(&s.value, Format::OciConfig)
            }
            _ => {
                self.error(
                    "no-seccomp",
                    linux.map_or(root.at, |l| l.key_at),
                    "this OCI config.json has no linux.seccomp: the container would run without a seccomp filter".into(),
                );
                None
            }
        }
    }

    fn profile(&mut self, node: &Node, format: Format) -> Option<Profile> {
        let [da, der, archs, amap, calls, flags, lpath, lmeta] =
            self.fields(node, "the profile", PROFILE_KEYS)?;
        let default_action = match self.string(da, "defaultAction") {
            Some(s) if s.is_empty() => None,
            Some(s) => self.action(&s, da.map_or(node.at, |n| n.at)),
            None => None,
        };
        let default_errno_ret = self
            .uint(der, "defaultErrnoRet", MAX_ERRNO)
            .map(|v| v as u32);
        if let (Some(a), Some(n)) = (default_action, der) {
            if a == Action::Notify {
                self.error("notify-default", da.map_or(n.at, |d| d.at), "SCMP_ACT_NOTIFY cannot be the default action: every syscall, including the agent's replies, would wait for the agent (runc refuses it)".into());
            } else if !a.takes_errno() && default_errno_ret.is_some() {
                self.warn(
                    "errno-ignored",
                    n.at,
                    format!("defaultErrnoRet is ignored with defaultAction {a} (runc ignores it)"),
                );
            }
        } else if default_action == Some(Action::Notify) {
            self.error("notify-default", da.map_or(node.at, |d| d.at), "SCMP_ACT_NOTIFY cannot be the default action: every syscall, including the agent's replies, would wait for the agent (runc refuses it)".into());
        }
        let architectures = self.arch_list(archs, "architectures");
        let arch_map = self.arch_map(amap);
        if archs.is_some() && amap.is_some() && !architectures.is_empty() && !arch_map.is_empty() {
            self.error("arch-and-archmap", amap.map_or(node.at, |n| n.at), "both `architectures` and `archMap` are set; Docker refuses this (\"use either 'architectures' or 'archMap'\")".into());
        }
        let flags = flags.map(|f| {
            self.strings(Some(f), "flags")
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(s, at)| {
                    Flag::parse(&s).or_else(|| {
                        let valid: Vec<_> = Flag::ALL.iter().map(|f| f.as_str()).collect();
                        self.error(
                            "bad-flag",
                            at,
                            format!("unknown filter flag `{s}` (valid: {})", valid.join(", ")),
                        );
                        None
                    })
                })
                .collect()
        });
        let listener_path = self.string(lpath, "listenerPath").filter(|s| !s.is_empty());
        let listener_metadata = self
            .string(lmeta, "listenerMetadata")
            .filter(|s| !s.is_empty());
        if listener_metadata.is_some() && listener_path.is_none() {
            self.error(
                "metadata-without-listener",
                lmeta.map_or(node.at, |n| n.at),
                "listenerMetadata is set without listenerPath (the runtime-spec forbids it)".into(),
            );
        }
        let mut syscalls = Vec::new();
        if let Some(list) = calls {
            match &list.value {
                Value::Array(items) if items.len() > MAX_RULES => self.error(
                    "too-many-rules",
                    list.at,
                    format!(
                        "syscalls has {} rules; confine reads at most {MAX_RULES}",
                        items.len()
                    ),
                ),
                Value::Array(items) => {
                    let mut names = 0usize;
                    for (i, item) in items.iter().enumerate() {
                        if let Some(r) = self.rule(i, item) {
                            names += r.names.len();
                            if names > MAX_NAMES {
                                self.error(
                                    "too-many-names",
                                    item.at,
                                    format!("the rules name more than {MAX_NAMES} syscalls in all; confine reads at most {MAX_NAMES}"),
                                );
                                self.rule = None;
                                break;
                            }
                            syscalls.push(r);
                        }
                        self.rule = None;
                    }
                }
                v => self.error(
                    "type",
                    list.at,
                    format!("syscalls must be an array, found {}", v.kind()),
                ),
            }
        }
        if default_action.is_none() && !syscalls.is_empty() {
            self.error("missing-default-action", da.map_or(node.at, |n| n.at), "defaultAction is missing or empty, but the profile has rules (runc refuses an empty action)".into());
        }
        self.fail_open(node, da, default_action, &syscalls);
        if listener_path.is_none() {
            if let Some(r) = syscalls.iter().find(|r| r.action == Action::Notify) {
                let at = r.at;
                self.rule = Some((
                    syscalls.iter().position(|x| x.at == at).unwrap_or(0),
                    r.names.first().cloned(),
                ));
                self.warn("notify-without-listener", at, "SCMP_ACT_NOTIFY without listenerPath: nobody receives the notifications (runc refuses this)".into());
                self.rule = None;
            }
        }
        Some(Profile {
            default_action,
            default_errno_ret,
            architectures,
            arch_map,
            flags,
            listener_path,
            listener_metadata,
            syscalls,
            format,
        })
    }

    /// Warn about a profile that confines nothing (fail-open): no defaultAction and no rules
    /// (Docker then runs without seccomp), or a default that allows with every rule allowing
    /// too. Only for a profile without errors, whose meaning is then certain.
    fn fail_open(
        &mut self,
        node: &Node,
        da: Option<&Node>,
        default_action: Option<Action>,
        rules: &[Rule],
    ) {
        if self.diags.iter().any(|d| d.severity == Severity::Error) {
            return;
        }
        let Some(message) = crate::failopen::confines_nothing(default_action, rules) else {
            return;
        };
        self.warn("confines-nothing", da.map_or(node.at, |n| n.at), message);
    }
}
