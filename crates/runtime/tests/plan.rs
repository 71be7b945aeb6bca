//! Planning without root: a host described by hand, users and groups from temporary files.

use confine_abi::{Arch, CapSet};
use confine_apparmor::Detection;
use confine_profile::KernelVersion;
use confine_runtime::isolation::Privilege;
use confine_runtime::{plan_for, Error, Etc, HostFacts, Note, Plan, RunRequest, Step};

const LAST_CAP: u8 = 40;

fn all_caps() -> CapSet {
    CapSet((1u64 << (LAST_CAP + 1)) - 1)
}

fn facts(root: bool) -> HostFacts {
    HostFacts {
        who: Privilege {
            effective: if root { all_caps() } else { CapSet(0) },
            uid: if root { 0 } else { 1000 },
            gid: if root { 0 } else { 1000 },
        },
        last_cap: LAST_CAP,
        held: all_caps(),
        arch: Arch::native(),
        kernel: Some(KernelVersion {
            kernel: 6,
            major: 8,
        }),
        landlock_abi: 0,
        apparmor: Detection {
            module_enabled: false,
            securityfs: false,
            lsms: Some(vec!["capability".into()]),
            parser: None,
        },
    }
}

struct Files {
    _dir: tempfile::TempDir,
    etc: Etc,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let etc = Etc {
        passwd: dir.path().join("passwd"),
        group: dir.path().join("group"),
    };
    std::fs::write(
        &etc.passwd,
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nu:x:1000:1000::/home/u:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        &etc.group,
        "root:x:0:\nnogroup:x:65534:\nstaff:x:50:nobody\n",
    )
    .unwrap();
    Files { _dir: dir, etc }
}

fn request(f: impl FnOnce(&mut RunRequest)) -> RunRequest {
    let mut r = RunRequest::new(["true"]);
    f(&mut r);
    r
}

fn planned(req: &RunRequest, root: bool) -> (Result<Plan, Error>, Vec<Note>) {
    let f = files();
    let mut notes = Vec::new();
    let p = plan_for(req, &facts(root), &f.etc, &mut |n| notes.push(n));
    (p, notes)
}

fn steps(req: &RunRequest) -> Vec<&'static str> {
    planned(req, true).0.unwrap().describe()
}

const HEAD: [&str; 5] = [
    "namespaces",
    "system-paths",
    "session",
    "close-descriptors",
    "session-keyring",
];

fn with_head(rest: &[&'static str]) -> Vec<&'static str> {
    HEAD.iter().chain(rest).copied().collect()
}

/// An eBPF recording: no filter in the profile's place (unconfined), the cgroup joined last,
/// and with `wait_all`, every descendant waited for.
#[test]
fn an_ebpf_recording_joins_its_cgroup_right_before_exec() {
    let req = request(|r| {
        r.seccomp = Some("unconfined".into());
        r.record_cgroup = Some(confine_runtime::CgroupRecording {
            procs: 2,
            wait_all: true,
        });
    });
    let s = steps(&req);
    assert_eq!(s[s.len() - 2..], ["join-cgroup", "exec"]);
    assert!(!s.contains(&"seccomp"));
    let none = steps(&request(|r| r.seccomp = Some("unconfined".into())));
    assert!(!none.contains(&"join-cgroup"));
}

#[test]
fn root_default_installs_the_filter_before_the_id_changes() {
    let (p, notes) = planned(&RunRequest::new(["true"]), true);
    let p = p.unwrap();
    assert_eq!(
        p.describe(),
        with_head(&[
            "seccomp",
            "bounding-set",
            "clear-ambient",
            "ids",
            "capabilities",
            "parent-death-signal",
            "exec"
        ])
    );
    let s = p.steps();
    assert!(s.contains(&Step::Namespaces {
        pid: true,
        user: false
    }));
    assert!(s.contains(&Step::BoundingSet {
        keep: CapSet::docker_default()
    }));
    assert!(s.contains(&Step::Capabilities {
        effective: CapSet::docker_default()
    }));
    assert!(s.contains(&Step::Ids {
        uid: 0,
        gid: 0,
        groups: vec![]
    }));
    // AppArmor is not enabled here: Docker's note, word for word
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0]
        .to_string()
        .ends_with(": running without an AppArmor profile"));
}

