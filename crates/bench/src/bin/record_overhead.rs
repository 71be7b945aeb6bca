//! `cargo run --release -p confine-bench --bin record_overhead [-- N]` (after `cargo build
//! --release`): what `confine record` adds to a command, against the command run bare,
//! `confine run` with seccomp unconfined (confine's start-up without recording), `strace -f -c`
//! and `perf trace -s` (in a private mount namespace, so the tracefs perf mounts stays there).
//! Two workloads: 200,000 `getppid` calls from python, and python byte-compiling a copy of part
//! of its standard library. Median wall time of N runs (default 5), side by side in one run;
//! prints a Markdown table, the recorder's peak RSS and whether the kernel took
//! SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP. `confine record --mode ebpf` has rows of its own
//! (against the same strace runs). Run as root.
#![forbid(unsafe_code)]

use confine_bench::{median_ms, ok};
use std::path::Path;
use std::process::{Command, Stdio};

/// The standard library's packages the second workload byte-compiles (a copy of each).
const PACKAGES: &[&str] = &[
    "json",
    "email",
    "http",
    "urllib",
    "xml",
    "logging",
    "unittest",
    "asyncio",
    "concurrent",
    "importlib",
];
const STDLIB: &str = "/usr/lib/python3.11";
const PYTHON: &str = "/usr/bin/python3";

/// One runner's result on one workload: the median in ms, or why it could not run.
type Timing = Result<f64, String>;

