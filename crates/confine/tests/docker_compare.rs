//! Against real Docker (Debian's docker.io 20.10 with its runc 1.1.5 and libseccomp 2.5.4):
//! the same profile file under `docker run --security-opt seccomp=` and under `confine run
//! --seccomp`. The Cap*, NoNewPrivs and Seccomp lines of /proc/PID/status must match, and the
//! two installed filters — dumped with PTRACE_SECCOMP_GET_FILTER, run through the emulator, no
//! syscall probing — must decide alike, apart from the syscalls newer than Debian's libseccomp,
//! which runc skips by design; those are listed apart.
//!
//! The test starts its own dockerd on a private socket and data root (no iptables, no bridge,
//! vfs storage) and imports a tiny image made of busybox-static and confine's static syscall
//! probe (tests/probe/probe.rs), whose output (status lines, errno of harmless calls) must be
//! the same in the container and under `confine run`.

#[path = "support/docker.rs"]
mod docker_support;
use confine_abi::syscalls::UNKNOWN_TO_LIBSECCOMP_2_5_4;
use confine_abi::{Arch, SyscallTable};
use confine_bpf::{Emulator, Insn, SeccompData};
use confine_test_support::probe::DOCKER_ARG_VALUES;
use docker_support::{build_static, docker, import_busybox, start_dockerd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn status_lines(pid: u32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .filter(|l| {
            ["Cap", "NoNewPrivs", "Seccomp"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(str::to_string)
        .collect()
}

fn only_filter(pid: u32) -> Vec<Insn> {
    let f = confine_kernel::ptrace::seccomp_filters(pid as i32).expect("PTRACE_SECCOMP_GET_FILTER");
    assert_eq!(f.len(), 1, "pid {pid} has {} filters", f.len());
    f.into_iter().next().unwrap()
}

#[test]
fn confine_run_matches_docker_run() {
    let fixture = confine_test_support::fixtures::seccomp("docker-default.json");
    let dir = tempfile::tempdir().unwrap();
    let d = start_dockerd(dir.path());

    // a tiny image: busybox-static, its applets, and our static syscall probe
    // (tests/probe/probe.rs), built here with rustc, std only
    let probe = dir.path().join("probe");
    build_static("probe/probe.rs", &probe);
    import_busybox(
        &d,
        dir.path(),
        &["sh", "sleep", "cat"],
        &[(&probe, "bin/probe")],
        "confine-probe:1",
    );

    // the probe, in a container and under confine run: same status lines, same errnos
    let out = docker(
        &d,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "--security-opt",
            &format!("seccomp={}", fixture.display()),
            "confine-probe:1",
            "/bin/probe",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let in_docker = String::from_utf8(out.stdout).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["run", "--seccomp", fixture.to_str().unwrap(), "--"])
        .arg(&probe)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "confine run probe: {:?}", out.status);
    let under_confine = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        under_confine, in_docker,
        "the probe under confine run vs docker run"
    );
    // and the values are Docker's, not merely equal (errno 1 EPERM, 38 ENOSYS)
    for expected in [
        "Seccomp:\t2",
        "NoNewPrivs:\t0",
        "CapBnd:\t00000000a80425fb",
        "CapEff:\t00000000a80425fb",
        "getpid 0",
        "personality_bad 1",
        "clone3_null 38",
        "unshare_none 1",
        "mount_null 1",
        "keyctl_bad 1",
        "bpf_bad 1",
        "reboot_badmagic 1",
    ] {
        assert!(
            in_docker.lines().any(|l| l == expected),
            "docker run probe lacks {expected:?}:\n{in_docker}"
        );
    }
    println!("probe output, equal under docker run and confine run:\n{in_docker}");

    // the profile exported by `confine seccomp export --to docker|oci`, run by the same
    // Docker: the probe sees the same errnos (issue 18's consumer check)
    for to in ["docker", "oci"] {
        let exported = dir.path().join(format!("exported-{to}.json"));
        let o = Command::new(env!("CARGO_BIN_EXE_confine"))
            .args(["seccomp", "export"])
            .arg(&fixture)
            .args(["--to", to, "-o"])
            .arg(&exported)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = docker(
            &d,
            &[
                "run",
                "--rm",
                "--network",
                "none",
                "--security-opt",
                &format!("seccomp={}", exported.display()),
                "confine-probe:1",
                "/bin/probe",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            in_docker,
            "the probe under the --to {to} export vs the original profile"
        );
    }

    let out = docker(
        &d,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--security-opt",
            &format!("seccomp={}", fixture.display()),
            "confine-probe:1",
            "/bin/sleep",
            "120",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let pid: u32 = String::from_utf8(docker(&d, &["inspect", "-f", "{{.State.Pid}}", &id]).stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    let mut ours = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args([
            "run",
            "--seccomp",
            fixture.to_str().unwrap(),
            "--",
            "/usr/bin/busybox",
            "sleep",
            "120",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut our_pid = 0u32;
    while our_pid == 0 && Instant::now() < deadline {
        // the command is the child of confine's init, itself confine's child
        let children = |pid: u32| -> Vec<u32> {
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        };
        our_pid = children(ours.id())
            .into_iter()
            .flat_map(children)
            .next()
            .unwrap_or(0);
        if our_pid != 0
            && !std::fs::read_to_string(format!("/proc/{our_pid}/comm"))
                .unwrap_or_default()
                .starts_with("busybox")
        {
            our_pid = 0; // not exec'd yet
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ne!(our_pid, 0, "confine run did not start the command");

    let (theirs_status, our_status) = (status_lines(pid), status_lines(our_pid));
    let (theirs, our) = (only_filter(pid), only_filter(our_pid));
    let _ = docker(&d, &["rm", "-f", &id]);
    let _ = ours.kill();
    let _ = ours.wait();
    assert_eq!(
        our_status, theirs_status,
        "/proc/PID/status under confine run vs docker run"
    );

    let (et, eo) = (
        Emulator::new(&theirs).unwrap(),
        Emulator::new(&our).unwrap(),
    );
    let (mut equal, mut by_design) = (0usize, std::collections::BTreeSet::new());
    for (arch, audit, base) in [
        (Arch::X86_64, 0xc000_003eu32, 0u32),
        (Arch::X32, 0xc000_003e, 0x4000_0000),
        (Arch::X86, 0x4000_0003, 0),
    ] {
        let table = SyscallTable::for_arch(arch).unwrap();
        let top = table
            .entries()
            .map(|e| e.0)
            .filter(|&n| n < base + 1000)
            .max()
            .unwrap()
            + 64;
        for nr in base..=top {
            for a0 in [0u64, 1].into_iter().chain(DOCKER_ARG_VALUES) {
                let data = SeccompData {
                    nr,
                    arch: audit,
                    args: [a0, a0, 0, 0, 0, 0],
                    ..Default::default()
                };
                let (t, o) = (et.run(&data, true).ret, eo.run(&data, true).ret);
                if t == o {
                    equal += 1;
                    continue;
                }
                let name = table.name_of(nr);
                // runc's stub sits above libseccomp 2.5.4's highest known number (456 on x86_64)
                let newer = name.is_some_and(|n| UNKNOWN_TO_LIBSECCOMP_2_5_4.contains(&n))
                    || (nr - base > 456 && nr <= table.max_number());
                assert!(
                    newer,
                    "{arch} nr {nr} ({name:?}) a0 {a0:#x}: docker {} vs confine {}",
                    confine_bpf::action::describe(t),
                    confine_bpf::action::describe(o)
                );
                by_design.insert(format!("{arch}:{}", name.unwrap_or("?")));
            }
        }
    }
    println!(
        "docker comparison: status lines equal ({} lines); filters of {} and {} instructions; {equal} verdicts equal; differing by design (newer than libseccomp 2.5.4): {}",
        our_status.len(),
        theirs.len(),
        our.len(),
        by_design.into_iter().collect::<Vec<_>>().join(" ")
    );
}
