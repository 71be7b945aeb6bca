//! The seed's terminal, for real: Debian's redis-server under `confine run --user 999:1000`
//! keeps serving, and from outside its /proc/PID/status shows Docker's confinement; keyctl is
//! refused; stopping confine stops the command (signals are passed on, as docker run does).

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn redis_under_confine_run() {
    if !std::path::Path::new("/usr/bin/redis-server").exists() {
        panic!("Debian's redis-server is needed (.ci/run installs it)");
    }
    let port = free_port().to_string();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let mut confine = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args([
            "run",
            "--user",
            "999:1000",
            "--",
            "redis-server",
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut pong = false;
    while Instant::now() < deadline {
        let o = Command::new("redis-cli")
            .args(["-p", &port, "ping"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&o.stdout).trim() == "PONG" {
            pong = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // redis is the child of confine's init (pid 1 of its namespace), itself confine's child
    let children = |pid: u32| -> Vec<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    let redis: u32 = children(confine.id())
        .into_iter()
        .flat_map(children)
        .next()
        .unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{redis}/status")).unwrap_or_default();
    // stop it the way a supervisor would: signal confine, which passes the signal on
    unsafe_free_kill(confine.id());
    let exit = confine.wait().unwrap();
    assert!(pong, "redis-server did not answer PING under confine run");
    let field = |k: &str| confine_test_support::status::field(&status, k);
    assert_eq!(field("Seccomp"), "2", "{status}");
    assert_eq!(field("Seccomp_filters"), "1");
    assert_eq!(field("NoNewPrivs"), "0");
    assert_eq!(field("CapBnd"), "00000000a80425fb");
    assert_eq!(field("CapPrm"), "0000000000000000");
    assert_eq!(field("CapEff"), "0000000000000000");
    assert!(field("Uid").starts_with("999"));
    assert!(
        exit.code().is_some(),
        "confine ended by a signal instead of passing it on: {exit:?}"
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{redis}")).exists()
            || std::fs::read_to_string(format!("/proc/{redis}/status"))
                .unwrap_or_default()
                .is_empty(),
        "redis outlived confine"
    );
}

/// SIGTERM through the `kill` command (the test crate has no unsafe code).
fn unsafe_free_kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

#[test]
fn keyctl_is_refused() {
    if !std::path::Path::new("/usr/bin/keyctl").exists() {
        panic!("Debian's keyutils is needed (.ci/run installs it)");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["run", "--", "keyctl", "new_session"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Operation not permitted"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