#[test]
fn user_nobody_gets_its_ids_groups_and_no_capabilities() {
    let p = planned(&request(|r| r.user = Some("nobody".into())), true)
        .0
        .unwrap();
    let s = p.steps();
    assert!(s.contains(&Step::Ids {
        uid: 65534,
        gid: 65534,
        groups: vec![50]
    }));
    assert!(s.contains(&Step::Capabilities {
        effective: CapSet(0)
    }));
    assert_eq!(p.describe(), steps(&RunRequest::new(["true"])));
}

#[test]
fn no_new_privileges_moves_the_filter_after_the_id_changes() {
    assert_eq!(
        steps(&request(
            |r| r.security_opt = vec!["no-new-privileges".into()]
        )),
        with_head(&[
            "bounding-set",
            "clear-ambient",
            "ids",
            "capabilities",
            "no-new-privs",
            "seccomp",
            "parent-death-signal",
            "exec"
        ])
    );
}

#[test]
fn seccomp_unconfined_has_no_filter() {
    let want = with_head(&[
        "bounding-set",
        "clear-ambient",
        "ids",
        "capabilities",
        "parent-death-signal",
        "exec",
    ]);
    assert_eq!(
        steps(&request(
            |r| r.security_opt = vec!["seccomp=unconfined".into()]
        )),
        want
    );
    assert_eq!(
        steps(&request(|r| r.seccomp = Some("unconfined".into()))),
        want
    );
}

#[test]
fn privileged_keeps_every_capability_and_no_filter() {
    // SYS_PTRACE granted: without Landlock the init could be traced, which is refused
    let (p, _) = planned(&request(|r| r.privileged = true), true);
    let e = p.unwrap_err();
    assert!(matches!(e, Error::Unavailable(_)));
    assert!(e.to_string().contains("SYS_PTRACE"), "{e}");
    let req = request(|r| {
        r.privileged = true;
        r.unsafe_share_processes = true;
    });
    let (p, notes) = planned(&req, true);
    let p = p.unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        p.describe(),
        with_head(&[
            "bounding-set",
            "clear-ambient",
            "ids",
            "capabilities",
            "parent-death-signal",
            "exec"
        ])
    );
    let s = p.steps();
    assert!(s.contains(&Step::Namespaces {
        pid: false,
        user: false
    }));
    assert!(s.contains(&Step::Capabilities {
        effective: all_caps()
    }));
}

#[test]
fn an_ordinary_user_gets_a_user_namespace() {
    let (p, _) = planned(&RunRequest::new(["true"]), false);
    let p = p.unwrap();
    assert!(p.steps().contains(&Step::Namespaces {
        pid: true,
        user: true
    }));
    // its own ids: nothing to change, the filter before the (absent) id changes
    assert!(!p.describe().contains(&"ids"));
    // other ids cannot be had without CAP_SETUID
    let (p, _) = planned(&request(|r| r.user = Some("nobody".into())), false);
    assert!(p
        .unwrap_err()
        .to_string()
        .contains("needs CAP_SETUID and CAP_SETGID"));
}

#[test]
fn bad_requests_say_what_is_wrong() {
    let (p, _) = planned(&request(|r| r.user = Some("4294967295".into())), true);
    let e = p.unwrap_err();
    assert!(matches!(&e, Error::User { user, .. } if user == "4294967295"));
    assert!(e.to_string().contains("out of range"), "{e}");
    let (p, _) = planned(&request(|r| r.user = Some("ghost".into())), true);
    assert_eq!(
        p.unwrap_err().to_string(),
        "unable to find user ghost: no matching entries in passwd file"
    );
    let (p, _) = planned(&request(|r| r.cap_add = vec!["NOT_A_CAP".into()]), true);
    assert!(matches!(p.unwrap_err(), Error::Capabilities(_)));
    let (p, _) = planned(&request(|r| r.security_opt = vec!["bogus".into()]), true);
    assert!(matches!(
        p.unwrap_err(),
        Error::Option {
            option: "--security-opt",
            ..
        }
    ));
    let (p, _) = planned(&request(|r| r.preserve_fds = 1 << 20), true);
    assert!(p.is_err());
    // an env file with a bad line names the file and the line
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("env");
    std::fs::write(&env, "A=1\nexport B=2\n").unwrap();
    let (p, _) = planned(&request(|r| r.env_file = vec![env.clone()]), true);
    let e = p.unwrap_err();
    assert!(matches!(&e, Error::EnvFile { line: 2, path, .. } if *path == env));
}
