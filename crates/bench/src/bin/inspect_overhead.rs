//! `cargo run --release -p confine-bench --bin inspect_overhead`: `confine inspect --all`
//! against `ps -eo pid,label,comm` and `pscap -a` (libcap-ng-utils) with 2,000 extra processes
//! running, and `confine inspect --all --syscalls` with 1,000 of them under the same filter
//! (started by `confine run`, so the stack is decoded once). Median wall time; prints a
//! Markdown table with ratios to ps. Run as root.
#![forbid(unsafe_code)]

use confine_bench::median_ms;
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn quiet(c: &mut Command) {
    let s = c
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(s.success(), "{c:?}: {s:?}");
}

struct Kids(Vec<Child>);
impl Drop for Kids {
    fn drop(&mut self) {
        // TERM, which confine run passes on to its command (KILL would orphan the sleepers)
        let pids: Vec<String> = self.0.iter().map(|c| c.id().to_string()).collect();
        let _ = Command::new("kill").arg("-TERM").args(&pids).status();
        for c in &mut self.0 {
            let _ = c.wait();
        }
    }
}

fn main() {
    let confine = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/confine");
    assert!(
        confine.exists(),
        "build confine first: cargo build --release"
    );
    let procs = |s: &str| s.lines().count();
    let before =
        procs(&String::from_utf8(Command::new("ps").arg("-e").output().unwrap().stdout).unwrap());
    let mut kids = Kids(Vec::new());
    // 1,000 sleepers under confine run (each with its confine parent: 2,000 processes) and
    // 1,000 plain ones
    for _ in 0..1000 {
        kids.0.push(
            Command::new("/usr/bin/busybox")
                .args(["sleep", "600"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    for _ in 0..1000 {
        kids.0.push(
            Command::new(&confine)
                .args(["run", "--", "/usr/bin/busybox", "sleep", "600"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let total =
        procs(&String::from_utf8(Command::new("ps").arg("-e").output().unwrap().stdout).unwrap());
    let n = 15;
    let ps = median_ms(n, || {
        quiet(Command::new("ps").args(["-eo", "pid,label,comm"]))
    });
    let pscap = Path::new("/usr/bin/pscap")
        .exists()
        .then(|| median_ms(n, || quiet(Command::new("pscap").arg("-a"))));
    let all = median_ms(n, || {
        quiet(Command::new(&confine).args(["inspect", "--all"]))
    });
    let all_json = median_ms(n, || {
        quiet(Command::new(&confine).args(["inspect", "--all", "--json"]))
    });
    let sys = median_ms(n, || {
        quiet(Command::new(&confine).args(["inspect", "--all", "--syscalls"]))
    });
    println!(
        "{} processes running ({} before the benchmark started its own); median of {n} runs\n",
        total - 1,
        before - 1
    );
    println!("| command | median ms | ratio to ps |");
    println!("|---|---|---|");
    let row = |name: &str, t: f64| println!("| {name} | {t:.1} | {:.2}× |", t / ps);
    row("`ps -eo pid,label,comm`", ps);
    if let Some(t) = pscap {
        row("`pscap -a`", t);
    }
    row("`confine inspect --all`", all);
    row("`confine inspect --all --json`", all_json);
    row(
        "`confine inspect --all --syscalls` (1,000 filtered processes, one stack)",
        sys,
    );
}
