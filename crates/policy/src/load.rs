//! The loader: YAML or JSON bytes → [`Policy`] plus located diagnostics.
//!
//! The input is either a whole SPO `AppArmorProfile` object (`apiVersion`
//! `security-profiles-operator.x-k8s.io/v1` or `v1alpha1`, `kind: AppArmorProfile`) or just its
//! `spec.abstract`. Unknown keys and duplicate keys are warnings (Kubernetes prunes unknown
//! fields of a structural schema silently; confine says so); a value of the wrong type, a
//! relative path, a port out of range, an unknown capability or an unknown scope is an error. `null` counts as absent.

use crate::model::{Access, Extensions, Mode, Network, PathRule, Policy, PortRule, Scope, Span};
use crate::yaml::{self, parse_bool, Node, Value};
use confine_profile::diag::{Diagnostic, Severity};

/// The SPO API group the loader accepts, with its versions.
pub const API_VERSIONS: [&str; 2] = [
    "security-profiles-operator.x-k8s.io/v1",
    "security-profiles-operator.x-k8s.io/v1alpha1",
];

/// The only version of the `confine` extension schema.
pub const EXTENSION_VERSION: u32 = 1;

/// What [`load`] returns.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The policy, unless a diagnostic is an error.
    pub policy: Option<Policy>,
    /// Every finding, in input order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Load a policy from `bytes` (YAML or JSON); `file` is the name diagnostics carry.
pub fn load(file: &str, bytes: &[u8]) -> Loaded {
    let mut cx = Cx {
        file: file.to_string(),
        diags: Vec::new(),
    };
    let mut policy = Policy {
        file: file.to_string(),
        ..Policy::default()
    };
    match std::str::from_utf8(bytes) {
        Err(e) => cx.error(
            "not-utf8",
            Span { line: 1, column: 1 },
            format!("the input is not UTF-8 (byte {})", e.valid_up_to()),
        ),
        Ok(text) => match yaml::parse(text) {
            Err(e) => cx.error("syntax", e.span, e.message),
            Ok(None) => cx.error(
                "empty",
                Span { line: 1, column: 1 },
                "the input holds no policy".into(),
            ),
            Ok(Some(root)) => cx.root(&root, &mut policy),
        },
    }
    let ok = !confine_profile::diag::has_errors(&cx.diags);
    Loaded {
        policy: ok.then_some(policy),
        diagnostics: cx.diags,
    }
}

/// `metadata.name`, when it is a string (the rest of metadata is not policy and not checked).
fn metadata_name(n: &Node) -> Option<String> {
    let Value::Map(pairs) = &n.value else {
        return None;
    };
    pairs
        .iter()
        .rev()
        .find_map(|(k, v)| match (&k.value, &v.value) {
            (Value::Scalar(k, _), Value::Scalar(name, _)) if k == "name" => Some(name.clone()),
            _ => None,
        })
}

/// Where a mapping's content starts: its first key (block mappings' own marks come late).
fn start(n: &Node) -> Span {
    match &n.value {
        Value::Map(pairs) if !pairs.is_empty() => pairs[0].0.span,
        _ => n.span,
    }
}

struct Cx {
    file: String,
    diags: Vec<Diagnostic>,
}

impl Cx {
    fn push(&mut self, severity: Severity, code: &'static str, at: Span, message: String) {
        self.diags.push(Diagnostic {
            severity,
            code,
            file: self.file.clone(),
            line: at.line,
            column: at.column,
            rule: None,
            syscall: None,
            message,
        });
    }
    fn error(&mut self, code: &'static str, at: Span, message: String) {
        self.push(Severity::Error, code, at, message);
    }
    fn warn(&mut self, code: &'static str, at: Span, message: String) {
        self.push(Severity::Warning, code, at, message);
    }
    fn wrong_type(&mut self, where_: &str, want: &str, n: &Node) {
        self.error(
            "wrong-type",
            n.span,
            format!("{where_} must be {want}, not {}", n.value.kind()),
        );
    }