fn main() {
    // the build's target directory: CARGO_TARGET_DIR when set, the workspace's otherwise
    let confine = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("release/confine");
    assert!(
        confine.exists(),
        "build confine first: cargo build --release"
    );
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("the one argument is the number of runs"))
        .unwrap_or(5);
    // A private, unpredictably named directory (mode 0700), removed on drop.
    let tmp = tempfile::Builder::new()
        .prefix("confine-record-bench")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    let lib = dir.join("lib");
    std::fs::create_dir(&lib).unwrap();
    for p in PACKAGES {
        ok(Command::new("cp")
            .arg("-r")
            .arg(Path::new(STDLIB).join(p))
            .arg(&lib));
    }
    let (profile, report) = (dir.join("p.json"), dir.join("r.json"));
    let report_ebpf = dir.join("r-ebpf.json");
    let lib = lib.to_str().unwrap().to_string();
    let workloads: [(&str, Vec<String>); 2] = [
        (
            "200k `getppid` (python)",
            argv(&[
                PYTHON,
                "-c",
                "import os\nfor _ in range(200000): os.getppid()",
            ]),
        ),
        (
            "`python3 -m compileall -q -f` (a copy of 10 stdlib packages)",
            argv(&[PYTHON, "-m", "compileall", "-q", "-f", &lib]),
        ),
    ];
    let c = confine.to_str().unwrap();
    let (p, r) = (profile.to_str().unwrap(), report.to_str().unwrap());
    let re = report_ebpf.to_str().unwrap();
    let runners: [(&str, Vec<String>); 6] = [
        ("bare", vec![]),
        (
            "`confine record -q -o p.json --report r.json --`",
            argv(&[c, "record", "-q", "-o", p, "--report", r, "--"]),
        ),
        (
            "`confine run -q --security-opt seccomp=unconfined --`",
            argv(&[c, "run", "-q", "--security-opt", "seccomp=unconfined", "--"]),
        ),
        (
            "`strace -f -c -o /dev/null`",
            argv(&["strace", "-f", "-c", "-o", "/dev/null"]),
        ),
        (
            "`unshare -m --propagation private perf trace -s -o /dev/null --`",
            argv(&[
                "unshare",
                "-m",
                "--propagation",
                "private",
                "perf",
                "trace",
                "-s",
                "-o",
                "/dev/null",
                "--",
            ]),
        ),
        (
            "`confine record --mode ebpf -q -o p.json --report r.json --`",
            argv(&[
                c, "record", "--mode", "ebpf", "-q", "-o", p, "--report", re, "--",
            ]),
        ),
    ];
    // per workload: each runner's timing, and the last recording's report
    let mut results: Vec<(Vec<Timing>, serde_json::Value)> = Vec::new();
    for (_, cmd) in &workloads {
        let mut times = Vec::new();
        for (i, (_, wrap)) in runners.iter().enumerate() {
            let full: Vec<String> = wrap.iter().chain(cmd).cloned().collect();
            // confine's own rows must work; a tracer that cannot run on this host is reported
            let t = if i < 3 || i == 5 {
                Ok(median_ms(n, || ok(&mut command(&full))))
            } else {
                probe(&full).map(|()| median_ms(n, || ok(&mut command(&full))))
            };
            times.push(t);
        }
        let text = std::fs::read_to_string(&report).expect("the recording's report");
        results.push((times, serde_json::from_str(&text).unwrap()));
    }
    drop(tmp);
    println!("| workload | runner | median s | added to bare | added ÷ strace's added |");
    println!("|---|---|---|---|---|");
    for ((name, _), (times, _)) in workloads.iter().zip(&results) {
        let bare = *times[0].as_ref().unwrap();
        let strace = times[3].as_ref().ok().map(|s| s - bare);
        for ((label, _), t) in runners.iter().zip(times) {
            match t {
                Ok(t) if *label == "bare" => {
                    println!("| {name} | {label} | {:.3} | – | – |", t / 1000.0)
                }
                Ok(t) => {
                    let ratio =
                        strace.map_or("–".to_string(), |s| format!("{:.2}×", (t - bare) / s));
                    println!(
                        "| {name} | {label} | {:.3} | {:+.3} s | {ratio} |",
                        t / 1000.0,
                        (t - bare) / 1000.0
                    );
                }
                Err(why) => println!("| {name} | {label} | unavailable: {why} | – | – |"),
            }
        }
    }
    println!();
    for ((name, _), (times, rep)) in workloads.iter().zip(&results) {
        // the recording alone: confine record's time less confine run's (the same start-up)
        let (rec, run) = (times[1].as_ref().unwrap(), times[2].as_ref().unwrap());
        let alone = match &times[3] {
            Ok(s) => format!(
                "{:.2}× strace's added",
                (rec - run) / (s - times[0].as_ref().unwrap())
            ),
            Err(_) => "strace unavailable".to_string(),
        };
        println!(
            "{name}: the recording alone (record − run) {:+.3} s, {alone}",
            (rec - run) / 1000.0
        );
        let ebpf = times[5].as_ref().unwrap();
        let alone = match &times[3] {
            Ok(s) => format!(
                "{:.3}× strace's added",
                (ebpf - run) / (s - times[0].as_ref().unwrap())
            ),
            Err(_) => "strace unavailable".to_string(),
        };
        println!(
            "{name}: the eBPF recording alone (record --mode ebpf − run) {:+.3} s, {alone}",
            (ebpf - run) / 1000.0
        );
        let peak = rep["recorder_peak_kib"].as_u64().unwrap_or(0);
        println!(
            "{name}: recorder peak RSS {peak} KiB ({:.1} MiB; goal ≤ 20 MiB), SYNC_WAKE_UP {}, {} events",
            peak as f64 / 1024.0,
            if rep["sync_wake_up"].as_bool() == Some(true) {
                "on"
            } else {
                "off"
            },
            rep["events"]
        );
    }
    println!(
        "goals: confine record's added time ≤ 0.3× strace's, --mode ebpf's ≤ 0.05×; N = {n} runs, median, on {} CPUs",
        std::thread::available_parallelism().map_or(0, |c| c.get())
    );
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// The command `argv`, its stdin /dev/null.
fn command(argv: &[String]) -> Command {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]).stdin(Stdio::null());
    c
}

/// Run `argv` once; on failure, the last line it wrote to stderr (or its status).
fn probe(argv: &[String]) -> Result<(), String> {
    let out = command(argv)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().rev().find(|l| !l.trim().is_empty());
    Err(last.map_or(format!("{}", out.status), |l| l.trim().replace('|', "\\|")))
}
