//! `confine apparmor …` on this host (a kernel without AppArmor): generation, offline
//! compilation with a saved features file through the real apparmor_parser, and the messages
//! and exit codes where AppArmor is missing. Loading for real is in apparmor_vm.rs.

use confine_test_support::fixtures::kernel_6_1_features as features;
use confine_test_support::run::confine;
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
