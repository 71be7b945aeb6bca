//! `cargo run --release -p confine-bench --bin policy_overhead`: what a Landlock policy adds to
//! `confine run`, at start-up (a policy of 50 paths against none, side by side in the same
//! run) and at run time (a file-heavy workload, `find /usr -type f | wc -l`, bare, under
//! `confine run` without a policy, and with one). Median wall time of many runs; prints a
//! Markdown table.
#![forbid(unsafe_code)]

use confine_bench::{median_ms, ok};
use std::path::Path;
use std::process::Command;

fn main() {
    let confine = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/confine");
    assert!(
        confine.exists(),
        "build confine first: cargo build --release"
    );
    // A private, unpredictably named directory (mode 0700), removed on drop.
    let tmp = tempfile::Builder::new()
        .prefix("confine-policy-bench")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    // 50 directories, each a read-only path of the policy, and the static busybox executable
    let mut policy = String::from("filesystem:\n  readOnlyPaths:\n");
    for i in 0..50 {
        let d = dir.join(format!("d{i}"));
        std::fs::create_dir(&d).unwrap();
        policy.push_str(&format!("  - {}/\n", d.display()));
    }
    let busybox = "/usr/bin/busybox"; // static: it needs no library path in the policy
    policy.push_str(&format!("executable:\n  allowedExecutables: [{busybox}]\n"));
    let file = dir.join("policy.yaml");
    std::fs::write(&file, policy).unwrap();
    let file = file.to_str().unwrap();

    // in-process: building the ruleset of the 50 directories (open + landlock_add_rule each),
    // the part of the start-up a policy adds that grows with its paths
    let spec = confine_kernel::landlock::RulesetSpec {
        handled_fs: confine_kernel::landlock::access::FS_READ
            | confine_kernel::landlock::access::FS_EXECUTE,
        paths: (0..50)
            .map(|i| {
                (
                    dir.join(format!("d{i}")),
                    confine_kernel::landlock::access::FS_READ,
                )
            })
            .collect(),
        ..Default::default()
    };
    let build_ms = median_ms(2000, || {
        confine_kernel::landlock::build(&spec).unwrap();
    });
    let empty = confine_kernel::landlock::RulesetSpec {
        paths: Vec::new(),
        ..spec.clone()
    };
    let empty_ms = median_ms(2000, || {
        confine_kernel::landlock::build(&empty).unwrap();
    });

    // in-process: reading the policy file (YAML, 50 paths), and the record for confine
    // inspect (a sealed memfd, made and freed)
    let text = std::fs::read(file).unwrap();
    let load_ms = median_ms(2000, || {
        assert!(confine_policy::load(file, &text).policy.is_some());
    });
    let record_ms = median_ms(2000, || {
        let mut r = confine_inspect::landlock::Record::for_self(
            file,
            confine_inspect::landlock::Compat::Require,
            7,
        )
        .unwrap();
        for (p, rights) in &spec.paths {
            r.add_path(&p.to_string_lossy(), *rights);
        }
        drop(confine_inspect::landlock::write(&r).unwrap());
    });

    let n = 200;
    let start = |opts: &[&str]| {
        median_ms(n, || {
            ok(Command::new(&confine)
                .arg("run")
                .args(opts)
                .args(["--", busybox, "true"]))
        })
    };
    let bare = median_ms(n, || ok(Command::new(busybox).arg("true")));
    let none = start(&[]);
    let fifty = start(&["--policy", file]);
    let share = start(&["--unsafe-share-processes"]);
    let share_fifty = start(&["--unsafe-share-processes", "--policy", file]);

    // run time: a walk of /usr, bare and confined (the policy: /usr and /etc readable and
    // executable from, nothing else)
    let walk = ["sh", "-c", "find /usr -type f | wc -l"];
    let m = 15;
    let walk_bare = median_ms(m, || ok(Command::new(walk[0]).args(&walk[1..])));
    let walk_none = median_ms(m, || {
        ok(Command::new(&confine).args(["run", "--"]).args(walk))
    });
    let walk_policy = median_ms(m, || {
        ok(Command::new(&confine)
            .args(["run", "--rox", "/usr", "--ro", "/etc", "--"])
            .args(walk))
    });
    let files = String::from_utf8(
        Command::new(walk[0])
            .args(&walk[1..])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    drop(tmp);

    println!("| run | median ms | against `confine run` without a policy |");
    println!("|---|---|---|");
    println!("| bare `busybox true` | {bare:.2} | – |");
    println!("| `confine run -- busybox true` | {none:.2} | – |");
    println!(
        "| `confine run --policy` (50 paths) | {fifty:.2} | {:+.2} ms |",
        fifty - none
    );
    println!(
        "| in-process: the ruleset of the 50 paths built (open + landlock_add_rule each) | {build_ms:.3} | {:+.3} ms against the same ruleset without paths ({empty_ms:.3}) |",
        build_ms - empty_ms
    );
    println!("| in-process: the policy file read (YAML, 50 paths) | {load_ms:.3} | – |");
    println!(
        "| in-process: the record for `confine inspect` written and removed | {record_ms:.3} | – |"
    );
    println!("| `confine run --unsafe-share-processes` | {share:.2} | – |");
    println!(
        "| `confine run --unsafe-share-processes --policy` (50 paths) | {share_fifty:.2} | {:+.2} ms (against the row above) |",
        share_fifty - share
    );
    println!(
        "| bare `find /usr -type f \\| wc -l` ({} files) | {walk_bare:.1} | – |",
        files.trim()
    );
    println!(
        "| the same under `confine run` | {walk_none:.1} | – ({:.2}× bare) |",
        walk_none / walk_bare
    );
    println!(
        "| the same under `confine run --rox /usr --ro /etc` (Landlock) | {walk_policy:.1} | {:+.1} ms ({:.2}× bare) |",
        walk_policy - walk_none,
        walk_policy / walk_bare
    );
}
