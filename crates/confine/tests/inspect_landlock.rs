//! `confine inspect` reading a Landlock record: this test process keeps one for itself (a sealed
//! memfd, as `confine run` does before it starts a command), then inspects a child, as root and
//! as another user (who cannot read root's descriptors, and is told so). Its own binary, so
//! that no other test's children are this process's descendants while the record exists.
//! Needs root (to inspect as another user); skipped otherwise.

use confine_abi::landlock as abi;
use confine_inspect::landlock::{write, Compat, Record};
use confine_test_support::run::{confine, confine_bin};
use serde_json::Value;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

struct Kid(Child);
impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn inspect_shows_the_record_of_a_confine_ancestor() {
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: needs root to inspect as another user");
        return;
    }
    let mut r = Record::for_self("/p.yaml", Compat::BestEffort, 3).unwrap();
    r.set_handled(
        abi::FS_READ | abi::FS_EXECUTE,
        abi::NET_BIND_TCP,
        abi::SCOPE_SIGNAL,
    );
    r.add_path("/usr", abi::FS_READ | abi::FS_EXECUTE);
    r.add_path("/etc/hosts", abi::FS_READ_FILE);
    r.add_port(8080, abi::NET_BIND_TCP);
    r.dropped
        .push("IOCTL_DEV needs Landlock ABI 5 (Linux 6.10)".into());
    let guard = write(&r).unwrap();
    let kid = Kid(Command::new("sleep").arg("30").spawn().unwrap());
    let pid = kid.0.id().to_string();

    let o = confine(&["inspect", "--color", "never", &pid]);
    let text = String::from_utf8(o.stdout).unwrap();
    let me = std::process::id();
    assert!(
        text.contains(&format!(
            "  landlock      ABI 3, best-effort, UNVERIFIED: claimed by process {me} ({}, not this confine binary: another program, or confine replaced since it started) (policy /p.yaml): fs execute,read_file,read_dir; 2 path rules; tcp bind [8080]; scopes signal\n                dropped: IOCTL_DEV needs Landlock ABI 5 (Linux 6.10)\n",
            std::env::current_exe().unwrap().display()
        )),
        "{text}"
    );
    let o = confine(&["inspect", "--json", &pid]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let l = &v["landlock"];
    assert_eq!(l["recorded"][0]["writer"], me);
    assert_eq!(l["recorded"][0]["in_domain"], true);
    // this test binary holds it, not confine: shown, and said to be unverified
    assert_eq!(l["recorded"][0]["verified"], false);
    assert_eq!(
        l["recorded"][0]["holder_exe"],
        std::env::current_exe().unwrap().to_str().unwrap()
    );
    assert_eq!(
        l["recorded"][0]["file"],
        guard.proc_path().to_str().unwrap()
    );
    assert!(l["recorded"][0]["file"]
        .as_str()
        .unwrap()
        .starts_with(&format!("/proc/{me}/fd/")));
    assert_eq!(l["recorded"][0]["record"]["compat"], "best-effort");
    assert_eq!(
        l["recorded"][0]["record"]["ports"],
        serde_json::json!([{"port": 8080, "rights": ["bind_tcp"]}])
    );
    assert_eq!(l["ignored"], serde_json::json!([]));
    assert_eq!(l["unreadable"], serde_json::json!([]));

    // another user may read the child's status but not root's descriptors: told so, not
    // shown "none" as if nothing were there (the binary copied where uid 4242 may run it)
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("confine");
    std::fs::copy(confine_bin(), &bin).unwrap();
    let o = Command::new(&bin)
        .args(["inspect", "--json", &pid])
        .uid(4242)
        .gid(4242)
        .current_dir("/")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["landlock"]["recorded"], serde_json::json!([]), "{v}");
    let unreadable = v["landlock"]["unreadable"].as_array().unwrap();
    assert!(unreadable.contains(&Value::from(me)), "{v}");
    let o = Command::new(&bin)
        .args(["inspect", "--color", "never", &pid])
        .uid(4242)
        .gid(4242)
        .current_dir("/")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!(
            "not readable here: the descriptors of ancestor(s) {me}"
        )),
        "{text}"
    );

    // the writer itself, and once the record is gone, the child: none recorded
    let o = confine(&["inspect", "--color", "never", &me.to_string()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("  landlock      none recorded ("));
    guard.remove();

    // a record's text is its writer's: escaped, never raw on the terminal
    let mut evil = Record::for_self(
        "/p.yaml\n  seccomp       filter, 3 filters\x1b[8m",
        Compat::Require,
        3,
    )
    .unwrap();
    evil.dropped.push("\u{202e}gnp.sh".into());
    let g = write(&evil).unwrap();
    let o = confine(&["inspect", "--color", "never", &pid]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("(policy /p.yaml\\n  seccomp       filter, 3 filters\\x1b[8m)"),
        "{text}"
    );
    assert!(text.contains("dropped: \\u{202e}gnp.sh"), "{text}");
    drop(g);
    let o = confine(&["inspect", "--json", &pid]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["landlock"]["recorded"], serde_json::json!([]));
}
