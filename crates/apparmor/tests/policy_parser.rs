//! The file-and-network policy rendered as AppArmor profiles, accepted by the real
//! `apparmor_parser` (`-Q -K -M` with the Debian 6.1 kernel's features file: parsed and
//! compiled, nothing loaded). Without the parser the tests say so and pass, except under
//! `CI=true`, where it must be installed (.ci/run installs the `apparmor` package).

use confine_apparmor::parser::{self, ParserOptions};
use confine_apparmor::policy::render;
use confine_apparmor::template::Params;
use confine_test_support::fixtures;
use std::path::{Path, PathBuf};

fn parser_path() -> Option<PathBuf> {
    let found = confine_apparmor::detect::find_parser();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v != "true"),
            "apparmor_parser is required under CI=true (apt-get install apparmor)"
        );
        eprintln!("skipped: apparmor_parser not found (apt-get install apparmor)");
    }
    found
}

/// The header choices of a host with /etc/apparmor.d (when this one has it), and of none.
fn header_choices() -> Vec<(Params, ParserOptions)> {
    let bare = Params {
        name: "policy".into(),
        daemon_profile: "unconfined".into(),
        abi: None,
        tunables_global: false,
        abstractions_base: false,
    };
    let mut out = vec![(bare, ParserOptions::default())];
    let dir = Path::new("/etc/apparmor.d");
    if dir.join("tunables/global").is_file() && dir.join("abstractions/base").is_file() {
        let host = Params::for_host(
            "policy",
            "unconfined",
            dir,
            confine_apparmor::template::AbiChoice::Auto,
            false,
        )
        .unwrap();
        out.push((host, ParserOptions::default()));
    } else {
        eprintln!("note: no /etc/apparmor.d/tunables/global here: only the bare header is checked");
    }
    out
}

/// The `yaml` block under "## Example" in docs/policy-schema.md.
fn schema_example() -> String {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/policy-schema.md"),
    )
    .unwrap();
    let after = &doc[doc.find("## Example").expect("an Example section")..];
    let start = after.find("```yaml\n").unwrap() + "```yaml\n".len();
    let end = after[start..].find("```").unwrap();
    after[start..start + end].to_string()
}

