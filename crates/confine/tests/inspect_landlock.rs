//! `confine inspect` reading a Landlock record: this test process writes one for itself in
//! /run/confine/landlock (as `confine run` does before it starts a command), then inspects a
//! child. Its own binary, so that no other test's children are this process's descendants
//! while the record exists. Needs root (the record directory is root's); skipped otherwise.

use confine_abi::landlock as abi;
use confine_inspect::landlock::{write, Compat, Record, ROOT_DIR};
use confine_test_support::run::confine;
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
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
        eprintln!("skipped: needs root to write in {ROOT_DIR}");
        return;
    }
    let made = !std::path::Path::new("/run/confine").exists();
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
    let guard = write(&r, std::path::Path::new(ROOT_DIR)).unwrap();
    let kid = Kid(Command::new("sleep").arg("30").spawn().unwrap());
    let pid = kid.0.id().to_string();

    let o = confine(&["inspect", "--color", "never", &pid]);
    let text = String::from_utf8(o.stdout).unwrap();
    let me = std::process::id();
    assert!(
        text.contains(&format!(
            "  landlock      ABI 3, best-effort, recorded by confine {me} (policy /p.yaml): fs execute,read_file,read_dir; 2 path rules; tcp bind [8080]; scopes signal\n                dropped: IOCTL_DEV needs Landlock ABI 5 (Linux 6.10)\n"
        )),
        "{text}"
    );
    let o = confine(&["inspect", "--json", &pid]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let l = &v["landlock"];
    assert_eq!(l["recorded"][0]["writer"], me);
    assert_eq!(l["recorded"][0]["in_domain"], true);
    assert_eq!(l["recorded"][0]["file"], guard.path().to_str().unwrap());
    assert_eq!(l["recorded"][0]["record"]["compat"], "best-effort");
    assert_eq!(
        l["recorded"][0]["record"]["ports"],
        serde_json::json!([{"port": 8080, "rights": ["bind_tcp"]}])
    );
    assert_eq!(l["ignored"], serde_json::json!([]));

    // the writer itself, and once the record is gone, the child: none recorded
    let o = confine(&["inspect", "--color", "never", &me.to_string()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("  landlock      none recorded ("));
    guard.remove().unwrap();
    let o = confine(&["inspect", "--json", &pid]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["landlock"]["recorded"], serde_json::json!([]));
    if made {
        let _ = std::fs::remove_dir(ROOT_DIR);
        let _ = std::fs::remove_dir("/run/confine");
    }
}
