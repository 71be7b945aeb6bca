//! `confine run --security-opt seccomp-verify` refuses a seccomp program that is not the
//! profile's before the command runs (issue 21). The wrong program comes from the test build's
//! hook (`--features fault-injection`, `CONFINE_FAULT_SECCOMP=flip-jump`, in
//! confine-runtime's src/fault.rs), which swaps the targets of one conditional jump of the
//! compiled program: one whose flip only turns some denials of this ABI into allows, so that
//! the mutated program still lets the command start.
//!
//! Three runs of the same build and the same command (`/bin/sh -c 'touch MARKER'`, Docker's
//! default profile): mutated and verified, refused with 125, no marker; not mutated and
//! verified, proved, marker; mutated and not verified, the hook reports its flip and the
//! command runs, marker. So the hook mutates, the mutation alone does not stop the command,
//! and the proof is what does. Real-kernel test: as root.

use std::path::Path;
use std::process::{Command, Output, Stdio};

#[path = "support/featured.rs"]
mod featured;
use featured::{featured_confine, is_root};

const HOOK: &str = "CONFINE_FAULT_SECCOMP";

/// `confine run [--security-opt seccomp-verify] -- /bin/sh -c 'touch MARKER'`, with the hook's
/// variable set to `fault` if any.
fn run(dir: &Path, verify: bool, fault: Option<&str>) -> Output {
    let marker = dir.join("marker");
    let _ = std::fs::remove_file(&marker);
    let mut c = Command::new(featured_confine());
    c.args(["run", "--workdir", "/"]);
    if verify {
        c.args(["--security-opt", "seccomp-verify"]);
    }
    c.args(["--", "/bin/sh", "-c"])
        .arg(format!("touch {}", marker.display()))
        .env_remove(HOOK)
        .env_remove("CONFINE_FAULT")
        .stdin(Stdio::null());
    if let Some(f) = fault {
        c.env(HOOK, f);
    }
    c.output().expect("confine")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The numbers the hook says its flip changed (its stderr line `... nr A,B,C now decided
/// differently`).
fn flipped_numbers(stderr: &str) -> Vec<u32> {
    let line = stderr
        .lines()
        .find(|l| l.contains(&format!("{HOOK}=flip-jump: flipped")))
        .unwrap_or_else(|| panic!("no flip reported: {stderr}"));
    let list = line
        .split(" nr ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{line}"));
    list.split(',').map(|n| n.parse().unwrap()).collect()
}

#[test]
fn seccomp_verify_refuses_a_mutated_program_before_the_command_runs() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");

    // mutated, verified: refused before anything of the command runs
    let o = run(dir.path(), true, Some("flip-jump"));
    let err = text(&o);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert!(err.contains("seccomp-verify"), "{err}");
    assert!(err.contains("differs from the policy"), "{err}");
    assert!(err.contains("not installed"), "{err}");
    assert!(!marker.exists(), "the command ran: {err}");
    let changed = flipped_numbers(&err);
    assert!(!changed.is_empty());

    // not mutated, verified: proved, and the command runs
    let o = run(dir.path(), true, None);
    let err = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("seccomp-verify: proved"), "{err}");
    assert!(!err.contains(HOOK), "{err}");
    assert!(marker.exists(), "{err}");

    // mutated, not verified: the same flip goes in unnoticed and the command runs
    let o = run(dir.path(), false, Some("flip-jump"));
    let err = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(flipped_numbers(&err), changed, "{err}");
    assert!(marker.exists(), "{err}");

    // a misspelt fault is an error, not a run without one
    let o = run(dir.path(), false, Some("flip-jmp"));
    assert_eq!(o.status.code(), Some(125), "{}", text(&o));
    assert!(text(&o).contains("unknown fault"), "{}", text(&o));
    assert!(!marker.exists());
}