/// Every field of the abstract and of the extensions, with paths that need quoting.
const EVERY_FIELD: &str = "\
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: AppArmorProfile
metadata: {name: every-field}
spec:
  mode: Complain
  abstract:
    filesystem:
      readOnlyPaths: [/etc/**, /usr/share/, /etc/*.conf, '/opt/my app/{a,b}.conf', '/srv/#x']
      writeOnlyPaths: [/var/log/web.log, /run/web/]
      readWritePaths: [/tmp/, '/dev/tty[0-9]']
    executable:
      allowedExecutables: [/usr/bin/web, /usr/local/bin/**]
      allowedLibraries: [/usr/lib/**, /lib/**]
    network:
      allowRaw: false
      allowedProtocols: {allowTcp: false, allowUdp: false}
    capability:
      allowedCapabilities: [net_bind_service, CAP_CHOWN, SYS_ADMIN, perfmon, checkpoint_restore]
    confine:
      version: 1
      tcp: {bind: [8080], connect: [5432, 443]}
      scopes: [signal, abstract-unix]
      deviceIoctl: [/dev/dri/**]
      refer: [/srv/data/]
";

fn policies() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures::dir().join("spo")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        // only the objects: the CRDs and the seccomp profile are other kinds
        if String::from_utf8_lossy(&bytes).contains("\nkind: AppArmorProfile") {
            out.push((path.display().to_string(), bytes));
        }
    }
    assert!(!out.is_empty(), "no SPO AppArmorProfile fixture");
    out.push((
        "policy-schema.md example".into(),
        schema_example().into_bytes(),
    ));
    out.push(("every field".into(), EVERY_FIELD.as_bytes().to_vec()));
    for (name, text) in [
        ("empty abstract", "{}"),
        ("filesystem only", "filesystem: {readOnlyPaths: [/]}"),
        (
            "executable only",
            "executable: {allowedExecutables: [/bin/sh]}",
        ),
        (
            "tcp without ports",
            "network: {allowedProtocols: {allowTcp: false}}",
        ),
        ("no capabilities", "capability: {allowedCapabilities: []}"),
    ] {
        out.push((name.into(), text.as_bytes().to_vec()));
    }
    out
}

#[test]
fn every_rendering_is_accepted_by_apparmor_parser() {
    let Some(parser) = parser_path() else { return };
    let features = fixtures::kernel_6_1_features();
    let mut checked = 0;
    for (name, bytes) in policies() {
        let loaded = confine_policy::load(&name, &bytes);
        let policy = loaded
            .policy
            .unwrap_or_else(|| panic!("{name}: {:?}", loaded.diagnostics));
        for (params, opts) in header_choices() {
            let r = render(&policy, &params).unwrap_or_else(|e| panic!("{name}: {e}"));
            let bin = parser::compile(&parser, &r.text, &features, &opts)
                .unwrap_or_else(|e| panic!("{name}: {e}\n{}", r.text));
            assert!(!bin.is_empty());
            let names = parser::profile_names(&parser, &r.text, &opts).unwrap();
            assert_eq!(names, ["policy"], "{name}");
            checked += 1;
        }
    }
    eprintln!("{checked} renderings accepted by {}", parser.display());
}

#[test]
fn the_readme_example_is_the_schema_example() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/web-policy.yaml");
    assert_eq!(std::fs::read_to_string(file).unwrap(), schema_example());
}

#[test]
fn variables_compile_with_the_tunables() {
    let Some(parser) = parser_path() else { return };
    if !Path::new("/etc/apparmor.d/tunables/global").is_file() {
        eprintln!("skipped: no /etc/apparmor.d/tunables/global");
        return;
    }
    let p = confine_policy::load(
        "v.yaml",
        b"filesystem: {readOnlyPaths: ['/proc/@{pid}/maps', '/proc/@{pid}/task/@{tid}/status']}",
    )
    .policy
    .unwrap();
    let params = header_choices().pop().unwrap().0;
    let r = render(&p, &params).unwrap();
    parser::compile(
        &parser,
        &r.text,
        &fixtures::kernel_6_1_features(),
        &ParserOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", r.text));
}

/// The facts the renderer relies on, as apparmor_parser compiles them.
#[test]
fn the_rendering_decisions_hold_in_the_parser() {
    let Some(parser) = parser_path() else { return };
    let features = fixtures::kernel_6_1_features();
    let compile = |rules: &str| {
        let text = format!("profile a {{\n  {rules}\n}}\n");
        parser::compile(&parser, &text, &features, &ParserOptions::default())
            .unwrap_or_else(|e| panic!("{rules}: {e}"))
    };
    // `file,` grants execution (ix) and executable mapping: with an executable policy it
    // cannot be used
    assert_eq!(compile("file,"), compile("/{**,} mrwlkix,"));
    assert_ne!(compile("file,"), compile("/{**,} mrwlk,"));
    // `dir/**` does not cover `dir/` itself: both rules are needed
    assert_ne!(compile("/d/** r,"), compile("/d/** r,\n  /d/ r,"));
    // quoting changes nothing for a plain path
    assert_eq!(compile("/etc/passwd r,"), compile("\"/etc/passwd\" r,"));
    // alternation still works inside quotes
    assert_eq!(
        compile("\"/usr/{lib,lib64}/x\" r,"),
        compile("/usr/lib/x r,\n  /usr/lib64/x r,")
    );
}

/// Every printable ASCII character, and a few others, inside a path: refused with its place, or
/// rendered so that apparmor_parser reads one rule for it (a character that ended the rule
/// early would leave a line the parser refuses, or a second rule the line count shows).
#[test]
fn no_character_in_a_path_adds_a_rule() {
    let Some(parser) = parser_path() else { return };
    let mut accepted = Vec::new();
    let mut refused = String::new();
    let chars = (0x20u8..0x7f)
        .map(char::from)
        .chain(['é', '\u{2028}', '\t', '\n', '\r']);
    for c in chars {
        let path = format!("/a{c}b");
        let policy = confine_policy::Policy {
            file: "p.yaml".into(),
            filesystem: true,
            executable: true,
            paths: vec![confine_policy::PathRule {
                path: path.clone(),
                access: confine_policy::Access::ReadOnly,
                span: confine_policy::Span { line: 1, column: 1 },
            }],
            ..Default::default()
        };
        let params = header_choices().remove(0).0;
        match render(&policy, &params) {
            Err(e) => {
                assert!(
                    e.to_string().starts_with("p.yaml:1:1: error: the path"),
                    "{e}"
                );
                refused.push(c);
            }
            Ok(r) => {
                let rules: Vec<&str> = r.text.lines().filter(|l| l.ends_with(" rk,")).collect();
                assert_eq!(rules.len(), 1, "{c:?}: {}", r.text);
                accepted.push((c, r.text));
            }
        }
    }
    assert_eq!(refused, "\"[\\]{}\t\n\r", "the refused characters");
    let features = fixtures::kernel_6_1_features();
    for (c, text) in &accepted {
        parser::compile(&parser, text, &features, &ParserOptions::default())
            .unwrap_or_else(|e| panic!("{c:?}: {e}\n{text}"));
    }
    eprintln!("{} characters accepted by apparmor_parser", accepted.len());
}