    /// The pairs of a mapping with string keys, warning about duplicates and unknown keys.
    /// Null values are dropped (absent).
    fn fields<'n>(
        &mut self,
        where_: &str,
        n: &'n Node,
        known: &[&str],
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        let Value::Map(pairs) = &n.value else {
            self.wrong_type(where_, "a mapping", n);
            return None;
        };
        let mut out: Vec<(&str, &Node)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let Value::Scalar(key, _) = &k.value else {
                self.wrong_type(&format!("a key in {where_}"), "a string", k);
                continue;
            };
            if !known.contains(&key.as_str()) {
                self.warn(
                    "unknown-key",
                    k.span,
                    format!("unknown key `{key}` in {where_} (ignored)"),
                );
                continue;
            }
            if let Some(prev) = out.iter().position(|(p, _)| *p == key) {
                self.warn(
                    "duplicate-key",
                    k.span,
                    format!("duplicate key `{key}` in {where_}; the last one is used"),
                );
                out.remove(prev);
            }
            if !v.value.is_null() {
                out.push((key, v));
            }
        }
        Some(out)
    }

    fn string<'n>(&mut self, where_: &str, n: &'n Node) -> Option<&'n str> {
        match &n.value {
            Value::Scalar(s, plain) if !(*plain && n.value.kind() != "a string") => Some(s),
            _ => {
                self.wrong_type(where_, "a string", n);
                None
            }
        }
    }

    fn boolean(&mut self, where_: &str, n: &Node) -> Option<bool> {
        match &n.value {
            Value::Scalar(s, true) => match parse_bool(s) {
                Some(b) => Some(b),
                None => {
                    self.wrong_type(where_, "a boolean", n);
                    None
                }
            },
            _ => {
                self.wrong_type(where_, "a boolean", n);
                None
            }
        }
    }

    fn list<'n>(&mut self, where_: &str, n: &'n Node) -> &'n [Node] {
        match &n.value {
            Value::Seq(items) => items,
            _ => {
                self.wrong_type(where_, "a list", n);
                &[]
            }
        }
    }

    fn root(&mut self, n: &Node, p: &mut Policy) {
        let Value::Map(pairs) = &n.value else {
            self.wrong_type("the policy", "a mapping", n);
            return;
        };
        let object_key = |k: &Node| match &k.value {
            Value::Scalar(s, _) => matches!(s.as_str(), "apiVersion" | "kind" | "spec"),
            _ => false,
        };
        let whole = pairs.iter().any(|(k, _)| object_key(k));
        if whole {
            self.object(n, p);
        } else {
            self.abstract_(n, p);
        }
    }

    fn object(&mut self, n: &Node, p: &mut Policy) {
        let Some(fs) = self.fields(
            "the AppArmorProfile",
            n,
            &["apiVersion", "kind", "metadata", "spec", "status"],
        ) else {
            return;
        };
        let (mut api, mut kind, mut spec) = (false, false, None);
        for (k, v) in fs {
            match k {
                "apiVersion" => {
                    api = true;
                    if let Some(s) = self.string("apiVersion", v) {
                        if !API_VERSIONS.contains(&s) {
                            self.error(
                                "bad-api-version",
                                v.span,
                                format!(
                                    "apiVersion `{s}` is not one of {}",
                                    API_VERSIONS.join(", ")
                                ),
                            );
                        }
                    }
                }
                "kind" => {
                    kind = true;
                    if let Some(s) = self.string("kind", v) {
                        if s != "AppArmorProfile" {
                            self.error(
                                "bad-kind",
                                v.span,
                                format!("kind `{s}` is not `AppArmorProfile`"),
                            );
                        }
                    }
                }
                "spec" => spec = Some(v),
                "metadata" => p.name = metadata_name(v),
                _ => {} // status: not policy
            }
        }
        if !api {
            self.error(
                "bad-api-version",
                start(n),
                "the object has no apiVersion".into(),
            );
        }
        if !kind {
            self.error("bad-kind", start(n), "the object has no kind".into());
        }
        let Some(spec) = spec else {
            self.error("no-spec", start(n), "the object has no spec".into());
            return;
        };
        let Some(fs) = self.fields("spec", spec, &["abstract", "mode", "state"]) else {
            return;
        };
        for (k, v) in fs {
            match k {
                "abstract" => self.abstract_(v, p),
                "mode" => match self.string("spec.mode", v) {
                    Some("Enforce") => p.mode = Mode::Enforce,
                    Some("Complain") => p.mode = Mode::Complain,
                    Some(s) => self.error(
                        "bad-enum",
                        v.span,
                        format!("spec.mode `{s}` is not Enforce or Complain"),
                    ),
                    None => {}
                },
                _ => match self.string("spec.state", v) {
                    Some("Enabled" | "Disabled") | None => {}
                    Some(s) => self.error(
                        "bad-enum",
                        v.span,
                        format!("spec.state `{s}` is not Enabled or Disabled"),
                    ),
                },
            }
        }
    }

    fn abstract_(&mut self, n: &Node, p: &mut Policy) {
        let Some(fs) = self.fields(
            "abstract",
            n,
            &[
                "filesystem",
                "executable",
                "network",
                "capability",
                "confine",
            ],
        ) else {
            return;
        };
        for (k, v) in fs {
            match k {
                "filesystem" => {
                    p.filesystem = true;
                    let keys = ["readOnlyPaths", "writeOnlyPaths", "readWritePaths"];
                    for (k, v) in self.fields("filesystem", v, &keys).unwrap_or_default() {
                        let access = match k {
                            "readOnlyPaths" => Access::ReadOnly,
                            "writeOnlyPaths" => Access::WriteOnly,
                            _ => Access::ReadWrite,
                        };
                        self.paths(&format!("filesystem.{k}"), v, access, p);
                    }
                }
                "executable" => {
                    p.executable = true;
                    let keys = ["allowedExecutables", "allowedLibraries"];
                    for (k, v) in self.fields("executable", v, &keys).unwrap_or_default() {
                        let access = match k {
                            "allowedExecutables" => Access::Execute,
                            _ => Access::Library,
                        };
                        self.paths(&format!("executable.{k}"), v, access, p);
                    }
                }
                "network" => p.network = self.network(v),
                "capability" => {
                    let keys = ["allowedCapabilities"];
                    for (_, v) in self.fields("capability", v, &keys).unwrap_or_default() {
                        let mut caps = Vec::new();
                        for item in self.list("capability.allowedCapabilities", v) {
                            let Some(s) = self.string("a capability", item) else {
                                continue;
                            };
                            match confine_abi::caps::Capability::parse(s) {
                                Ok(_) => caps.push(s.to_string()),
                                // apparmor_parser: "Invalid capability".
                                Err(e) => self.error("bad-capability", item.span, e.to_string()),
                            }
                        }
                        p.capabilities = Some(caps);
                    }
                }
                _ => p.extensions = self.extensions(v, p),
            }
        }
    }

    fn paths(&mut self, where_: &str, n: &Node, access: Access, p: &mut Policy) {
        let items = self.list(where_, n);
        p.paths.reserve(items.len());
        for item in items {
            let Some(s) = self.string(&format!("a path in {where_}"), item) else {
                continue;
            };
            if !s.starts_with('/') {
                self.error(
                    "relative-path",
                    item.span,
                    format!("`{s}` in {where_} is not an absolute path"),
                );
                continue;
            }
            p.paths.push(PathRule {
                path: s.to_string(),
                access,
                span: item.span,
            });
        }
    }

    fn network(&mut self, n: &Node) -> Network {
        let mut net = Network::default();
        for (k, v) in self
            .fields("network", n, &["allowRaw", "allowedProtocols"])
            .unwrap_or_default()
        {
            if k == "allowRaw" {
                net.allow_raw = self.boolean("network.allowRaw", v);
                continue;
            }
            let keys = ["allowTcp", "allowUdp"];
            for (k, v) in self
                .fields("network.allowedProtocols", v, &keys)
                .unwrap_or_default()
            {
                let b = self.boolean(&format!("network.allowedProtocols.{k}"), v);
                if k == "allowTcp" {
                    net.allow_tcp = b;
                } else {
                    net.allow_udp = b;
                }
            }
        }
        net
    }

    fn extensions(&mut self, n: &Node, p: &mut Policy) -> Option<Extensions> {
        let keys = ["version", "tcp", "scopes", "deviceIoctl", "refer"];
        let fs = self.fields("confine", n, &keys)?;
        let mut x = Extensions::default();
        let mut version = None;
        let mut version_given = false;
        for (k, v) in fs {
            match k {
                "version" => {
                    version_given = true;
                    version = self.version(v);
                }
                "tcp" => {
                    for (k, v) in self
                        .fields("confine.tcp", v, &["bind", "connect"])
                        .unwrap_or_default()
                    {
                        let ports = Some(self.ports(&format!("confine.tcp.{k}"), v));
                        if k == "bind" {
                            x.tcp_bind = ports;
                        } else {
                            x.tcp_connect = ports;
                        }
                    }
                }
                "scopes" => {
                    for item in self.list("confine.scopes", v) {
                        match self.string("a scope", item) {
                            Some("signal") => x.scopes.push(Scope::Signal),
                            Some("abstract-unix") => x.scopes.push(Scope::AbstractUnix),
                            Some(s) => self.error(
                                "bad-scope",
                                item.span,
                                format!("unknown scope `{s}` (known: signal, abstract-unix)"),
                            ),
                            None => {}
                        }
                    }
                    x.scopes.sort();
                    x.scopes.dedup();
                }
                "deviceIoctl" => {
                    x.device_ioctl = true;
                    self.paths("confine.deviceIoctl", v, Access::DeviceIoctl, p);
                }
                _ => {
                    x.refer = true;
                    self.paths("confine.refer", v, Access::Refer, p);
                }
            }
        }
        match version {
            Some(v) => x.version = v,
            None => {
                if version_given {
                    return None;
                }
                self.error(
                    "bad-version",
                    start(n),
                    format!("confine needs `version: {EXTENSION_VERSION}`"),
                );
                return None;
            }
        }
        Some(x)
    }

    fn version(&mut self, v: &Node) -> Option<u32> {
        match &v.value {
            Value::Scalar(s, true) if s.parse::<u32>() == Ok(EXTENSION_VERSION) => {
                Some(EXTENSION_VERSION)
            }
            Value::Scalar(s, true) if s.parse::<u64>().is_ok() => {
                self.error(
                    "bad-version",
                    v.span,
                    format!("confine.version {s} is not supported (only {EXTENSION_VERSION})"),
                );
                None
            }
            _ => {
                self.wrong_type("confine.version", "a number", v);
                None
            }
        }
    }

    fn ports(&mut self, where_: &str, n: &Node) -> Vec<PortRule> {
        let mut out = Vec::new();
        for item in self.list(where_, n) {
            let Value::Scalar(s, true) = &item.value else {
                self.wrong_type(&format!("a port in {where_}"), "a number", item);
                continue;
            };
            let Ok(v) = s.parse::<i64>() else {
                self.wrong_type(&format!("a port in {where_}"), "a number", item);
                continue;
            };
            // 0 in tcp.bind: binding to an ephemeral port (Landlock checks bind(2) to port 0
            // against a rule for port 0, include/uapi/linux/landlock.h)
            let lowest = if where_ == "confine.tcp.bind" { 0 } else { 1 };
            match u16::try_from(v) {
                Ok(port) if port >= lowest => out.push(PortRule {
                    port,
                    span: item.span,
                }),
                _ => self.error(
                    "port-range",
                    item.span,
                    format!("port {v} in {where_} is out of range ({lowest} to 65535)"),
                ),
            }
        }
        out
    }
}
