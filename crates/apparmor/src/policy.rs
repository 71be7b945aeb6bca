//! confine's file-and-network policy (SPO's `AppArmorProfile` abstract plus confine's
//! extensions, loaded by `confine-policy`) rendered as an AppArmor profile, with a list of what
//! AppArmor could not express exactly ([`Approximation`]).
//!
//! The header is the docker-default template's ([`Params`]: the `abi` line, `#include
//! <tunables/global>`, `#include <abstractions/base>`; the daemon label is not used), the
//! flags `attach_disconnected,mediate_deleted`, plus `complain` for `spec.mode: Complain`.
//!
//! The rules follow confine's model, the one the Landlock lowering follows: a part of the
//! policy that is absent does not restrict, and the allowed paths are a union (no `deny`
//! rules for paths, unlike SPO's own generator, which adds `deny PATH wl` to read-only paths).
//! The table is in `docs/lsm-comparison.md`.
//!
//! | policy | rendered |
//! |---|---|
//! | `filesystem` and `executable` absent | `file,` (`/{**,} mrwlkix`, checked with apparmor_parser) |
//! | `filesystem` absent, `executable` present | `/{**,} rwlk,`: every file access but execution and executable mapping |
//! | `filesystem` present, `executable` absent | `/{**,} mix,`: execution stays unrestricted |
//! | `readOnlyPaths`, `writeOnlyPaths`, `readWritePaths` | `rk`, `wlk`, `rwlk` (locks and links as Landlock allows them) |
//! | `allowedExecutables`, `allowedLibraries` | `rix`, `mr` |
//! | `dir/`, `dir/**` | both `dir/` and `dir/**` (AppArmor's `dir/**` does not match `dir/` itself) |
//! | `network` absent | `network,` |
//! | `allowTcp`/`allowUdp`/`allowRaw: false` | `network,` plus `deny network FAMILY TYPE,` for the `socket(2)` pairs the Landlock lowering gives seccomp (`audit` instead of `deny` in complain mode) |
//! | `capability` absent, present | `capability,`; `capability NAME,` per entry |
//! | `confine.tcp` ports | no rule: AppArmor 3 network rules have no ports (an approximation) |
//! | `confine.scopes: [signal]` | `signal (receive),` and `signal (send) peer=@{profile_name},` (else `signal,`) |
//! | `confine.scopes: [abstract-unix]` | nothing (an approximation) |
//! | `confine.deviceIoctl` | nothing: AppArmor has no ioctl permission (an approximation) |
//! | `confine.refer` | `l` |
//!
//! Paths go into the text only when they cannot change its structure: a control character
//! (a newline would end the rule), a double quote or a backslash (which could escape the closing
//! quote), unbalanced `{}` or `[]`, or a variable without `tunables/global` is a located error;
//! a path with any character outside `A-Za-z0-9/._-+*?[]{}@~:=%^` is quoted.
//!
//! ```
//! use confine_apparmor::policy::render;
//! use confine_apparmor::template::Params;
//!
//! let text = "filesystem:\n  readOnlyPaths: [/etc/]\n\
//!             confine:\n  version: 1\n  tcp: {bind: [8080]}\n";
//! let policy = confine_policy::load("p.yaml", text.as_bytes()).policy.unwrap();
//! let params = Params { name: "web".into(), ..Params::golden() }; // no includes
//! let r = render(&policy, &params).unwrap();
//! assert!(r.text.contains("profile \"web\" flags=(attach_disconnected,mediate_deleted) {"));
//! assert!(r.text.contains("  /etc/ rk,\n  /etc/** rk,\n"));
//! // without abstractions/base, and the port AppArmor 3 cannot restrict
//! let notes: Vec<String> = r.approximations.iter().map(|a| a.to_string()).collect();
//! assert!(notes[0].starts_with("p.yaml: note: abstractions/base: not included"));
//! assert!(notes[1].starts_with("p.yaml:5:16: note: confine.tcp.bind: AppArmor 3"));
//! ```

use crate::template::{check_name, NameError, Params};
use confine_policy::{Access, Mode, Policy, Scope, Span};
use std::fmt;
use std::fmt::Write as _;
use std::path::Path;

/// Something AppArmor could not express exactly, and what was rendered instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approximation {
    /// The policy file.
    pub file: String,
    /// Where in it, when the model kept the place.
    pub span: Option<Span>,
    /// What was approximated, e.g. `confine.tcp.bind`.
    pub subject: String,
    /// What AppArmor does instead.
    pub message: String,
}

