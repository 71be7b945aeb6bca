//! The Landlock lowering: handled bits, path rights, file masking, ports, scopes, ABI gaps under
//! both compat modes, the seccomp socket pairs, and the place of path errors.

use confine_policy::glob::GlobError;
use confine_policy::landlock::*;
use confine_policy::{load, Policy};
use confine_test_support::fixtures;

fn policy(text: &str) -> Policy {
    let l = load("p.yaml", text.as_bytes());
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    l.policy.unwrap()
}

const WEB: &str = "\
filesystem:
  readOnlyPaths: [/etc/**, /etc/*.conf]
  readWritePaths: [/tmp/, /var/log/app.log]
executable:
  allowedExecutables: [/usr/bin/app]
network:
  allowRaw: false
  allowedProtocols: {allowTcp: false, allowUdp: false}
confine:
  version: 1
  tcp: {bind: [8080], connect: [443, 8080]}
  scopes: [signal, abstract-unix]
";

#[test]
fn full_plan_at_abi_7() {
    let plan = landlock(&policy(WEB), 7, Compat::Require).unwrap();
    assert_eq!(plan.handled_fs, FS_READ | FS_WRITE | FS_EXECUTE | FS_REFER);
    assert_eq!(plan.handled_net, NET_BIND_TCP | NET_CONNECT_TCP);
    assert_eq!(plan.scoped, SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET);
    let paths: Vec<_> = plan
        .paths
        .iter()
        .map(|g| (g.path.as_str(), g.beneath, g.rights))
        .collect();
    assert_eq!(
        paths,
        [
            ("/etc", true, FS_READ),
            ("/tmp", true, FS_READ | FS_WRITE),
            ("/usr/bin/app", false, FS_EXECUTE | FS_READ_FILE),
            ("/var/log/app.log", false, FS_READ | FS_WRITE),
        ]
    );
    assert_eq!(
        plan.ports,
        [
            PortGrant {
                port: 443,
                rights: NET_CONNECT_TCP
            },
            PortGrant {
                port: 8080,
                rights: NET_BIND_TCP | NET_CONNECT_TCP
            },
        ]
    );
    assert_eq!(plan.widenings.len(), 1);
    assert_eq!(
        plan.widenings[0].to_string(),
        "2:28: `/etc/*.conf` widened to everything beneath `/etc` (Landlock has no globs)"
    );
    assert_eq!(
        plan.widening_diagnostics("p.yaml")[0].to_string(),
        "p.yaml:2:28: warning: `/etc/*.conf` widened to everything beneath `/etc` (Landlock has no globs) [glob-widened]"
    );
    assert!(plan.dropped.is_empty());
    let pairs: Vec<_> = plan
        .seccomp_sockets
        .iter()
        .map(|s| (s.domain, s.sock_type, s.protocol))
        .collect();
    assert_eq!(
        pairs,
        [
            (AF_INET, SOCK_DGRAM, None),
            (AF_INET6, SOCK_DGRAM, None),
            (AF_INET, SOCK_RAW, None),
            (AF_INET6, SOCK_RAW, None),
            (AF_INET, SOCK_PACKET, None),
            (AF_PACKET, SOCK_RAW, None),
            (AF_PACKET, SOCK_DGRAM, None),
            (AF_PACKET, SOCK_PACKET, None),
            (AF_XDP, SOCK_RAW, None),
            // TCP is restricted: Multipath TCP, which Landlock does not cover, is refused
            (AF_INET, SOCK_STREAM, Some(IPPROTO_MPTCP)),
            (AF_INET6, SOCK_STREAM, Some(IPPROTO_MPTCP)),
        ]
    );
}

#[test]
fn uapi_values() {
    // include/uapi/linux/landlock.h
    assert_eq!(FS_EXECUTE, 0x1);
    assert_eq!(FS_MAKE_SYM, 0x1000);
    assert_eq!(FS_REFER, 0x2000);
    assert_eq!(FS_TRUNCATE, 0x4000);
    assert_eq!(FS_IOCTL_DEV, 0x8000);
    assert_eq!((NET_BIND_TCP, NET_CONNECT_TCP), (1, 2));
    assert_eq!((SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL), (1, 2));
    assert_eq!(fs_rights_of(1), 0x1fff);
    assert_eq!(fs_rights_of(3), 0x7fff);
    assert_eq!(fs_rights_of(7), 0xffff);
    assert_eq!(linux_for(4), "6.7");
}

#[test]
fn file_masking_drops_directory_rights() {
    let plan = landlock(&policy(WEB), 7, Compat::Require).unwrap();
    let log = plan
        .paths
        .iter()
        .find(|g| g.path == "/var/log/app.log")
        .unwrap();
    assert_eq!(log.rights(true), FS_READ | FS_WRITE);
    assert_eq!(
        log.rights(false),
        FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE
    );
    assert_eq!(
        for_file(FS_READ_DIR | FS_MAKE_REG | FS_REMOVE_FILE | FS_REFER),
        0
    );
    assert_eq!(for_file(u64::MAX), FS_FILE_RIGHTS);
    assert_eq!(
        for_file(FS_IOCTL_DEV | FS_EXECUTE),
        FS_IOCTL_DEV | FS_EXECUTE
    );
}

#[test]
fn tcp_at_abi_3_require_names_tcp_and_abi_4() {
    let err = landlock(&policy(WEB), 3, Compat::Require).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("TCP bind restriction needs Landlock ABI 4 (Linux 6.7)"),
        "{msg}"
    );
    assert!(msg.contains("TCP connect"), "{msg}");
    assert!(
        msg.contains("scope signal needs Landlock ABI 6 (Linux 6.12)"),
        "{msg}"
    );
    let LandlockError::Abi { abi, gaps } = err else {
        panic!()
    };
    assert_eq!(abi, 3);
    let needs: Vec<_> = gaps.iter().map(|g| g.needs).collect();
    assert_eq!(needs, [4, 4, 6, 6]);
}

#[test]
fn tcp_at_abi_3_best_effort_lists_what_is_dropped() {
    let plan = landlock(&policy(WEB), 3, Compat::BestEffort).unwrap();
    assert_eq!(plan.handled_net, 0);
    assert!(plan.ports.is_empty());
    assert_eq!(plan.scoped, 0);
    let dropped: Vec<_> = plan.dropped.iter().map(|g| g.to_string()).collect();
    assert_eq!(
        dropped,
        [
            "TCP bind restriction needs Landlock ABI 4 (Linux 6.7)",
            "TCP connect restriction needs Landlock ABI 4 (Linux 6.7)",
            "scope signal needs Landlock ABI 6 (Linux 6.12)",
            "scope abstract-unix needs Landlock ABI 6 (Linux 6.12)",
        ]
    );
    // The filesystem part is whole at ABI 3; the UDP and raw pairs do not depend on the ABI
    // (2 + 7), and Multipath TCP is refused only where TCP is restricted (not at ABI 3).
    assert_eq!(plan.handled_fs, FS_READ | FS_WRITE | FS_EXECUTE | FS_REFER);
    assert_eq!(plan.seccomp_sockets.len(), 9);
    assert!(plan.seccomp_sockets.iter().all(|s| s.protocol.is_none()));
}

#[test]
fn truncate_refer_and_ioctl_gaps() {
    let p = policy(
        "filesystem: {readWritePaths: [/tmp/]}\nconfine: {version: 1, refer: [/tmp/], deviceIoctl: [/dev/tty]}\n",
    );
    let err = landlock(&p, 1, Compat::Require).unwrap_err().to_string();
    for want in [
        "REFER (confine.refer) needs Landlock ABI 2 (Linux 5.19)",
        "TRUNCATE (truncate(2) outside writable paths) needs Landlock ABI 3 (Linux 6.2)",
        "IOCTL_DEV (confine.deviceIoctl) needs Landlock ABI 5 (Linux 6.10)",
    ] {
        assert!(err.contains(want), "{err}");
    }
    let plan = landlock(&p, 2, Compat::BestEffort).unwrap();
    assert_eq!(
        plan.handled_fs,
        (FS_READ | FS_WRITE | FS_REFER) & !FS_TRUNCATE
    );
    assert_eq!(plan.dropped.len(), 2);
    let plan = landlock(&p, 5, Compat::Require).unwrap();
    assert_eq!(plan.handled_fs & FS_IOCTL_DEV, FS_IOCTL_DEV);
    let tty = plan.paths.iter().find(|g| g.path == "/dev/tty").unwrap();
    assert_eq!(tty.rights(false), FS_IOCTL_DEV);
}

#[test]
fn no_landlock_at_all() {
    let p = policy(WEB);
    let LandlockError::Abi { gaps, .. } = landlock(&p, 0, Compat::Require).unwrap_err() else {
        panic!()
    };
    assert_eq!(gaps[0].needs, 1);
    let plan = landlock(&p, 0, Compat::BestEffort).unwrap();
    assert!(plan.is_empty());
    assert!(plan.paths.is_empty());
}

#[test]
fn variables_are_errors_with_their_place() {
    let p = policy("filesystem:\n  readOnlyPaths:\n    - /proc/@{pid}/maps\n");
    let err = landlock(&p, 7, Compat::BestEffort).unwrap_err();
    assert!(matches!(
        &err,
        LandlockError::Path {
            line: 3,
            column: 7,
            source: GlobError::Variable(..),
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "p.yaml:3:7: `/proc/@{pid}/maps` uses the AppArmor variable `@{pid}`, which Landlock cannot expand"
    );
    let d = err.diagnostic().unwrap();
    assert_eq!((d.code, d.line, d.column), ("landlock-variable", 3, 7));
}

#[test]
fn tcp_allowed_without_ports_is_not_handled() {
    let p = policy("network: {allowedProtocols: {allowTcp: true}}\n");
    let plan = landlock(&p, 7, Compat::Require).unwrap();
    assert!(plan.is_empty());
    // Only connecting restricted: binding stays free.
    let p = policy("confine: {version: 1, tcp: {connect: []}}\n");
    let plan = landlock(&p, 7, Compat::Require).unwrap();
    assert_eq!(plan.handled_net, NET_CONNECT_TCP);
    assert!(plan.ports.is_empty());
}

#[test]
fn complain_mode_is_refused() {
    let p = policy(
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: AppArmorProfile\nspec: {mode: Complain, abstract: {}}\n",
    );
    assert!(matches!(
        landlock(&p, 7, Compat::BestEffort),
        Err(LandlockError::Complain(_))
    ));
}

#[test]
fn spo_example_denies_all_files() {
    let l = load("example", fixtures::SPO_EXAMPLE_APPARMORPROFILE);
    let plan = landlock(&l.policy.unwrap(), 7, Compat::Require).unwrap();
    assert_eq!(plan.handled_fs, FS_READ | FS_WRITE | FS_REFER);
    assert!(plan.paths.is_empty());
    assert_eq!(plan.handled_net, 0);
}
