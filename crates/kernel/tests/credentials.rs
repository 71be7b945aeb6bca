//! The credential primitives, applied for real in a child process the way Docker configures a
//! container's process: Docker's 14 capabilities in the bounding set, ambient and inheritable
//! empty, then (as user 999:1000) empty permitted and effective sets; /proc/self/status must
//! show exactly that. A custom harness: the binary re-executes itself as the child.

use confine_kernel::process::{self, CapSets};
use std::process::Command;

const DOCKER_CAPS: u64 = 0xa804_25fb;

fn main() {
    if let Ok(user) = std::env::var("CONFINE_CRED_CHILD") {
        child(&user);
    }
    let root = status_of("root");
    assert_eq!(
        root.get("CapBnd").map(String::as_str),
        Some("00000000a80425fb"),
        "{root:?}"
    );
    assert_eq!(
        root.get("CapPrm").map(String::as_str),
        Some("00000000a80425fb")
    );
    assert_eq!(
        root.get("CapEff").map(String::as_str),
        Some("00000000a80425fb")
    );
    assert_eq!(
        root.get("CapInh").map(String::as_str),
        Some("0000000000000000")
    );
    assert_eq!(
        root.get("CapAmb").map(String::as_str),
        Some("0000000000000000")
    );
    let user = status_of("999:1000");
    assert_eq!(
        user.get("CapBnd").map(String::as_str),
        Some("00000000a80425fb"),
        "{user:?}"
    );
    assert_eq!(
        user.get("CapPrm").map(String::as_str),
        Some("0000000000000000")
    );
    assert_eq!(
        user.get("CapEff").map(String::as_str),
        Some("0000000000000000")
    );
    assert_eq!(
        user.get("Uid")
            .map(|s| s.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["999", "999", "999", "999"])
    );
    assert_eq!(
        user.get("Gid")
            .map(|s| s.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["1000", "1000", "1000", "1000"])
    );
    assert_eq!(
        user.get("Groups").map(|s| s.trim().to_string()),
        Some(String::new())
    );
    println!("credentials: Docker's capability sets and ids applied as root and as 999:1000, as /proc/self/status shows them");
    println!("1 passed, 0 failed");
}

fn status_of(user: &str) -> std::collections::BTreeMap<String, String> {
    let out = Command::new(std::env::current_exe().unwrap())
        .env("CONFINE_CRED_CHILD", user)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child {user}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    confine_test_support::status::parse(&String::from_utf8(out.stdout).unwrap())
}

fn child(user: &str) -> ! {
    let last = process::last_cap().unwrap();
    for c in 0..=last {
        if DOCKER_CAPS & (1 << c) == 0 && process::bounding_has(c).unwrap() {
            process::bounding_drop(c).unwrap();
        }
    }
    process::ambient_clear().unwrap();
    let caps = CapSets {
        effective: DOCKER_CAPS,
        permitted: DOCKER_CAPS,
        inheritable: 0,
    };
    process::capset(caps).unwrap();
    if user != "root" {
        let (uid, gid) = user.split_once(':').unwrap();
        let (uid, gid): (u32, u32) = (uid.parse().unwrap(), gid.parse().unwrap());
        process::set_groups(&[]).unwrap();
        process::set_resgid(gid).unwrap();
        // without keep-caps, leaving uid 0 clears permitted and effective, as for a non-root
        // container user
        process::set_keep_caps(false).unwrap();
        process::set_resuid(uid).unwrap();
        assert_eq!(process::capget().unwrap(), CapSets::default());
    } else {
        assert_eq!(process::capget().unwrap(), caps);
        assert_eq!(process::bounding_set(last).unwrap(), DOCKER_CAPS);
    }
    print!("{}", std::fs::read_to_string("/proc/self/status").unwrap());
    std::process::exit(0);
}