impl fmt::Display for Approximation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Some(s) => write!(f, "{}:{}:{}: ", self.file, s.line, s.column)?,
            None => write!(f, "{}: ", self.file)?,
        }
        write!(f, "note: {}: {}", self.subject, self.message)
    }
}

/// The profile and its approximations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The profile text.
    pub text: String,
    /// What AppArmor could not express exactly, in policy order.
    pub approximations: Vec<Approximation>,
}

/// A policy that cannot be rendered safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The profile name cannot go into the text.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A path that could change the profile's structure, or that apparmor_parser would refuse.
    #[error("{file}:{}:{}: error: the path {path:?} {why}", span.line, span.column)]
    Path {
        /// The policy file.
        file: String,
        /// Where the path was written.
        span: Span,
        /// The path as written.
        path: String,
        /// Why it is refused.
        why: String,
    },
    /// A capability AppArmor does not know.
    #[error("{file}: error: capability `{name}` is not a capability AppArmor knows")]
    Capability {
        /// The policy file.
        file: String,
        /// The name as written.
        name: String,
    },
}

/// Characters a path may hold without quotes.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/._-+*?[]{}@~:=%^".contains(c)
}

/// Why a path cannot go into the text, if it cannot.
fn refuse(path: &str, tunables: bool) -> Option<String> {
    if let Some(c) = path.chars().find(|c| c.is_control()) {
        return Some(format!(
            "contains the control character {c:?}, which could end the rule and start another"
        ));
    }
    if path.contains('"') {
        return Some("contains a double quote, which would end the quoted path".into());
    }
    if path.contains('\\') {
        return Some(
            "contains a backslash (an AppArmor escape, which could escape the closing quote); confine does not render escapes"
                .into(),
        );
    }
    let (mut braces, mut class) = (0i32, false);
    for c in path.chars() {
        match c {
            '[' if !class => class = true,
            ']' if class => class = false,
            ']' => return Some("has a `]` without its `[`".into()),
            '{' if !class => braces += 1,
            '}' if !class => {
                braces -= 1;
                if braces < 0 {
                    return Some("has a `}` without its `{`".into());
                }
            }
            _ => {}
        }
    }
    if class {
        return Some("has a `[` without its `]`".into());
    }
    if braces != 0 {
        return Some("has a `{` without its `}`".into());
    }
    if !tunables && path.contains("@{") {
        return Some(
            "uses an AppArmor variable, but tunables/global (which defines them) is not included"
                .into(),
        );
    }
    None
}

/// The path as it goes into a rule: quoted unless every character is plain. Callers have
/// refused what quoting cannot make safe.
fn quote(path: &str) -> String {
    if path.chars().all(plain) {
        path.to_string()
    } else {
        format!("\"{path}\"")
    }
}

/// The AppArmor paths for one policy path: a directory (`dir/`, `dir/**`) gives both the
/// directory itself and everything beneath it.
fn expand(path: &str) -> Vec<String> {
    if let Some(dir) = path.strip_suffix("/**") {
        vec![format!("{dir}/"), path.to_string()]
    } else if path.ends_with('/') {
        vec![path.to_string(), format!("{path}**")]
    } else {
        vec![path.to_string()]
    }
}

/// The permissions of an access, or `None` when AppArmor has none for it.
fn perms(access: Access) -> Option<&'static str> {
    match access {
        // locks (k) are not mediated by Landlock: every readable or writable file may be
        // locked; a link (l) into a writable path is what Landlock's MAKE_REG allows within a
        // directory (AppArmor still requires the link's rights to be a subset of the target's)
        Access::ReadOnly => Some("rk"),
        Access::WriteOnly => Some("wlk"),
        Access::ReadWrite => Some("rwlk"),
        Access::Execute => Some("rix"),
        Access::Library => Some("mr"),
        Access::Refer => Some("l"),
        Access::DeviceIoctl => None,
    }
}

fn section(access: Access) -> &'static str {
    match access {
        Access::ReadOnly => "filesystem.readOnlyPaths",
        Access::WriteOnly => "filesystem.writeOnlyPaths",
        Access::ReadWrite => "filesystem.readWritePaths",
        Access::Execute => "executable.allowedExecutables",
        Access::Library => "executable.allowedLibraries",
        Access::Refer => "confine.refer",
        Access::DeviceIoctl => "confine.deviceIoctl",
    }
}

