//! `confine apparmor …` on this host (a kernel without AppArmor): generation, offline
//! compilation with a saved features file through the real apparmor_parser, and the messages
//! and exit codes where AppArmor is missing. Loading for real is in apparmor_vm.rs.

use confine_test_support::fixtures::kernel_6_1_features as features;
use confine_test_support::run::{confine, confine_stdin};
use std::path::Path;

fn host_has_apparmor() -> bool {
    Path::new("/sys/kernel/security/apparmor").exists()
}

#[test]
fn generate_follows_the_host_and_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let o = confine(
        &["apparmor", "generate", "--apparmor-dir"]
            .into_iter()
            .chain([dir.path().to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("@{PROC}=/proc/") && !text.contains("#include"));
    assert!(
        text.contains("profile \"docker-default\" flags=(attach_disconnected,mediate_deleted) {")
    );
    for f in ["abi/3.0", "tunables/global", "abstractions/base"] {
        let p = dir.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }
    let o = confine(&[
        "apparmor",
        "generate",
        "--name",
        "web",
        "--daemon-profile",
        "dockerd",
        "--apparmor-dir",
        dir.path().to_str().unwrap(),
    ]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("abi <abi/3.0>,\n#include <tunables/global>\n"));
    assert!(text.contains("  #include <abstractions/base>\n"));
    assert!(text.contains("signal (receive) peer=\"dockerd\",\n"));
    assert!(text.contains("ptrace (trace,tracedby,read,readby) peer=\"web\",\n"));
    let o = confine(&["apparmor", "generate", "--name", "a\"b"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("double quote"));
}

#[test]
fn generate_renders_a_policy() {
    let spo = confine_test_support::fixtures::spo("example-apparmorprofile.yaml");
    let spo = spo.to_str().unwrap();
    let o = confine(&["apparmor", "generate", "--no-includes", "--policy", spo]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains(
            // named after metadata.name
            "profile \"test-profile\" flags=(attach_disconnected,mediate_deleted) {\n"
        ),
        "{text}"
    );
    // filesystem present and empty: no file rule but execution, which stays unrestricted
    assert!(
        text.contains("  /{**,} mix,\n") && !text.contains("  file,"),
        "{text}"
    );
    // without abstractions/base (--no-includes), a note says what the process misses
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("{spo}: note: abstractions/base: not included")),
        "{err}"
    );

    // the same profile compiles offline (apparmor_parser through `confine apparmor compile`)
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("p");
    std::fs::write(&prof, &text).unwrap();
    let o = confine(&[
        "apparmor",
        "compile",
        prof.to_str().unwrap(),
        "--features",
        features().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // standard input, --name, approximations as located notes on stderr, --json, --strict
    let policy = b"network: {allowedProtocols: {allowTcp: false}}\nconfine:\n  version: 1\n  tcp: {bind: [8080]}\n";
    let args = [
        "apparmor",
        "generate",
        "--no-includes",
        "--name",
        "web",
        "--policy",
        "-",
    ];
    let o = confine_stdin(&args, Some(policy));
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("profile \"web\" flags="), "{text}");
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.starts_with(
            "standard input:4:16: note: confine.tcp.bind: AppArmor 3 network rules have no ports"
        ),
        "{err}"
    );
    let o = confine_stdin(&[&args[..], &["--json"]].concat(), Some(policy));
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["profile"].as_str().unwrap().contains("profile \"web\""));
    assert_eq!(v["approximations"][0]["line"], 4);
    assert_eq!(v["approximations"][0]["column"], 16);
    assert_eq!(v["approximations"][0]["subject"], "confine.tcp.bind");
    // no metadata, no file name: confine-policy
    let o = confine_stdin(&["apparmor", "generate", "--policy", "-"], Some(policy));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("profile \"confine-policy\" flags="), "{text}");
    let o = confine_stdin(&[&args[..], &["--strict"]].concat(), Some(policy));
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());

    // a bad file: located, exit 2, nothing on stdout
    let bad = dir.path().join("bad.yaml");
    for (text, want) in [
        (
            "filesystem:\n  readOnlyPaths: [etc]\n",
            ":2:19: error: `etc`",
        ),
        (
            "filesystem:\n  readOnlyPaths: ['/x, /** rwix, \"']\n",
            ":2:19: error: the path",
        ),
        (
            "capability: {allowedCapabilities: [fly]}\n",
            ":1:36: error:",
        ),
    ] {
        std::fs::write(&bad, text).unwrap();
        let o = confine(&["apparmor", "generate", "--policy", bad.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert!(o.stdout.is_empty());
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(
            err.starts_with(&format!("{}{want}", bad.display())),
            "{text}: {err}"
        );
    }
    let o = confine(&["apparmor", "generate", "--policy", "/nonexistent.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn compile_offline_with_a_features_file() {
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("p");
    let o = confine(&[
        "apparmor",
        "generate",
        "--no-includes",
        "-o",
        prof.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let bin = dir.path().join("p.bin");
    let o = confine(&[
        "apparmor",
        "compile",
        prof.to_str().unwrap(),
        "--features",
        features().to_str().unwrap(),
        "-o",
        bin.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::metadata(&bin).unwrap().len() > 4000);
    // a broken profile: apparmor_parser's message with the line, exit 2
    let broken = dir.path().join("broken");
    std::fs::write(&broken, "profile b {\n  file,\n  deny /x rz,\n}\n").unwrap();
    let o = confine(&[
        "apparmor",
        "compile",
        broken.to_str().unwrap(),
        "--features",
        features().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("at line 3"), "{e}");
}

#[test]
fn without_apparmor_the_commands_say_why() {
    if host_has_apparmor() {
        return; // the VM test covers the enabled side
    }
    let o = confine(&["apparmor", "status"]);
    assert!(o.status.success());
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.starts_with(
            "AppArmor: disabled: AppArmor is not enabled in the running kernel (active LSMs: "
        ),
        "{out}"
    );
    let o = confine(&["apparmor", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["enabled"], false);
    assert!(v["lsms"].as_array().is_some_and(|l| !l.is_empty()));
    for args in [
        &["apparmor", "load", "--default"][..],
        &["apparmor", "unload", "docker-default"][..],
    ] {
        let o = confine(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("AppArmor is not enabled"));
    }
    // run: an explicit profile (name or file) is an error before anything runs
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let prof = dir.path().join("p");
    std::fs::write(&prof, "profile p {\n  file,\n}\n").unwrap();
    for opt in [
        vec!["--apparmor", "docker-default"],
        vec!["--apparmor-file", prof.to_str().unwrap()],
    ] {
        let mut args = vec!["run"];
        args.extend(&opt);
        args.extend(["--", "touch", marker.to_str().unwrap()]);
        let o = confine(&args);
        assert_eq!(o.status.code(), Some(125), "{opt:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("AppArmor is not enabled"));
        assert!(!marker.exists(), "{opt:?}: the command ran");
    }
}
