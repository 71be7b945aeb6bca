//! `cargo run --release -p confine-bench --bin run_overhead`: what `confine run` adds to a
//! command's start, against bare execution, bubblewrap given the same compiled filter
//! (`bwrap --seccomp`), and `docker run` of the same static binary (Debian's docker.io, a
//! private dockerd started here). Median wall time of many runs; prints a Markdown table.
//! Extra `LABEL=PATH` arguments add rows for other builds of confine (e.g. the static-pie one).
#![forbid(unsafe_code)]

use confine_bench::{median_ms, ok};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let confine = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/confine");
    assert!(
        confine.exists(),
        "build confine first: cargo build --release"
    );
    // A private, unpredictably named directory (mode 0700), removed on drop.
    let tmp = tempfile::Builder::new()
        .prefix("confine-run-bench")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    let bpf = dir.join("filter.bpf");
    ok(Command::new(&confine)
        .args(["seccomp", "compile", "-o"])
        .arg(&bpf));
    let busybox = "/usr/bin/busybox"; // a static binary that every runner can start
    let n = 200;
    let bare = median_ms(n, || ok(Command::new(busybox).arg("true")));
    let ours = median_ms(n, || {
        ok(Command::new(&confine).args(["run", "--", busybox, "true"]))
    });
    // the cost of each isolation step: options that leave one out at a time
    let steps: Vec<(&str, f64)> = [
        (
            "no /proc and /sys masks (`systempaths=unconfined`)",
            &["--security-opt", "systempaths=unconfined"][..],
        ),
        (
            "no pid namespace, no Landlock (`--unsafe-share-processes`)",
            &["--unsafe-share-processes"],
        ),
        (
            "neither: no namespace at all",
            &[
                "--unsafe-share-processes",
                "--security-opt",
                "systempaths=unconfined",
            ],
        ),
    ]
    .into_iter()
    .map(|(label, opts)| {
        let t = median_ms(n, || {
            ok(Command::new(&confine)
                .arg("run")
                .args(opts)
                .args(["--", busybox, "true"]))
        });
        (label, t)
    })
    .collect();
    // without root: a user namespace (the same pid and mount namespaces), measured against
    // setpriv starting the command bare as the same user
    let as_nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let unprivileged = Path::new("/usr/bin/setpriv").exists().then(|| {
        let base = median_ms(n, || {
            ok(Command::new("setpriv")
                .args(as_nobody)
                .args([busybox, "true"]))
        });
        let t = median_ms(n, || {
            ok(Command::new("setpriv")
                .args(as_nobody)
                .arg(&confine)
                .args(["run", "--", busybox, "true"]))
        });
        (base, t)
    });
    // Further builds of confine to compare, given as LABEL=PATH arguments (for example the
    // static-pie build the README recommends).
    let others: Vec<(String, f64)> = std::env::args()
        .skip(1)
        .map(|a| {
            let (label, path) = a.split_once('=').expect("arguments are LABEL=PATH");
            let t = median_ms(n, || {
                ok(Command::new(path).args(["run", "--", busybox, "true"]))
            });
            (label.to_string(), t)
        })
        .collect();
    let bwrap = Path::new("/usr/bin/bwrap").exists().then(|| {
        median_ms(n, || {
            ok(Command::new("bwrap")
                .args([
                    "--ro-bind",
                    "/",
                    "/",
                    "--dev",
                    "/dev",
                    "--proc",
                    "/proc",
                    "--seccomp",
                    "0",
                    busybox,
                    "true",
                ])
                .stdin(std::fs::File::open(&bpf).unwrap()))
        })
    });
    let docker = docker_ms(&dir, 20);
    drop(tmp);
    println!("| runner | median ms | added to bare | ratio to bare |");
    println!("|---|---|---|---|");
    println!("| bare `busybox true` | {bare:.2} | – | 1.0× |");
    println!(
        "| `confine run -- busybox true`, default build | {ours:.2} | +{:.2} ms | {:.1}× |",
        ours - bare,
        ours / bare
    );
    for (label, t) in &steps {
        println!(
            "| `confine run`, {label} | {t:.2} | +{:.2} ms | {:.1}× |",
            t - bare,
            t / bare
        );
    }
    if let Some((base, t)) = unprivileged {
        println!(
            "| `confine run` as uid 65534 (user namespace), against `setpriv … busybox true` at {base:.2} ms | {t:.2} | +{:.2} ms | {:.1}× |",
            t - base,
            t / base
        );
    }
    for (label, t) in &others {
        println!(
            "| `confine run -- busybox true`, {label} | {t:.2} | +{:.2} ms | {:.1}× |",
            t - bare,
            t / bare
        );
    }
    if let Some(b) = bwrap {
        println!(
            "| `bwrap --seccomp` (same filter) | {b:.2} | +{:.2} ms | {:.1}× |",
            b - bare,
            b / bare
        );
    }
    if let Some(d) = docker {
        println!(
            "| `docker run` (busybox image, Docker 20.10) | {d:.1} | +{:.1} ms | {:.0}× |",
            d - bare,
            d / bare
        );
    }
}

/// Start a private dockerd, import a busybox image, time `docker run --rm`.
fn docker_ms(dir: &Path, n: usize) -> Option<f64> {
    if !Path::new("/usr/sbin/dockerd").exists() {
        return None;
    }
    let sock = format!("unix://{}/d.sock", dir.display());
    let mut daemon = Command::new("dockerd")
        .arg("--host")
        .arg(&sock)
        .arg("--data-root")
        .arg(dir.join("root"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("d.pid"))
        .args([
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let docker = |args: &[&str]| {
        Command::new("docker")
            .env("DOCKER_HOST", &sock)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !docker(&["version"]).is_ok_and(|s| s.success()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("bin")).ok()?;
    std::fs::copy("/usr/bin/busybox", root.join("bin/busybox")).ok()?;
    let tar = dir.join("rootfs.tar");
    Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .ok()?;
    docker(&["import", tar.to_str()?, "confine-bench:1"]).ok()?;
    let ms = median_ms(n, || {
        let s = docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "confine-bench:1",
            "/bin/busybox",
            "true",
        ])
        .unwrap();
        assert!(s.success());
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    Some(ms)
}