/// The AppArmor spelling of a capability (`sys_admin`), from any spelling the loader accepts.
pub fn capability_name(name: &str) -> Option<String> {
    let cap = confine_abi::caps::Capability::parse(name).ok()?;
    Some(cap.short_name()?.to_ascii_lowercase())
}

struct Out {
    file: String,
    text: String,
    notes: Vec<Approximation>,
}

impl Out {
    fn line(&mut self, s: &str) {
        self.text.push_str("  ");
        self.text.push_str(s);
        self.text.push('\n');
    }
    fn note(&mut self, span: Option<Span>, subject: &str, message: String) {
        self.notes.push(Approximation {
            file: self.file.clone(),
            span,
            subject: subject.to_string(),
            message,
        });
    }
}

/// The profile name for a policy: the SPO object's `metadata.name`, else the file's name
/// without its extension, whichever is a plain name (letters, digits, `.`, `_`, `-`), else
/// `confine-policy`.
pub fn profile_name(metadata_name: Option<&str>, file: &Path) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    let stem = (file != Path::new("-"))
        .then(|| file.file_stem().and_then(|s| s.to_str()))
        .flatten();
    [metadata_name, stem]
        .into_iter()
        .flatten()
        .find(|s| plain(s))
        .unwrap_or("confine-policy")
        .to_string()
}

/// Render `policy` as an AppArmor profile named `params.name`.
pub fn render(policy: &Policy, params: &Params) -> Result<Rendered, RenderError> {
    check_name("profile name", &params.name)?;
    let file = policy.file.clone();
    for rule in &policy.paths {
        if let Some(why) = refuse(&rule.path, params.tunables_global) {
            return Err(RenderError::Path {
                file,
                span: rule.span,
                path: rule.path.clone(),
                why,
            });
        }
    }
    let caps = match &policy.capabilities {
        None => None,
        Some(list) => {
            let mut names: Vec<String> = Vec::with_capacity(list.len());
            for n in list {
                let Some(c) = capability_name(n) else {
                    return Err(RenderError::Capability {
                        file,
                        name: n.clone(),
                    });
                };
                if !names.contains(&c) {
                    names.push(c);
                }
            }
            Some(names)
        }
    };

    let mut o = Out {
        file,
        text: String::with_capacity(2048),
        notes: Vec::new(),
    };
    o.text.push_str("# rendered by confine from a file-and-network policy (SPO AppArmorProfile abstract and confine extensions)\n");
    if let Some(abi) = &params.abi {
        let _ = writeln!(o.text, "abi <{abi}>,");
    }
    if params.tunables_global {
        o.text.push_str("#include <tunables/global>\n");
    }
    o.text.push('\n');
    let complain = policy.mode == Mode::Complain;
    let _ = writeln!(
        o.text,
        "profile \"{}\" flags=(attach_disconnected,mediate_deleted{}) {{",
        params.name,
        if complain { ",complain" } else { "" }
    );
    if params.abstractions_base {
        o.line("#include <abstractions/base>");
        o.text.push('\n');
    } else if policy.filesystem || policy.executable {
        o.note(
            None,
            "abstractions/base",
            "not included: the files every process needs (the dynamic loader, libc's locale and /dev/null) need rules of their own".into(),
        );
    }

    files(policy, &mut o);
    network(policy, complain, &mut o);

    o.line("# capability");
    match caps {
        None => o.line("capability,"),
        Some(names) if names.is_empty() => o.line("# (none: every capability is denied)"),
        Some(names) => {
            for n in names {
                o.line(&format!("capability {n},"));
            }
        }
    }
    o.text.push('\n');

    let scopes = policy
        .extensions
        .as_ref()
        .map(|x| x.scopes.clone())
        .unwrap_or_default();
    o.line("# signals and ptrace: like Landlock, tracing only within the profile");
    if scopes.contains(&Scope::Signal) {
        o.line("signal (receive),");
        o.line("signal (send) peer=@{profile_name},");
        o.note(
            None,
            "confine.scopes signal",
            format!(
                "AppArmor names the peer by profile: signals may be sent to every process confined by \"{}\", not only to this sandbox's",
                params.name
            ),
        );
    } else {
        o.line("signal,");
    }
    o.line("ptrace (readby, tracedby),");
    o.line("ptrace (trace, read) peer=@{profile_name},");
    if scopes.contains(&Scope::AbstractUnix) {
        o.note(
            None,
            "confine.scopes abstract-unix",
            "not rendered: AppArmor 3 unix rules cannot allow every connection but those to abstract sockets of other profiles; abstract unix sockets stay unrestricted".into(),
        );
    }
    o.text.push_str("}\n");
    Ok(Rendered {
        text: o.text,
        approximations: o.notes,
    })
}

