//! `confine seccomp export` (issue 18, first part) checked by the consumers: the OCI and
//! Docker exports decide as the profile (`seccomp diff` of the round trip), and the program
//! exported for bubblewrap, loaded by the real `bwrap --seccomp FD`, gives the probe the same
//! errnos as `confine run` with the same profile.

use confine_test_support::run::confine;
use std::process::Command;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The probe's syscall lines (not the status lines, which differ between sandboxes).
fn probes(out: &[u8]) -> Vec<String> {
    text(out)
        .lines()
        .filter(|l| {
            !l.starts_with("Cap") && !l.starts_with("NoNewPrivs") && !l.starts_with("Seccomp")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn oci_and_docker_exports_decide_as_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let record = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/record-1.json");
    for profile in ["docker-default", record] {
        for to in ["oci", "docker"] {
            let out = dir.path().join(format!("{to}.json"));
            let o = confine(&[
                "seccomp",
                "export",
                profile,
                "--to",
                to,
                "-o",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{profile} {to}: {}", text(&o.stderr));
            let o = confine(&["seccomp", "diff", out.to_str().unwrap(), profile]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{profile} {to}: {}{}",
                text(&o.stdout),
                text(&o.stderr)
            );
        }
    }
}

#[test]
fn what_docker_before_23_ignores_is_said_and_strict_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.json");
    std::fs::write(
        &p,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"flags":["SECCOMP_FILTER_FLAG_LOG"],
            "listenerPath":"/run/agent.sock","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"},
                        {"names":["getpid"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    )
    .unwrap();
    let out = dir.path().join("d.json");
    let o = confine(&[
        "seccomp",
        "export",
        p.to_str().unwrap(),
        "--to",
        "docker",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    for what in ["defaultErrnoRet", "flags", "listenerPath"] {
        assert!(e.contains(&format!("warning: {what}")), "{what}: {e}");
    }
    assert!(e.contains("Docker before 23.0 ignores it"), "{e}");
    std::fs::remove_file(&out).unwrap();
    let o = confine(&[
        "seccomp",
        "export",
        p.to_str().unwrap(),
        "--to",
        "docker",
        "--strict",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(!out.exists());
    // a profile that notifies cannot go to bwrap, which has no listener to give
    let o = confine(&[
        "seccomp",
        "export",
        p.to_str().unwrap(),
        "--to",
        "bwrap",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        text(&o.stderr).contains("SCMP_ACT_NOTIFY"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn bwrap_runs_the_exported_program_as_confine_run_does() {
    if Command::new("bwrap").arg("--version").output().is_err() {
        panic!("bwrap (Debian's bubblewrap) is needed: CI installs it");
    }
    let dir = tempfile::tempdir().unwrap();
    let (_keep, probe) = confine_test_support::run::static_program(
        env!("CARGO_MANIFEST_DIR"),
        "tests/probe/probe.rs",
        "probe",
    );
    let bpf = dir.path().join("p.bpf");
    let o = confine(&[
        "seccomp",
        "export",
        "docker-default",
        "--to",
        "bwrap",
        "-o",
        bpf.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("bwrap --seccomp 9"),
        "{}",
        text(&o.stderr)
    );
    // the program on descriptor 9 (dash redirects single digits only), as bwrap reads it ("$1", no caller data in the script)
    let o = Command::new("sh")
        .args([
            "-c",
            "f=$1; shift; exec bwrap --ro-bind / / --dev /dev --proc /proc --seccomp 9 \"$@\" 9<\"$f\"",
            "sh",
        ])
        .arg(&bpf)
        .arg(&probe)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let under_bwrap = probes(&o.stdout);
    let o = confine(&["run", "-q", "--", probe.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let under_run = probes(&o.stdout);
    assert_eq!(under_bwrap.len(), 12, "{under_bwrap:?}");
    assert_eq!(under_bwrap, under_run);
    // and the filter is really there: a refused call
    assert!(
        under_bwrap.contains(&"mount_null 1".to_string()),
        "{under_bwrap:?}"
    );

    // the C array holds the same instructions
    let c = dir.path().join("p.c");
    let o = confine(&[
        "seccomp",
        "export",
        "docker-default",
        "--to",
        "c",
        "-o",
        c.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let src = std::fs::read_to_string(&c).unwrap();
    let n = std::fs::metadata(&bpf).unwrap().len() / 8;
    assert!(
        src.contains(&format!("static struct sock_filter confine_filter[{n}]")),
        "{n}"
    );
    assert_eq!(
        src.lines()
            .filter(|l| l.trim_start().starts_with("{ 0x"))
            .count() as u64,
        n
    );
}

/// The systemd drop-in: `systemd-analyze verify` (systemd 252) accepts a unit carrying it,
/// with nothing said about the filter; what it permits, its groups expanded with the captured
/// group data, is what the profile allows (on its ABIs, known to systemd) plus `@default`,
/// which systemd always permits; what it cannot say is warned, and `--strict` refuses.
#[test]
fn systemd_takes_the_drop_in_and_it_allows_what_the_profile_does() {
    use confine_profile::systemd;
    use std::collections::BTreeSet;
    let dir = tempfile::tempdir().unwrap();
    let record = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/record-1.json");
    for profile in ["docker-default", record] {
        let conf = dir.path().join("filter.conf");
        let o = confine(&[
            "seccomp",
            "export",
            profile,
            "--to",
            "systemd",
            "-o",
            conf.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{profile}: {}", text(&o.stderr));
        let drop_in = std::fs::read_to_string(&conf).unwrap();
        let unit = dir.path().join("confine-export-test.service");
        let body: String = drop_in
            .lines()
            .filter(|l| !l.starts_with('#') && *l != "[Service]")
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(
            &unit,
            format!("[Unit]\nDescription=test\n[Service]\nExecStart=/bin/true\n{body}"),
        )
        .unwrap();
        let v = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&unit)
            .output()
            .unwrap();
        assert!(v.status.success(), "{profile}: {}", text(&v.stderr));
        assert!(
            !text(&v.stderr).contains("SystemCall"),
            "{profile}: {}",
            text(&v.stderr)
        );

        // what the filter permits, expanded
        let mut permitted: BTreeSet<String> = BTreeSet::new();
        for l in drop_in
            .lines()
            .filter_map(|l| l.strip_prefix("SystemCallFilter="))
        {
            for e in l.split_whitespace() {
                match e.strip_prefix('@') {
                    Some(g) => {
                        permitted.extend(systemd::expand(g).unwrap().iter().map(|s| s.to_string()))
                    }
                    None => {
                        permitted.insert(e.to_string());
                    }
                }
            }
        }
        permitted.extend(
            systemd::expand("default")
                .unwrap()
                .iter()
                .map(|s| s.to_string()),
        );
        // what the profile allows (resolved for this host)
        let o = confine(&["seccomp", "resolve", profile, "--format", "oci"]);
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let t = confine_abi::SyscallTable::for_arch(confine_abi::Arch::native()).unwrap();
        let allowed: BTreeSet<String> = r["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["action"] == "SCMP_ACT_ALLOW")
            .flat_map(|x| x["names"].as_array().unwrap().iter())
            .map(|n| n.as_str().unwrap().to_string())
            .collect();
        let known = systemd::known();
        let on_host = |n: &String| t.number(n).is_some();
        let default: BTreeSet<String> = systemd::expand("default")
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let want: BTreeSet<String> = allowed
            .iter()
            .filter(|n| known.contains(n.as_str()))
            .chain(default.iter())
            .filter(|n| on_host(n))
            .cloned()
            .collect();
        let got: BTreeSet<String> = permitted.into_iter().filter(on_host).collect();
        assert_eq!(got, want, "{profile}");
    }
    // docker-default's argument conditions cannot be said: a warning each; --strict refuses
    let conf = dir.path().join("strict.conf");
    let o = confine(&[
        "seccomp",
        "export",
        "docker-default",
        "--to",
        "systemd",
        "--strict",
        "-o",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("rule 12 (clone): allowed only under argument conditions"),
        "{}",
        text(&o.stderr)
    );
    assert!(!conf.exists());
}

/// The Kubernetes snippet: YAML whose `securityContext` names the profile as a `Localhost`
/// one (and the AppArmor profile when given); a name that would leave the kubelet's seccomp
/// directory is refused.
#[test]
fn the_kubernetes_security_context_names_the_profile() {
    let record = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/record-1.json");
    let o = confine(&[
        "seccomp",
        "export",
        record,
        "--to",
        "k8s",
        "--apparmor",
        "docker-default",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let docs = yaml_rust2::YamlLoader::load_from_str(&text(&o.stdout)).unwrap();
    let sc = &docs[0]["securityContext"];
    assert_eq!(sc["seccompProfile"]["type"].as_str(), Some("Localhost"));
    assert_eq!(
        sc["seccompProfile"]["localhostProfile"].as_str(),
        Some("profiles/record-1.json")
    );
    assert_eq!(
        sc["appArmorProfile"]["localhostProfile"].as_str(),
        Some("docker-default")
    );
    assert!(text(&o.stdout).contains("--to oci -o /var/lib/kubelet/seccomp/profiles/record-1.json"));
    for bad in ["../etc/x.json", "/abs.json", "a//b"] {
        let o = confine(&["seccomp", "export", record, "--to", "k8s", "--name", bad]);
        assert!(!o.status.success(), "{bad}");
        assert!(
            text(&o.stderr).contains("--name"),
            "{bad}: {}",
            text(&o.stderr)
        );
    }
}

/// A YAML document as JSON (what the API server validates).
fn yaml_to_json(y: &yaml_rust2::Yaml) -> serde_json::Value {
    use serde_json::Value;
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.clone()),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), yaml_to_json(v)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn yaml_file(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    yaml_to_json(&yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0])
}

/// The SPO export validates against the SeccompProfile CRD's v1 schema (SPO's own example
/// does too, as a check of the check), and says what SPO cannot carry.
#[test]
fn the_spo_export_is_valid_against_the_crd() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/spo");
    let crd = yaml_file(&format!("{fixtures}/seccompprofile-crd.yaml"));
    let v1 = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1")
        .unwrap();
    let schema = v1["schema"]["openAPIV3Schema"].clone();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors = |doc: &serde_json::Value| -> Vec<String> {
        validator
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect()
    };
    let example = yaml_file(&format!("{fixtures}/example-seccompprofile.yaml"));
    assert!(errors(&example).is_empty(), "{:?}", errors(&example));
    // a planted error is found: the check can fail
    let mut broken = example.clone();
    broken["spec"]["defaultAction"] = serde_json::json!("SCMP_ACT_SOMETIMES");
    assert!(!errors(&broken).is_empty());

    let dir = tempfile::tempdir().unwrap();
    let record = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/record-1.json");
    for (profile, name) in [("docker-default", "docker-default"), (record, "record-1")] {
        let out = dir.path().join("sp.yaml");
        let o = confine(&[
            "seccomp",
            "export",
            profile,
            "--to",
            "spo",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{profile}: {}", text(&o.stderr));
        let doc = yaml_file(out.to_str().unwrap());
        assert!(errors(&doc).is_empty(), "{profile}: {:?}", errors(&doc));
        assert_eq!(doc["kind"], "SeccompProfile");
        assert_eq!(doc["metadata"]["name"], name);
        assert!(doc["metadata"].get("namespace").is_none(), "cluster-scoped");
    }
    // what SPO cannot carry is said
    let p = dir.path().join("p.json");
    std::fs::write(
        &p,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"listenerPath":"/run/agent.sock",
            "architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let o = confine(&[
        "seccomp",
        "export",
        p.to_str().unwrap(),
        "--to",
        "spo",
        "--name",
        "bad_Name",
    ]);
    assert!(!o.status.success());
    let o = confine(&["seccomp", "export", p.to_str().unwrap(), "--to", "spo"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    assert!(
        e.contains("defaultErrnoRet 38") && e.contains("listenerPath /run/agent.sock"),
        "{e}"
    );
}
