//! The loader: the SPO fixtures, every diagnostic with its place, JSON, and 10,000 rules.

use confine_policy::{load, Access, Mode, Scope};
use confine_profile::diag::{Diagnostic, Severity};
use confine_test_support::fixtures;
use std::time::{Duration, Instant};

fn diags(text: &str) -> Vec<Diagnostic> {
    load("p.yaml", text.as_bytes()).diagnostics
}

/// The one diagnostic of `text`, as `line:column severity code`.
fn one(text: &str) -> String {
    let d = diags(text);
    assert_eq!(d.len(), 1, "{d:#?}");
    let d = &d[0];
    let sev = if d.severity == Severity::Error {
        "error"
    } else {
        "warning"
    };
    format!("{}:{} {sev} {}", d.line, d.column, d.code)
}

#[test]
fn spo_example_loads() {
    let l = load("example", fixtures::SPO_EXAMPLE_APPARMORPROFILE);
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    let p = l.policy.unwrap();
    assert!(p.filesystem);
    assert!(p.paths.is_empty());
    assert_eq!(p.mode, Mode::Enforce);
    assert!(p.extensions.is_none());
    assert_eq!(p.name.as_deref(), Some("test-profile"));
}

#[test]
fn metadata_name_is_kept_as_written() {
    let name = |text: &str| load("n", text.as_bytes()).policy.unwrap().name;
    let obj =
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nspec: {}\n";
    assert_eq!(name(obj), None);
    assert_eq!(
        name(&format!(
            "{obj}metadata: {{name: 'a b', labels: {{x: y}}}}\n"
        ))
        .as_deref(),
        Some("a b")
    );
    assert_eq!(name(&format!("{obj}metadata: [x]\n")), None);
    assert_eq!(name("filesystem: {}\n"), None);
}

#[test]
fn spo_example_path_helper_finds_it() {
    let bytes = std::fs::read(fixtures::spo("example-apparmorprofile.yaml")).unwrap();
    assert_eq!(bytes, fixtures::SPO_EXAMPLE_APPARMORPROFILE);
}

#[test]
fn the_crd_is_not_a_policy() {
    let l = load("crd", fixtures::SPO_APPARMORPROFILE_CRD);
    assert!(l.policy.is_none());
    let codes: Vec<_> = l.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"bad-api-version"), "{codes:?}");
    assert!(codes.contains(&"bad-kind"), "{codes:?}");
}

const FULL: &str = "\
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: AppArmorProfile
metadata:
  name: web