fn files(policy: &Policy, o: &mut Out) {
    o.line("# files");
    match (policy.filesystem, policy.executable) {
        (false, false) => o.line("file,"),
        (false, true) => {
            o.line("# filesystem absent: every file access but execution and executable mapping");
            o.line("/{**,} rwlk,");
        }
        (true, false) => {
            o.line("# executable absent: execution is not restricted");
            o.line("/{**,} mix,");
        }
        (true, true) => {}
    }
    for rule in &policy.paths {
        let Some(p) = perms(rule.access) else {
            o.note(
                Some(rule.span),
                section(rule.access),
                format!(
                    "AppArmor has no ioctl permission: ioctl(2) is allowed on every file the process can open, so nothing is rendered for {}",
                    rule.path
                ),
            );
            continue;
        };
        for path in expand(&rule.path) {
            o.line(&format!("{} {p},", quote(&path)));
        }
        if rule.access == Access::Refer {
            let message = if policy.filesystem {
                "rendered as `l` (hard links); AppArmor has no reparent right: a rename needs read and write on both ends (readWritePaths), and a link needs no create right".to_string()
            } else {
                "filesystem is absent, so every path already allows links and renames".to_string()
            };
            o.note(Some(rule.span), section(rule.access), message);
        }
    }
    o.text.push('\n');
}

