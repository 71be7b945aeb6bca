//! From JSON bytes to a validated [`Profile`], with every finding located.
//!
//! The reading follows Docker (Go's `encoding/json` into moby's types) and runc:
//! keys match case-insensitively, unknown keys are ignored, the last of duplicate keys wins and
//! `null` means absent. confine accepts all of that but says so in a warning. What Docker or runc
//! would refuse, or what could only be a mistake (an unknown action, an argument index above 5),
//! is an error.

use crate::diag::{Diagnostic, NotShown, Severity, MAX_DIAGNOSTICS};
use crate::json::{self, LineIndex, Node, Value};
use crate::model::{
    Action, ArchMapEntry, Arg, Filter, Flag, Format, KernelVersion, Operator, Profile, Rule,
};
use confine_abi::{Arch, Capability};

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
    /// Findings beyond [`MAX_DIAGNOSTICS`] counted but not kept (one `not-shown` diagnostic
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
    /// The findings beyond [`MAX_DIAGNOSTICS`], counted but not kept.
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
const RULE_KEYS: [&str; 8] = [
    "names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes",
];
const ARG_KEYS: [&str; 4] = ["index", "value", "valueTwo", "op"];
const FILTER_KEYS: [&str; 3] = ["caps", "arches", "minKernel"];
const ARCHMAP_KEYS: [&str; 2] = ["architecture", "subArchitectures"];
const DOCKER_ONLY: [&str; 5] = ["archMap", "name", "comment", "includes", "excludes"];

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
    fn report(&mut self, severity: Severity, code: &'static str, at: usize, message: String) {
        if self.diags.len() >= MAX_DIAGNOSTICS - 1 {
            let o = &mut self.omitted;
            if o.errors + o.warnings == 0 {
                o.first_at = at;
            }
            match severity {
                Severity::Error => o.errors += 1,
                Severity::Warning => o.warnings += 1,
            }
            return;
        }
        let pos = self.lines.pos(at);
        let (rule, syscall) = match &self.rule {
            Some((i, n)) => (Some(*i), n.clone()),
            None => (None, None),
        };
        self.diags.push(Diagnostic {
            severity,
            code,
            file: self.file.to_string(),
            line: pos.line,
            column: pos.col,
            rule,
            syscall,
            message,
        });
    }

    /// One `not-shown` diagnostic for the omitted ones, an error if any of them is (so that
    /// the profile is still refused).
    fn summarise_omitted(&mut self) {
        let Omitted {
            errors,
            warnings,
            first_at,
        } = std::mem::take(&mut self.omitted);
        if errors + warnings == 0 {
            return;
        }
        let pos = self.lines.pos(first_at);
        self.rule = None;
        self.diags.push(Diagnostic {
            severity: if errors > 0 {
                Severity::Error
            } else {
                Severity::Warning
            },
            code: "not-shown",
            file: self.file.to_string(),
            line: pos.line,
            column: pos.col,
            rule: None,
            syscall: None,
            message: format!(
                "{} more diagnostic(s) from here on not shown ({errors} error(s), {warnings} warning(s)); the first {} are above",
                errors + warnings,
                MAX_DIAGNOSTICS - 1
            ),
        });
    }

    fn error(&mut self, code: &'static str, at: usize, message: String) {
        self.report(Severity::Error, code, at, message);
    }

    fn warn(&mut self, code: &'static str, at: usize, message: String) {
        self.report(Severity::Warning, code, at, message);
    }

    /// Read an object's members into the `known` slots (last duplicate wins, `null` = absent).
    fn fields<'n, const N: usize>(
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

    fn string(&mut self, node: Option<&Node>, what: &str) -> Option<String> {
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
    fn uint(&mut self, node: Option<&Node>, what: &str, max: u64) -> Option<u64> {
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

    fn strings(&mut self, node: Option<&Node>, what: &str) -> Option<Vec<(String, usize)>> {
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

    fn action(&mut self, s: &str, at: usize) -> Option<Action> {
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

    fn arch(&mut self, s: &str, at: usize) -> Option<Arch> {
        Arch::from_scmp(s).or_else(|| {
            let hint = match Arch::parse(s) {
                Ok(a) => format!("; did you mean {}?", a.scmp_name()),
                Err(_) => String::new(),
            };
            self.error("bad-arch", at, format!("unknown architecture `{s}` (profiles use libseccomp's names such as SCMP_ARCH_X86_64{hint})"));
            None
        })
    }

    fn arch_list(&mut self, node: Option<&Node>, what: &str) -> Vec<Arch> {
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

    fn arch_map(&mut self, node: Option<&Node>) -> Vec<ArchMapEntry> {
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

    fn rule(&mut self, index: usize, node: &Node) -> Option<Rule> {
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

    fn args(&mut self, node: Option<&Node>) -> Option<Vec<Arg>> {
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

    fn filter(&mut self, node: Option<&Node>, what: &str) -> Filter {
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