spec:
  mode: Enforce
  abstract:
    filesystem:
      readOnlyPaths: [/etc/**, /usr/share/]
      writeOnlyPaths:
        - /var/log/app.log
      readWritePaths:
        - /tmp/
    executable:
      allowedExecutables: [/usr/bin/app]
      allowedLibraries: [/usr/lib/**]
    network:
      allowRaw: false
      allowedProtocols:
        allowTcp: true
        allowUdp: false
    capability:
      allowedCapabilities: [net_bind_service]
    confine:
      version: 1
      tcp:
        bind: [8080]
        connect: [443, 5432]
      scopes: [signal, abstract-unix]
      deviceIoctl: [/dev/tty]
      refer: [/tmp/]
";

#[test]
fn full_object_loads() {
    let l = load("full", FULL.as_bytes());
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    let p = l.policy.unwrap();
    let got: Vec<_> = p
        .paths
        .iter()
        .map(|r| (r.path.as_str(), r.access))
        .collect();
    assert_eq!(
        got,
        [
            ("/etc/**", Access::ReadOnly),
            ("/usr/share/", Access::ReadOnly),
            ("/var/log/app.log", Access::WriteOnly),
            ("/tmp/", Access::ReadWrite),
            ("/usr/bin/app", Access::Execute),
            ("/usr/lib/**", Access::Library),
            ("/dev/tty", Access::DeviceIoctl),
            ("/tmp/", Access::Refer),
        ]
    );
    assert_eq!(p.paths[2].span.line, 11);
    assert_eq!(p.paths[2].span.column, 11);
    assert_eq!(p.network.allow_raw, Some(false));
    assert_eq!(p.network.allow_tcp, Some(true));
    assert_eq!(p.network.allow_udp, Some(false));
    assert_eq!(p.capabilities, Some(vec!["net_bind_service".to_string()]));
    let x = p.extensions.unwrap();
    assert_eq!(x.version, 1);
    let ports = |v: &Option<Vec<confine_policy::PortRule>>| {
        v.as_ref()
            .unwrap()
            .iter()
            .map(|p| p.port)
            .collect::<Vec<_>>()
    };
    assert_eq!(ports(&x.tcp_bind), [8080]);
    assert_eq!(ports(&x.tcp_connect), [443, 5432]);
    assert_eq!(x.scopes, [Scope::Signal, Scope::AbstractUnix]);
    assert!(x.device_ioctl && x.refer);
}

#[test]
fn json_reads_the_same() {
    let json = r#"{"apiVersion": "security-profiles-operator.x-k8s.io/v1alpha1",
 "kind": "AppArmorProfile",
 "spec": {"abstract": {"filesystem": {"readOnlyPaths": ["/etc/**"]},
	"network": {"allowedProtocols": {"allowTcp":false}},
	"confine": {"version": 1, "tcp": {"connect": [443]}}}}}"#;
    let l = load("p.json", json.as_bytes());
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    let p = l.policy.unwrap();
    assert_eq!(p.paths[0].path, "/etc/**");
    assert_eq!((p.paths[0].span.line, p.paths[0].span.column), (3, 57));
    assert_eq!(p.network.allow_tcp, Some(false));
}

#[test]
fn abstract_alone_loads() {
    let l = load("a", b"filesystem:\n  readOnlyPaths: [/etc/]\n");
    assert!(l.diagnostics.is_empty());
    assert_eq!(l.policy.unwrap().paths.len(), 1);
}

#[test]
fn unknown_key_warns_with_its_place() {
    assert_eq!(
        one("filesystem:\n  readOnlyPaths: []\n  readonlyPaths: []\n"),
        "3:3 warning unknown-key"
    );
    let d = &diags("network:\n  allowRaw: true\n  bogus: 1\n")[0];
    assert_eq!(
        d.to_string(),
        "p.yaml:3:3: warning: unknown key `bogus` in network (ignored) [unknown-key]"
    );
    // A warning leaves the policy usable.
    assert!(load("p", b"x: 1\nfilesystem: {}\n").policy.is_some());
}

#[test]
fn duplicate_key_warns() {
    assert_eq!(
        one("network:\n  allowRaw: true\n  allowRaw: false\n"),
        "3:3 warning duplicate-key"
    );
}

#[test]
fn wrong_types_are_located_errors() {
    assert_eq!(one("filesystem: [1]\n"), "1:13 error wrong-type");
    assert_eq!(
        one("filesystem:\n  readOnlyPaths: /etc\n"),
        "2:18 error wrong-type"
    );
    assert_eq!(
        one("network:\n  allowRaw: \"yes\"\n"),
        "2:13 error wrong-type"
    );
    assert_eq!(
        one("network:\n  allowRaw: \"true\"\n"),
        "2:13 error wrong-type"
    );
    assert_eq!(
        one("filesystem:\n  readOnlyPaths: [{a: 1}]\n"),
        "2:19 error wrong-type"
    );
    assert_eq!(
        one("confine:\n  version: 1\n  tcp: {bind: [http]}\n"),
        "3:16 error wrong-type"
    );
    let l = load("p", b"network:\n  allowRaw: 1\n");
    assert!(l.policy.is_none());
    assert!(l.diagnostics[0]
        .message
        .contains("must be a boolean, not a number"));
}

#[test]
fn relative_path_is_an_error() {
    assert_eq!(
        one("filesystem:\n  readWritePaths: [tmp/x]\n"),
        "2:20 error relative-path"
    );
    assert_eq!(
        one("executable:\n  allowedExecutables:\n    - bin/sh\n"),
        "3:7 error relative-path"
    );
}

#[test]
fn ports_out_of_range_are_errors() {
    // 0 is an ephemeral port to bind, never one to connect to
    assert_eq!(
        one("confine:\n  version: 1\n  tcp:\n    connect: [0]\n"),
        "4:15 error port-range"
    );
    let l = load(
        "p",
        b"confine:\n  version: 1\n  tcp:\n    bind: [0, 8080]\n",
    );
    let bind = l.policy.unwrap().extensions.unwrap().tcp_bind.unwrap();
    assert_eq!(bind.iter().map(|p| p.port).collect::<Vec<_>>(), [0, 8080]);
    assert_eq!(
        one("confine:\n  version: 1\n  tcp:\n    connect: [80, 70000]\n"),
        "4:19 error port-range"
    );
    assert_eq!(
        one("confine:\n  version: 1\n  tcp:\n    connect: [-1]\n"),
        "4:15 error port-range"
    );
}

#[test]
fn unknown_capability_is_an_error() {
    assert_eq!(
        one("capability:\n  allowedCapabilities: [net_raw, not_a_cap]\n"),
        "2:34 error bad-capability"
    );
    let l = load(
        "p",
        b"capability: {allowedCapabilities: [CAP_SYS_ADMIN, chown]}\n",
    );
    assert_eq!(l.policy.unwrap().capabilities.unwrap().len(), 2);
}

#[test]
fn extension_version_and_scopes() {
    assert_eq!(one("confine:\n  scopes: []\n"), "2:3 error bad-version");
    assert_eq!(one("confine:\n  version: 2\n"), "2:12 error bad-version");
    assert_eq!(
        one("confine:\n  version: 1\n  scopes: [ptrace]\n"),
        "3:12 error bad-scope"
    );
}

#[test]
fn object_checks() {
    let head = "kind: AppArmorProfile\nspec: {}\n";
    assert_eq!(
        one(&format!("apiVersion: v1\n{head}")),
        "1:13 error bad-api-version"
    );
    assert_eq!(
        one("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nspec: {}\n"),
        "2:7 error bad-kind"
    );
    assert_eq!(
        one("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nspec: {mode: Audit}\n"),
        "3:14 error bad-enum"
    );
    let l = load(
        "p",
        b"apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nspec: {mode: Complain}\n",
    );
    assert_eq!(l.policy.unwrap().mode, Mode::Complain);
}

#[test]
fn syntax_and_input_errors() {
    assert_eq!(one("filesystem: [\n"), "2:1 error syntax");
    assert_eq!(one(""), "1:1 error empty");
    assert_eq!(one("a: &x 1\nb: *x\n"), "1:7 error syntax");
    assert_eq!(one("--- {}\n--- {}\n"), "2:1 error syntax");
    let l = load("p", b"\xff\xfe");
    assert_eq!(l.diagnostics[0].code, "not-utf8");
}

#[test]
fn null_is_absent() {
    let l = load("p", b"filesystem:\n  readOnlyPaths:\nnetwork: ~\n");
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    let p = l.policy.unwrap();
    assert!(p.filesystem);
    assert_eq!(p.network.allow_raw, None);
}

#[test]
fn ten_thousand_rules_load_fast() {
    let mut text = String::from("filesystem:\n  readOnlyPaths:\n");
    for i in 0..10_000 {
        text.push_str(&format!("    - /srv/data/{i}/**\n"));
    }
    let t = Instant::now();
    let l = load("big", text.as_bytes());
    let took = t.elapsed();
    assert!(l.diagnostics.is_empty());
    let p = l.policy.unwrap();
    assert_eq!(p.paths.len(), 10_000);
    assert_eq!(p.paths[9_999].span.line, 10_002);
    let plan = confine_policy::landlock::landlock(&p, 7, confine_policy::landlock::Compat::Require)
        .unwrap();
    assert_eq!(plan.paths.len(), 10_000);
    // Debug builds, a shared machine: generous, but catches anything quadratic.
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[test]
fn the_schema_doc_example_loads() {
    let doc = include_str!("../../../docs/policy-schema.md");
    let start = doc.find("```yaml\n").unwrap() + 8;
    let end = start + doc[start..].find("```").unwrap();
    let l = load("doc", &doc.as_bytes()[start..end]);
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    let p = l.policy.unwrap();
    assert_eq!(p.paths.len(), 7);
    let plan = confine_policy::landlock::landlock(&p, 6, confine_policy::landlock::Compat::Require)
        .unwrap();
    assert_eq!(plan.ports.len(), 2);
}

#[test]
fn json_escapes_read_as_json_does() {
    let l = load(
        "p.json",
        br#"{"filesystem": {"readOnlyPaths": ["\/etc\/caf\u00e9", "/a\tb"]}}"#,
    );
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    let p = l.policy.unwrap();
    assert_eq!(p.paths[0].path, "/etc/café");
    assert_eq!(p.paths[1].path, "/a\tb");
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let deep = "[".repeat(100_000);
    let l = load("p", deep.as_bytes());
    assert!(l.policy.is_none());
    assert_eq!(l.diagnostics[0].code, "syntax");
    let l = load(
        "p",
        format!("{}{}", "[".repeat(65), "]".repeat(65)).as_bytes(),
    );
    assert!(l.diagnostics[0].message.contains("nested deeper than 64"));
}

#[test]
fn depends_on_no_kernel_runtime_or_seccomp_crate() {
    let manifest = include_str!("../Cargo.toml");
    for forbidden in [
        "confine-kernel",
        "confine-runtime",
        "confine-seccomp",
        "confine.workspace",
    ] {
        assert!(!manifest.contains(forbidden), "{forbidden}");
    }
}

/// Fuzzing (fuzz target `policy`): yaml-rust2 ends the input at a NUL, so everything after it
/// was dropped without a word; and an error at the end of an input without a final newline was
/// placed on a line that does not exist.
#[test]
fn fuzz_nul_refused_and_end_of_input_errors_located() {
    // the rule after the NUL was silently ignored
    let text = "filesystem:\n  readOnlyPaths: [/usr]\0\n  writablePaths: [/tmp]\n";
    assert_eq!(one(text), "2:24 error syntax");
    assert!(load("p.yaml", text.as_bytes()).policy.is_none());
    // the fuzzer's input: JSON with a NUL between a key and its value
    let json = "{\"filesystem\":{\"readOnlyPaths\":[\"/usr/**\"]},\"capability\":\0{}}";
    assert_eq!(one(json), "1:58 error syntax");
    // an unterminated flow sequence: the end of the input is line 1, column 5
    assert_eq!(one("a: ["), "1:5 error syntax");
    assert_eq!(one("a: [\n"), "2:1 error syntax");
    // a lone carriage return ends no line (the fuzzer's input: 61 of them, and a diagnostic
    // on line 62 of a 4-line text)
    let cr = format!(
        "a  executabne:\n    ) allowedExecutcbles{}: [/uDr/bin/e:\n   ]\n",
        "\r".repeat(61)
    );
    let d = diags(&cr);
    assert!(!d.is_empty() && d.iter().all(|d| d.line <= 4), "{d:#?}");
}

/// Fuzzing (fuzz target `policy`): an error at the end of an input without a final newline
/// came with a character index one past the end (yaml-rust2's scanner steps over its
/// end-of-input sentinel), so its column lay beyond the last line.
#[test]
fn end_of_input_error_is_placed_at_most_one_past_the_last_character() {
    // the fuzzer's input: line 3 holds 86 characters (one of them two bytes), and the
    // diagnostic said column 88
    let text = "iVexec}table*ystem:\n>\n  s\":[{&alvowedCapabn_shrvic%\"]!2eities\"sd\u{284}\"[{&alvowedCapabn_shrvic%\"]:[{&al  e  [are/";
    assert_eq!(text.lines().nth(2).unwrap().chars().count(), 86);
    assert_eq!(one(text), "3:87 error syntax");
    for t in ["a: [", "a: {b", "x:\n  y: \"z", "k: 'v"] {
        for d in diags(t) {
            let last = t.rsplit('\n').next().unwrap().chars().count() as u32;
            assert!(d.line as usize == t.lines().count(), "{t:?}: {d}");
            assert!(d.column <= last + 1, "{t:?}: {d}");
        }
    }
}