fn network(policy: &Policy, complain: bool, o: &mut Out) {
    let net = &policy.network;
    let x = policy.extensions.as_ref();
    let lists = [
        ("bind", x.and_then(|x| x.tcp_bind.as_ref())),
        ("connect", x.and_then(|x| x.tcp_connect.as_ref())),
    ];
    let any_port = lists.iter().any(|(_, l)| l.is_some_and(|l| !l.is_empty()));
    let deny_tcp = net.allow_tcp == Some(false);
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if deny_tcp && !any_port {
        pairs.extend([("inet", "stream"), ("inet6", "stream")]);
    }
    if net.allow_udp == Some(false) {
        pairs.extend([("inet", "dgram"), ("inet6", "dgram")]);
    }
    if net.allow_raw == Some(false) {
        pairs.extend([
            ("inet", "raw"),
            ("inet6", "raw"),
            ("inet", "packet"),
            ("packet", ""),
            ("xdp", ""),
        ]);
    }
    o.line("# network");
    o.line("network,");
    if !pairs.is_empty() && complain {
        o.line("# complain mode: logged, not denied");
    }
    let verb = if complain { "audit" } else { "deny" };
    for (family, kind) in pairs {
        // an empty kind: every type of the family
        let rule = [family, kind].join(" ");
        o.line(&format!("{verb} network {},", rule.trim_end()));
    }
    for (what, list) in lists {
        let Some(list) = list else { continue };
        let subject = format!("confine.tcp.{what}");
        let ports: Vec<String> = list.iter().map(|p| p.port.to_string()).collect();
        let span = list.first().map(|p| p.span);
        let message = if deny_tcp && any_port {
            format!(
                "AppArmor 3 network rules have no ports: for the exceptions [{}] to allowTcp: false, every TCP port stays allowed (bind and connect)",
                ports.join(", ")
            )
        } else if deny_tcp {
            continue; // no ports anywhere: TCP is denied, as Landlock denies it
        } else {
            format!(
                "AppArmor 3 network rules have no ports: TCP {what} is allowed on every port, not only [{}]",
                ports.join(", ")
            )
        };
        o.note(span, &subject, message);
    }
    o.text.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params {
            name: "p".into(),
            daemon_profile: "unconfined".into(),
            abi: Some(crate::ABI_3_0.into()),
            tunables_global: true,
            abstractions_base: true,
        }
    }

    fn load(text: &str) -> Policy {
        let l = confine_policy::load("p.yaml", text.as_bytes());
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        l.policy.unwrap()
    }

    fn render_text(text: &str) -> Rendered {
        render(&load(text), &params()).unwrap()
    }

    fn refused(text: &str) -> String {
        render(&load(text), &params()).unwrap_err().to_string()
    }

    #[test]
    fn an_empty_abstract_restricts_nothing() {
        let r = render_text("{}");
        for rule in [
            "  file,\n",
            "  network,\n",
            "  capability,\n",
            "  signal,\n",
        ] {
            assert!(r.text.contains(rule), "{rule}: {}", r.text);
        }
        assert!(r
            .text
            .starts_with("# rendered by confine from a file-and-network policy"));
        assert!(r.text.contains(
            "abi <abi/3.0>,\n#include <tunables/global>\n\nprofile \"p\" flags=(attach_disconnected,mediate_deleted) {\n  #include <abstractions/base>\n"
        ));
        assert!(!r.text.contains("deny"));
        assert!(r.approximations.is_empty());
    }

    #[test]
    fn directories_get_both_rules() {
        let r = render_text(
            "filesystem:\n  readOnlyPaths: [/d/, /var/log/**, /etc/*.conf, /etc/passwd]\n  readWritePaths: [/tmp/]\n  writeOnlyPaths: [/w]\n",
        );
        for rule in [
            "  /d/ rk,\n",
            "  /d/** rk,\n",
            "  /var/log/ rk,\n",
            "  /var/log/** rk,\n",
            "  /etc/*.conf rk,\n",
            "  /etc/passwd rk,\n",
            "  /tmp/ rwlk,\n",
            "  /tmp/** rwlk,\n",
            "  /w wlk,\n",
            "  /{**,} mix,\n",
        ] {
            assert!(r.text.contains(rule), "{rule}: {}", r.text);
        }
        assert!(!r.text.contains("  file,"));
        assert!(!r.text.contains("/etc/*.conf/"));
    }

    #[test]
    fn executables_and_libraries() {
        let r = render_text(
            "executable:\n  allowedExecutables: [/usr/bin/web]\n  allowedLibraries: [/usr/lib/**]\n",
        );
        for rule in [
            "  /{**,} rwlk,\n",
            "  /usr/bin/web rix,\n",
            "  /usr/lib/ mr,\n",
            "  /usr/lib/** mr,\n",
        ] {
            assert!(r.text.contains(rule), "{rule}: {}", r.text);
        }
        assert!(
            !r.text.contains("  file,"),
            "file, would grant ix everywhere"
        );
    }

    #[test]
    fn network_denials_are_the_seccomp_pairs() {
        let r = render_text(
            "network:\n  allowRaw: false\n  allowedProtocols: {allowTcp: false, allowUdp: false}\n",
        );
        for rule in [
            "  network,\n",
            "  deny network inet stream,\n",
            "  deny network inet6 stream,\n",
            "  deny network inet dgram,\n",
            "  deny network inet6 dgram,\n",
            "  deny network inet raw,\n",
            "  deny network inet6 raw,\n",
            "  deny network inet packet,\n",
            "  deny network packet,\n",
            "  deny network xdp,\n",
        ] {
            assert!(r.text.contains(rule), "{rule}: {}", r.text);
        }
        let r = render_text("network:\n  allowedProtocols: {allowTcp: true}\n");
        assert!(r.text.contains("  network,\n") && !r.text.contains("deny"));
    }

    #[test]
    fn complain_mode_audits_instead_of_denying() {
        let r = render_text(
            "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nspec:\n  mode: Complain\n  abstract:\n    network: {allowRaw: false}\n",
        );
        assert!(r
            .text
            .contains("flags=(attach_disconnected,mediate_deleted,complain)"));
        assert!(r.text.contains("  audit network inet raw,\n"));
        assert!(!r.text.contains("deny"));
    }

    #[test]
    fn ports_are_approximations_with_their_place() {
        let r = render_text(
            "network:\n  allowedProtocols: {allowTcp: false}\nconfine:\n  version: 1\n  tcp: {bind: [8080]}\n",
        );
        assert!(!r.text.contains("deny network inet stream"));
        assert_eq!(r.approximations.len(), 1);
        let a = r.approximations[0].to_string();
        assert!(
            a.starts_with("p.yaml:5:16: note: confine.tcp.bind: "),
            "{a}"
        );
        assert!(a.contains("[8080]"), "{a}");
        // no ports: TCP is denied, nothing approximated
        let r = render_text(
            "network:\n  allowedProtocols: {allowTcp: false}\nconfine:\n  version: 1\n  tcp: {bind: []}\n",
        );
        assert!(r.text.contains("deny network inet stream,"));
        assert!(r.approximations.is_empty());
        // TCP allowed, connect restricted: every port stays allowed
        let r = render_text("confine:\n  version: 1\n  tcp: {connect: [443, 5432]}\n");
        assert!(r.approximations[0]
            .message
            .contains("TCP connect is allowed on every port, not only [443, 5432]"));
    }

    #[test]
    fn extensions() {
        let r = render_text(
            "filesystem: {}\nconfine:\n  version: 1\n  scopes: [signal, abstract-unix]\n  deviceIoctl: [/dev/dri/]\n  refer: [/srv/]\n",
        );
        for rule in [
            "  signal (receive),\n",
            "  signal (send) peer=@{profile_name},\n",
            "  /srv/ l,\n",
            "  /srv/** l,\n",
        ] {
            assert!(r.text.contains(rule), "{rule}: {}", r.text);
        }
        assert!(!r.text.contains("  signal,\n"));
        assert!(!r.text.contains("/dev/dri"));
        let subjects: Vec<&str> = r
            .approximations
            .iter()
            .map(|a| a.subject.as_str())
            .collect();
        assert_eq!(
            subjects,
            [
                "confine.deviceIoctl",
                "confine.refer",
                "confine.scopes signal",
                "confine.scopes abstract-unix"
            ]
        );
        assert_eq!(
            r.approximations[0].span,
            Some(Span {
                line: 5,
                column: 17
            })
        );
    }

    #[test]
    fn capabilities_are_spelled_as_apparmor_does() {
        let r = render_text(
            "capability:\n  allowedCapabilities: [net_bind_service, CAP_SYS_ADMIN, SYS_ADMIN]\n",
        );
        assert!(r
            .text
            .contains("  capability net_bind_service,\n  capability sys_admin,\n"));
        assert!(!r.text.contains("  capability,"));
        let r = render_text("capability:\n  allowedCapabilities: []\n");
        assert!(!r.text.contains("  capability"));
        // the loader refuses unknown names; a policy built by hand is checked again
        let mut p = load("{}");
        p.capabilities = Some(vec!["fly".into()]);
        let e = render(&p, &params()).unwrap_err();
        assert!(matches!(e, RenderError::Capability { .. }), "{e}");
    }

    #[test]
    fn odd_paths_are_quoted() {
        let r = render_text(
            "filesystem:\n  readOnlyPaths: ['/My Documents/a b', '/a#b', '/usr/{lib,lib64}/x', '/é']\n",
        );
        for rule in [
            "  \"/My Documents/a b\" rk,\n",
            "  \"/a#b\" rk,\n",
            "  \"/usr/{lib,lib64}/x\" rk,\n",
            "  \"/é\" rk,\n",
        ] {
            assert!(r.text.contains(rule), "{rule}: {}", r.text);
        }
    }

    #[test]
    fn injection_attempts_are_refused_with_their_place() {
        for (path, why) in [
            (r#""/x r,\n  /** rwix,\n  /y""#, "control character"),
            (r#"'/x" rw, /** rwix, "/y'"#, "double quote"),
            (r#"'/x\'"#, "backslash"),
            (
                "'/x r, } profile evil { /** rwix, /y'",
                "`}` without its `{`",
            ),
            ("'/x{'", "`{` without its `}`"),
            ("'/x['", "`[` without its `]`"),
            ("'/x]'", "`]` without its `[`"),
        ] {
            let e = refused(&format!("filesystem:\n  readOnlyPaths: [{path}]\n"));
            assert!(e.starts_with("p.yaml:2:19: error: the path "), "{e}");
            assert!(e.contains(why), "{path}: {e}");
        }
        // a comma, a hash or a closing brace inside balanced braces is data once quoted
        let r = render_text("filesystem:\n  readOnlyPaths: ['/x, /** rwix, #{a}']\n");
        assert!(
            r.text.contains("  \"/x, /** rwix, #{a}\" rk,\n"),
            "{}",
            r.text
        );
    }

    #[test]
    fn variables_need_the_tunables() {
        let p = load("filesystem:\n  readOnlyPaths: ['/proc/@{pid}/maps']\n");
        assert!(render(&p, &params())
            .unwrap()
            .text
            .contains("  /proc/@{pid}/maps rk,\n"));
        let bare = Params {
            tunables_global: false,
            abstractions_base: false,
            abi: None,
            ..params()
        };
        let e = render(&p, &bare).unwrap_err().to_string();
        assert!(e.contains("tunables/global"), "{e}");
    }

    #[test]
    fn names_that_would_break_the_text_are_refused() {
        let p = load("{}");
        for bad in ["", "a\"b", "a\nb"] {
            let params = Params {
                name: bad.into(),
                ..params()
            };
            assert!(matches!(render(&p, &params), Err(RenderError::Name(_))));
        }
    }
}
