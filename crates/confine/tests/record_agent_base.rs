//! `confine record --agent --base` (issue 17) with the real runc: the agent profile built on
//! a base, and recorded profiles that stay within it.

#[path = "record_agent/harness.rs"]
mod harness;

use harness::{names, text, Agent, Runc, CONFINE, WORK};
use serde_json::{json, Value};
use std::process::Command;

/// With `--base docker-default`: the agent profile notifies what the base allows, with the
/// base's conditions; the recorded profile keeps those conditions (clone's namespace flags)
/// instead of allowing the call whole. A base that traces is refused.
#[test]
fn a_base_keeps_its_argument_conditions() {
    let runc = Runc::new();
    let dir = runc.path();
    let agent = Agent::start_with(dir, &[], &["--base", "docker-default"]);
    let o = Command::new(CONFINE)
        .args([
            "record",
            "-q",
            "--agent-profile",
            "--base",
            "docker-default",
            "--agent",
        ])
        .arg(&agent.socket)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ap: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!names(&ap, "SCMP_ACT_NOTIFY").contains(&"mount".to_string()));
    // sh forks: clone with SIGCHLD, under the base's condition on clone's flags
    let o = runc.run(&runc.bundle("b", &WORK, &ap), "based-1");
    assert_eq!(
        text(&o.stdout),
        "hello\nLinux\nmade\n",
        "{}",
        text(&o.stderr)
    );
    let r = agent.wait_for(1);
    assert!(
        r[0]["base_conditions"]
            .as_array()
            .unwrap()
            .contains(&json!("clone")),
        "{}",
        r[0]
    );
    let p = agent.recorded("based-1");
    let clone: Vec<&Value> = p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["names"].as_array().unwrap().contains(&json!("clone")))
        .collect();
    assert!(
        !clone.is_empty() && clone.iter().all(|r| r.get("args").is_some()),
        "{clone:?}"
    );
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    // and it still starts the container with no agent
    let o = runc.run(&runc.bundle("replay", &WORK, &p), "based-2");
    assert_eq!(
        text(&o.stdout),
        "hello\nLinux\nmade\n",
        "{}",
        text(&o.stderr)
    );

    let trace = dir.join("trace.json");
    std::fs::write(&trace, r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_TRACE"}]}"#).unwrap();
    let o = Command::new(CONFINE)
        .args([
            "record",
            "--agent",
            "/run/x.sock",
            "--agent-profile",
            "--base",
        ])
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("SCMP_ACT_TRACE"),
        "{}",
        text(&o.stderr)
    );
}

/// Served with `--base` and `--args`, the recorded profile stays within the base: a call the
/// base allows only under a condition on another argument than the recorded one keeps both
/// (socket: the recorded family, the base's type), and a call of the runtime's list that the
/// base refuses is left out, and said.
#[test]
fn a_base_with_recorded_arguments_stays_within_it() {
    let (_keep, prog) = confine_test_support::run::static_program(
        env!("CARGO_MANIFEST_DIR"),
        "tests/record/prog.rs",
        "prog",
    );
    let runc = Runc::new();
    let dir = runc.path();
    // docker-default for this host, with socket allowed for SOCK_STREAM (a1 == 1) only and
    // getcwd (on runc's list, not called with no_new_privs) refused
    let o = Command::new(CONFINE)
        .args(["seccomp", "resolve", "docker-default", "--format", "oci"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut base: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = base["syscalls"].as_array_mut().unwrap();
    for r in rules.iter_mut() {
        r["names"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n != "socket" && n != "getcwd");
    }
    rules.retain(|r| !r["names"].as_array().unwrap().is_empty());
    base["syscalls"].as_array_mut().unwrap().push(json!({
        "names": ["socket"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]
    }));
    let base_path = dir.join("base.json");
    std::fs::write(&base_path, base.to_string()).unwrap();

    let agent = Agent::start_with(dir, &[], &["--args", "--base", base_path.to_str().unwrap()]);
    let o = Command::new(CONFINE)
        .args(["record", "-q", "--agent-profile", "--base"])
        .arg(&base_path)
        .arg("--agent")
        .arg(&agent.socket)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ap: Value = serde_json::from_slice(&o.stdout).unwrap();
    let args = ["/bin/prog", "socket:1:1", "socket:1:2"];
    let with_prog = |name: &str, profile: &Value| {
        let b = runc.bundle(name, &args, profile);
        std::fs::copy(&prog, b.join("rootfs/bin/prog")).unwrap();
        b
    };
    // under the base: the stream socket is made, the datagram one refused
    let o = runc.run(&with_prog("rec", &ap), "based-args-1");
    assert_eq!(
        text(&o.stdout),
        "socket ok\nsocket E1\n",
        "{}",
        text(&o.stderr)
    );
    let r = agent.wait_for(1);
    assert!(
        r[0]["base_conditions"]
            .as_array()
            .unwrap()
            .contains(&json!("socket")),
        "{}",
        r[0]
    );
    assert!(
        r[0]["beyond_base_left_out"]
            .as_array()
            .unwrap()
            .contains(&json!("getcwd")),
        "{}",
        r[0]
    );
    let p = agent.recorded("based-args-1");
    let socket_rules: Vec<&Value> = p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["names"].as_array().unwrap().contains(&json!("socket")))
        .collect();
    assert!(!socket_rules.is_empty());
    for r in &socket_rules {
        let a = r["args"].as_array().unwrap();
        assert!(a.iter().any(|c| c["index"] == 1 && c["value"] == 1), "{r}");
        assert!(a.iter().any(|c| c["index"] == 0 && c["value"] == 1), "{r}");
    }
    assert!(!names(&p, "SCMP_ACT_ALLOW").contains(&"getcwd".to_string()));
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    // the recorded profile decides as the base did, with no agent
    let o = runc.run(&with_prog("replay", &p), "based-args-2");
    assert_eq!(
        text(&o.stdout),
        "socket ok\nsocket E1\n",
        "{}",
        text(&o.stderr)
    );
}
