//! AppArmor for real: Debian's kernel under qemu (TCG) with `apparmor=1 security=apparmor`,
//! then again with `apparmor=0`. In the guest: confine loads docker-default through the real
//! apparmor_parser, runs commands in it, and the kernel's answers come back over the serial
//! console (see tests/vm/mod.rs for the harness, tests/vm/init.sh for the guest's script).

mod vm;

#[path = "policy/table.rs"]
mod table;

use std::collections::BTreeMap;
use std::path::Path;
use vm::{Block, Initramfs};

const DENY_SECRET: &str = "\
#include <tunables/global>
profile deny-secret flags=(attach_disconnected,mediate_deleted) {
  #include <abstractions/base>
  file,
  capability,
  network,
  signal,
  deny /secret r,
}
";

// a file-and-network policy, rendered in the guest by `confine apparmor generate --policy`:
// reading beneath /etc, writing beneath /tmp, executing busybox only
const POLICY: &str = "\
apiVersion: security-profiles-operator.x-k8s.io/v1
kind: AppArmorProfile
metadata: {name: policy-web}
spec:
  abstract:
    filesystem:
      readOnlyPaths: [/etc/**]
      readWritePaths: [/tmp/]
    executable:
      allowedExecutables: [/bin/busybox]
";

// line 3 has a misspelt permission
const BROKEN: &str = "\
profile broken {
  file,
  deny /secret rz,
}
";

fn initramfs(confine: &Path) -> Vec<u8> {
    let mut i = Initramfs::default();
    for d in [
        "proc", "sys", "dev", "tmp", "mnt", "root", "sbin", "usr/bin", "usr/sbin",
    ] {
        i.dir(d);
    }
    i.copy(Path::new("/bin/busybox"), "bin/busybox");
    i.copy(confine, "bin/confine");
    i.copy_with_libs(Path::new("/usr/sbin/apparmor_parser"));
    i.copy_tree(Path::new("/etc/apparmor.d/abi"), "etc/apparmor.d/abi");
    i.copy_tree(
        Path::new("/etc/apparmor.d/tunables"),
        "etc/apparmor.d/tunables",
    );
    i.copy_tree(
        Path::new("/etc/apparmor.d/abstractions"),
        "etc/apparmor.d/abstractions",
    );
    i.copy(
        Path::new("/etc/apparmor/parser.conf"),
        "etc/apparmor/parser.conf",
    );
    if Path::new("/usr/share/apparmor-features").is_dir() {
        i.copy_tree(
            Path::new("/usr/share/apparmor-features"),
            "usr/share/apparmor-features",
        );
    }
    i.file("etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n");
    i.file("etc/group", 0o644, b"root:x:0:\n");
    i.file("profiles/deny-secret", 0o644, DENY_SECRET.as_bytes());
    i.file("profiles/broken", 0o644, BROKEN.as_bytes());
    i.file("profiles/policy.yaml", 0o644, POLICY.as_bytes());
    // the same binary as /bin/busybox under a path the policy does not allow to execute
    i.copy(Path::new("/bin/busybox"), "opt/other");
    // the table of file accesses both LSMs must decide alike, under /data
    for d in table::DIRS {
        i.dir(&format!("data/{d}"));
    }
    for f in table::FILES {
        i.file(&format!("data/{f}"), 0o644, b"content\n");
    }
    let probe = probe();
    for p in table::PROGRAMS {
        i.copy(&probe, &format!("data/{p}"));
    }
    i.copy(&probe, "data/probe");
    i.file(
        "data/policy.yaml",
        0o644,
        table::policy("/data", "/data/probe").as_bytes(),
    );
    i.file(
        "data/actions",
        0o644,
        table::actions("/data").join(" ").as_bytes(),
    );
    i.file("init", 0o755, include_bytes!("vm/init.sh"));
    i.finish()
}

/// The policy tests' static probe (tests/policy/probe.rs), built for the guest.
fn probe() -> std::path::PathBuf {
    let dir = vm::scratch();
    let bin = dir.join("policy-probe");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policy/probe.rs");
    confine_test_support::run::rustc_static(&src, &bin);
    bin
}

/// The probe's answer lines of a block (notes and diagnostics on stderr left out).
fn answers(out: &str) -> Vec<String> {
    let ops: Vec<&str> = table::CASES.iter().map(|c| c.op).collect();
    out.lines()
        .filter(|l| l.split_once(' ').is_some_and(|(op, _)| ops.contains(&op)))
        .map(String::from)
        .collect()
}

fn get<'a>(b: &'a BTreeMap<String, Block>, name: &str) -> &'a Block {
    b.get(name)
        .unwrap_or_else(|| panic!("the guest printed no block {name}"))
}

fn ok<'a>(b: &'a BTreeMap<String, Block>, name: &str) -> &'a str {
    let x = get(b, name);
    assert_eq!(x.rc, 0, "{name} failed:\n{}", x.out);
    &x.out
}

fn failed<'a>(b: &'a BTreeMap<String, Block>, name: &str, rc: i32) -> &'a str {
    let x = get(b, name);
    assert_eq!(x.rc, rc, "{name}: expected exit {rc}:\n{}", x.out);
    &x.out
}

#[test]
fn apparmor_in_a_real_kernel() {
    let start = std::time::Instant::now();
    let kernel = vm::kernel();
    let confine = vm::static_confine();
    let image = initramfs(&confine);
    eprintln!(
        "kernel, static build and initramfs ({} MB) ready after {:.1} s",
        image.len() >> 20,
        start.elapsed().as_secs_f64()
    );

    // ---- AppArmor enabled
    let (b, log) = vm::boot(&kernel, &image, "apparmor=1 security=apparmor");
    let k = ok(&b, "kernel");
    assert!(
        k.contains("apparmor"),
        "guest LSMs lack apparmor:\n{k}\n{log}"
    );
    assert!(ok(&b, "status_before").contains("AppArmor: enabled"));
    let gen = ok(&b, "generate");
    assert!(gen.contains("abi <abi/3.0>,") && gen.contains("#include <tunables/global>"));
    assert!(gen.contains("#include <abstractions/base>"));
    assert!(ok(&b, "load").contains("loaded docker-default (enforce)"));
    let st = ok(&b, "status");
    assert!(
        st.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["docker-default", "enforce"]),
        "{st}"
    );
    let js: serde_json::Value = serde_json::from_str(ok(&b, "status_json")).unwrap();
    assert_eq!(js["enabled"], true);
    assert!(js["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "docker-default" && p["mode"] == "enforce"));

    // the command runs in docker-default, enforced
    assert_eq!(ok(&b, "label").trim(), "docker-default (enforce)");
    assert_eq!(ok(&b, "label_legacy").trim(), "docker-default (enforce)");
    let sc = ok(&b, "seccomp");
    assert!(
        sc.contains("Seccomp:\t2") && sc.contains("NoNewPrivs:\t0"),
        "{sc}"
    );
    // denied by the profile, allowed without it: the denial is AppArmor's
    assert!(failed(&b, "printk", 1).contains("Permission denied"));
    ok(&b, "printk_unconfined");
    assert!(failed(&b, "firmware", 1).contains("Permission denied"));
    assert!(get(&b, "firmware_dir").out.contains("Permission denied"));
    assert_ne!(get(&b, "firmware_dir").rc, 0);
    ok(&b, "firmware_unconfined");
    assert!(failed(&b, "printk_readonly", 1).contains("Read-only file system"));
    assert_eq!(ok(&b, "firmware_masked").trim(), "");
    assert!(get(&b, "mount").rc != 0, "{}", get(&b, "mount").out);
    // busybox words it "permission denied (are you root?)" for the EACCES AppArmor returns
    // in the command's own mount namespace
    assert!(
        get(&b, "mount")
            .out
            .to_lowercase()
            .contains("permission denied"),
        "{}",
        get(&b, "mount").out
    );
    ok(&b, "mount_unconfined");

    // inspect sees the confined process's label
    if let Some(d) = b.get("runner_debug") {
        panic!("the confined command was not found:\n{}", d.out);
    }
    assert!(ok(&b, "inspect").contains("docker-default (enforce)"));
    let ij: serde_json::Value = serde_json::from_str(ok(&b, "inspect_json").trim()).unwrap();
    assert_eq!(ij["apparmor"]["label"], "docker-default");
    assert_eq!(ij["apparmor"]["mode"], "enforce");
    assert_eq!(ij["seccomp"]["mode"], "filter");
    assert!(ok(&b, "inspect_self").contains("docker-default (enforce)"));

    // a custom profile denies its one file
    assert!(ok(&b, "custom_load").contains("loaded deny-secret (enforce)"));
    assert!(failed(&b, "custom_denied", 1).contains("Permission denied"));
    assert!(ok(&b, "custom_allowed").contains("root:x:0:0"));
    assert!(failed(&b, "custom_file", 1).contains("Permission denied"));
    ok(&b, "unload");
    assert!(!ok(&b, "status_after_unload").contains("deny-secret"));
    assert!(failed(&b, "not_loaded", 125).contains("deny-secret is not loaded"));
    assert_ne!(get(&b, "ran_not_loaded").rc, 0, "the command ran");

    // the file-and-network policy rendered as a profile, loaded and enforced
    let pg = ok(&b, "policy_generate");
    assert!(pg.contains("profile \"policy-web\" flags="), "{pg}");
    assert!(ok(&b, "policy_load").contains("loaded policy-web (enforce)"));
    assert!(ok(&b, "policy_read").contains("root:x:0:0"));
    assert!(failed(&b, "policy_secret", 1).contains("Permission denied"));
    ok(&b, "policy_write");
    assert!(get(&b, "policy_write_etc").rc != 0);
    assert!(get(&b, "policy_write_etc")
        .out
        .contains("Permission denied"));
    // /bin/cat is a symbolic link to /bin/busybox: AppArmor matches the resolved path
    let other = get(&b, "policy_exec_other");
    assert_eq!(other.rc, 126, "{}", other.out);
    assert!(other.out.contains("Permission denied"), "{}", other.out);
    let other = get(&b, "policy_exec_other_unconfined");
    assert_ne!(other.rc, 126, "{}", other.out);
    // the command itself is executed under the runner's own (unconfined) label: AppArmor
    // checks an execve against the profile of the process calling it
    let first = get(&b, "policy_exec_first");
    assert!(first.out.contains("applet not found"), "{}", first.out);

    // the same table of file accesses as Landlock on the host, through AppArmor here
    let t = ok(&b, "table_apparmor");
    assert_eq!(answers(t), table::expected(), "{t}");
    // confine run loaded the policy's own profile (named after metadata.name)
    let st = ok(&b, "table_apparmor_profile");
    assert!(
        st.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["policy-table", "enforce"]),
        "{st}"
    );
    // this kernel's Landlock: a lower ABI than the host's
    let abi = ok(&b, "landlock_abi");
    let n: u32 = abi
        .split("ABI ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no Landlock ABI in {abi}"));
    assert!(
        n < 4,
        "the VM kernel's Landlock has TCP rules (ABI {n}): {abi}"
    );
    let r = failed(&b, "landlock_require_tcp", 125);
    assert!(
        r.contains("TCP connect restriction needs Landlock ABI 4 (Linux 6.7)"),
        "{r}"
    );
    assert_ne!(get(&b, "landlock_ran_require").rc, 0, "the command ran");
    let be = ok(&b, "landlock_best_effort_tcp");
    assert!(
        be.contains("dropped (best-effort): TCP connect restriction needs Landlock ABI 4"),
        "{be}"
    );
    ok(&b, "landlock_ran_best_effort");
    // the table under that Landlock: the same answers but where the ABI lacks the right
    // (truncate: ABI 3), which best-effort lists as dropped
    let t = ok(&b, "table_landlock");
    let want: Vec<String> = table::CASES
        .iter()
        .zip(table::expected())
        .map(|(c, e)| {
            if c.op == "truncate" && n < 3 {
                "truncate ok".to_string()
            } else {
                e
            }
        })
        .collect();
    assert_eq!(answers(t), want, "{t}");
    if n < 3 {
        assert!(t.contains("needs Landlock ABI 3"), "{t}");
    }

    // broken profiles: the parser's own message with its line number
    let bl = failed(&b, "broken_load", 2);
    assert!(bl.contains("at line 3"), "{bl}");
    let br = failed(&b, "broken_run", 125);
    assert!(br.contains("at line 3"), "{br}");
    assert_ne!(get(&b, "ran_broken").rc, 0, "the command ran");

    // confine run loads docker-default itself when it is missing
    ok(&b, "unload_default");
    assert_eq!(
        ok(&b, "run_loads_default").trim(),
        "docker-default (enforce)"
    );
    // complain mode (explicit deny rules stay enforced in complain mode, so only the mode is
    // checked)
    assert!(ok(&b, "complain").contains("loaded deny-secret (complain)"));
    assert!(ok(&b, "complain_status").contains("deny-secret"));
    assert_eq!(ok(&b, "complain_label").trim(), "deny-secret (complain)");

    // ---- AppArmor disabled
    let (b, _) = vm::boot(&kernel, &image, "apparmor=0");
    let st = ok(&b, "off.status");
    assert!(st.contains("AppArmor: disabled: "), "{st}");
    let js: serde_json::Value = serde_json::from_str(ok(&b, "off.status_json")).unwrap();
    assert_eq!(js["enabled"], false);
    let rd = get(&b, "off.run_default");
    assert!(
        rd.out.contains("running without an AppArmor profile"),
        "{}",
        rd.out
    );
    let rn = failed(&b, "off.run_named", 125);
    assert!(
        rn.contains("AppArmor profile docker-default requested, but"),
        "{rn}"
    );
    assert_ne!(get(&b, "off.ran_named").rc, 0, "the command ran");
    assert!(failed(&b, "off.load", 2).contains("cannot load an AppArmor profile"));
    assert!(ok(&b, "off.inspect").contains("no LSM"));
    eprintln!(
        "AppArmor VM test: {:.1} s in all",
        start.elapsed().as_secs_f64()
    );
}
