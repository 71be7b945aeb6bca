//! `target/release/agent_start [N]` (after `cargo build --release -p confine -p
//! confine-bench`, as root, with runc and a static /bin/busybox): what recording a container
//! with `confine record --agent` adds to its start under runc.
//!
//! One busybox bundle running `/bin/true`, started N times (default 20) with `runc run` in
//! each of these, interleaved, median wall time:
//! * no seccomp profile;
//! * the agent profile with every SCMP_ACT_NOTIFY made SCMP_ACT_ALLOW and no listener: the
//!   same filter, nothing notified (the baseline);
//! * the agent profile notifying `acct` alone, the agent serving: runc's hand-over of the
//!   listener and the agent's taking it, no notification;
//! * the agent profile with the agent serving (every call but the assumed ones notified);
//! * the profile the agent recorded (no agent).
//!
//! The agent's added time is compared with the notifications it answered (from its reports)
//! times the cost of one notification, measured in the same run by `confine record` on 20,000
//! `getppid` calls of a static busybox-free program: python3 (recorded minus bare, per call).
//! Prints a Markdown table.
#![forbid(unsafe_code)]

use confine_bench::{median_ms, ok};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bundle(dir: &Path, name: &str, seccomp: Option<&Value>) -> PathBuf {
    let b = dir.join(name);
    let bin = b.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", bin.join("true")).unwrap();
    ok(Command::new("runc").arg("spec").current_dir(&b));
    let mut c: Value =
        serde_json::from_slice(&std::fs::read(b.join("config.json")).unwrap()).unwrap();
    c["process"]["terminal"] = json!(false);
    c["process"]["args"] = json!(["/bin/true"]);
    if let Some(s) = seccomp {
        c["linux"]["seccomp"] = s.clone();
    }
    std::fs::write(b.join("config.json"), c.to_string()).unwrap();
    b
}

fn start(state: &Path, bundle: &Path, id: &str) {
    ok(Command::new("runc")
        .arg("--root")
        .arg(state)
        .args(["run", "--bundle"])
        .arg(bundle)
        .arg(id));
}

fn allow_all(agent_profile: &Value) -> Value {
    let mut p = agent_profile.clone();
    p.as_object_mut().unwrap().remove("listenerPath");
    for r in p["syscalls"].as_array_mut().unwrap() {
        if r["action"] == "SCMP_ACT_NOTIFY" {
            r["action"] = json!("SCMP_ACT_ALLOW");
        }
    }
    p
}

/// The agent profile notifying `acct` alone: runc hands the listener over and the agent
/// takes it, but nothing is notified.
fn handshake_only(agent_profile: &Value) -> Value {
    let mut p = allow_all(agent_profile);
    p["listenerPath"] = agent_profile["listenerPath"].clone();
    for r in p["syscalls"].as_array_mut().unwrap() {
        if let Some(names) = r["names"].as_array_mut() {
            names.retain(|n| n != "acct");
        }
    }
    p["syscalls"]
        .as_array_mut()
        .unwrap()
        .push(json!({"names": ["acct"], "action": "SCMP_ACT_NOTIFY"}));
    p
}

fn reports(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release");
    let confine = root.join("confine");
    assert!(
        confine.exists(),
        "build confine first: cargo build --release"
    );
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("the one argument is the number of runs"))
        .unwrap_or(20);
    let tmp = tempfile::Builder::new()
        .prefix("confine-agent-bench")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let (socket, out, log) = (
        dir.join("agent.sock"),
        dir.join("profiles"),
        dir.join("agent.log"),
    );
    std::fs::create_dir(&out).unwrap();
    let state = dir.join("state");
    let o = Command::new(&confine)
        .args(["record", "-q", "--agent-profile", "--agent"])
        .arg(&socket)
        .output()
        .unwrap();
    assert!(o.status.success());
    let agent_profile: Value = serde_json::from_slice(&o.stdout).unwrap();

    let mut agent: Child = Command::new(&confine)
        .args(["record", "--json", "--agent"])
        .arg(&socket)
        .arg("-o")
        .arg(&out)
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("listening")
    {
        assert!(t.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(20));
    }
    let none = bundle(dir, "none", None);
    let same = bundle(dir, "same", Some(&allow_all(&agent_profile)));
    let notified = bundle(dir, "agent", Some(&agent_profile));
    let handshake = bundle(dir, "handshake", Some(&handshake_only(&agent_profile)));
    // one recording first, for the replay row
    start(&state, &notified, "first");
    while reports(&log).is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let recorded: Value =
        serde_json::from_slice(&std::fs::read(out.join("first.json")).unwrap()).unwrap();
    let replay = bundle(dir, "replay", Some(&recorded));

    let rows: [(&str, &PathBuf); 5] = [
        ("no seccomp profile", &none),
        (
            "the agent profile, NOTIFY made ALLOW (same filter, nothing notified)",
            &same,
        ),
        (
            "the agent profile notifying `acct` alone, agent serving (hand-over, no notification)",
            &handshake,
        ),
        ("the agent profile, agent serving", &notified),
        ("the recorded profile, no agent", &replay),
    ];
    let mut times = vec![Vec::new(); rows.len()];
    let mut k = 0;
    for _ in 0..n {
        for (i, (_, b)) in rows.iter().enumerate() {
            k += 1;
            let s = Instant::now();
            start(&state, b, &format!("c{k}"));
            times[i].push(s.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let _ = Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status();
    let _ = agent.wait();
    let r = reports(&log);
    let mut events: Vec<u64> = r
        .iter()
        .filter(|r| r["container"]["id"] != "first" && r["events"].as_u64() > Some(0))
        .map(|r| r["events"].as_u64().unwrap())
        .collect();
    events.sort_unstable();
    let events = events[events.len() / 2] as f64;

    // one notification's cost, this run: confine record on 20,000 getppid, minus bare
    let py = [
        "/usr/bin/python3",
        "-c",
        "import os\nfor _ in range(20000): os.getppid()",
    ];
    let bare = median_ms(5, || ok(Command::new(py[0]).args(&py[1..])));
    let rec = median_ms(5, || {
        ok(Command::new(&confine)
            .args(["record", "-q", "-o"])
            .arg(dir.join("py.json"))
            .arg("--")
            .args(py))
    });
    let per_call_us = (rec - bare) * 1000.0 / 20000.0;

    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let m: Vec<f64> = times.iter_mut().map(median).collect();
    println!("| runc run of busybox /bin/true | median ms (N = {n}) | added to the same filter unnotified |");
    println!("|---|---|---|");
    for (i, (name, _)) in rows.iter().enumerate() {
        let added = if i == 1 {
            "–".to_string()
        } else {
            format!("{:+.1} ms", m[i] - m[1])
        };
        println!("| {name} | {:.1} | {added} |", m[i]);
    }
    let added = m[3] - m[2];
    let expected = events * per_call_us / 1000.0;
    println!();
    println!(
        "runc's hand-over of the listener to the agent: {:+.2} ms; notifications per start \
         (median of the agent's reports): {events:.0}; one notification (confine record on \
         20,000 getppid, this run): {per_call_us:.1} µs, so {expected:.2} ms for them; measured \
         with the agent serving beyond the hand-over: {added:+.2} ms",
        m[2] - m[1]
    );
    std::fs::remove_dir_all(&state).ok();
}
