//! `confine record` on a real server (issue 16): Debian's redis-server, as uid 999, recorded
//! while redis-benchmark drives it; the profile is checked, smaller than Docker's, and serves
//! the same benchmark again under `confine run` — and with its event-loop call taken out, it
//! cannot serve. Every process is bounded by a timeout and, if the test fails, killed by pid.

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

const CONFINE: &str = env!("CARGO_BIN_EXE_confine");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn load(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// A private port: bound, read, released.
fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port().to_string()
}

/// `PROG ARGS` under a timeout of `secs`, standard input closed.
fn bounded(secs: u32, prog: &str, args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["-s", "KILL", &secs.to_string(), prog])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `confine SUBCOMMAND -- redis-server …` in the background (under `timeout`, which leads a
/// process group of its own), serving on `port` from `dir` and writing nothing: no snapshot,
/// no append-only file, no Unix socket. Its output goes to DIR/NAME.out and DIR/NAME.err.
struct Server {
    child: Child,
    port: String,
    out: PathBuf,
    err: PathBuf,
    reaped: bool,
}

impl Server {
    fn start(dir: &Path, name: &str, confine: &[&str]) -> Server {
        let port = free_port();
        let (out, err) = (
            dir.join(format!("{name}.out")),
            dir.join(format!("{name}.err")),
        );
        let child = Command::new("timeout")
            .args(["-s", "KILL", "60", CONFINE])
            .args(confine)
            .args(["--", "/usr/bin/redis-server", "--port", &port])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--unixsocket", "", "--dir", dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        Server {
            child,
            port,
            out,
            err,
            reaped: false,
        }
    }

    /// `redis-cli ARGS` against the server, given `secs` (a hung server never answers).
    fn cli(&self, secs: u32, args: &[&str]) -> Output {
        let mut a = vec!["-p", &self.port];
        a.extend(args);
        bounded(secs, "redis-cli", &a)
    }

    /// Whether PING is answered within `secs` (false as soon as the server has exited).
    fn pong_within(&mut self, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline && self.child.try_wait().unwrap().is_none() {
            if text(&self.cli(2, &["ping"]).stdout).trim() == "PONG" {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The server's log (redis writes it to standard output).
    fn log(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// The short benchmark; it must succeed.
    fn bench(&self) {
        let args = ["-p", &self.port, "-q", "-n", "2000", "-t", "ping,set,get"];
        let o = bounded(30, "redis-benchmark", &args);
        let out = text(&o.stdout);
        assert!(o.status.success(), "{out}{}", text(&o.stderr));
        for t in ["PING_INLINE:", "SET:", "GET:"] {
            assert!(out.contains(t), "{t} {out}");
        }
    }

    /// SHUTDOWN NOSAVE, then confine's exit status and standard error.
    fn stop(&mut self) -> (ExitStatus, String) {
        self.cli(5, &["shutdown", "nosave"]);
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "confine outlived the server");
            std::thread::sleep(Duration::from_millis(50));
        };
        self.reaped = true;
        (status, std::fs::read_to_string(&self.err).unwrap())
    }
}

/// Every descendant of `pid`, parents first, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut all = vec![];
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten();
    for t in tasks.flatten() {
        let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        for k in kids.split_whitespace().filter_map(|k| k.parse().ok()) {
            all.push(k);
            all.extend(descendants(k));
        }
    }
    all
}

/// On any path out, the server, confine and `timeout`'s process group are killed by pid.
impl Drop for Server {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        let pid = self.child.id();
        let mut targets: Vec<String> = descendants(pid).iter().map(u32::to_string).collect();
        targets.push(format!("-{pid}"));
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg("--")
            .args(&targets)
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn redis_recorded_under_load_then_served_under_its_profile() {
    for bin in ["redis-server", "redis-cli", "redis-benchmark"] {
        let p = Path::new("/usr/bin").join(bin);
        assert!(
            p.exists(),
            "{bin} is needed (.ci/run installs redis-server and redis-tools)"
        );
    }
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // redis runs as 999: its working directory must be open to it
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (profile, report) = (d.join("redis.json"), d.join("r.json"));
    let (p, r) = (profile.to_str().unwrap(), report.to_str().unwrap());

    let mut rec = Server::start(
        d,
        "record",
        &["record", "-q", "--user", "999:999", "-o", p, "--report", r],
    );
    assert!(
        rec.pong_within(20),
        "no PONG while recording: {}",
        rec.log()
    );
    rec.bench();
    let (recorded, stderr) = rec.stop();
    assert_eq!(recorded.code(), Some(0), "{stderr}");
    assert!(stderr.contains("the command exited 0"), "{stderr}");

    let rep = load(&report);
    assert_eq!(rep["complete"], true, "{rep}");
    let allows = rep["profile_allows"].as_u64().unwrap();
    let docker = rep["docker_default_allows"].as_u64().unwrap();
    println!(
        "redis-server: the recorded profile allows {allows} syscalls; Docker's default {docker}"
    );
    assert!(allows < docker, "{rep}");
    assert!(
        stderr.contains(&format!("the profile allows {allows} syscalls")),
        "{stderr}"
    );
    let o = bounded(60, CONFINE, &["seccomp", "check", "--strict", p]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));

    // again under the profile: the same benchmark, the same end
    let opt = format!("seccomp={p}");
    let under = ["run", "-q", "--user", "999:999", "--security-opt", &opt];
    let mut again = Server::start(d, "run", &under);
    assert!(
        again.pong_within(20),
        "no PONG under the profile: {}",
        again.log()
    );
    again.bench();
    let (status, stderr) = again.stop();
    assert_eq!(status.code(), recorded.code(), "{stderr}");

    // the event loop's call taken out: redis starts listening but never answers
    let mut cut = load(&profile);
    let names = cut["syscalls"][0]["names"].as_array_mut().unwrap();
    let call = ["epoll_wait", "epoll_pwait", "epoll_pwait2"]
        .into_iter()
        .find(|c| names.iter().any(|n| n == c))
        .expect("no epoll wait call recorded");
    names.retain(|n| n != call);
    let cut_path = d.join("cut.json");
    std::fs::write(&cut_path, serde_json::to_string(&cut).unwrap()).unwrap();
    let opt = format!("seccomp={}", cut_path.display());
    let under = ["run", "-q", "--user", "999:999", "--security-opt", &opt];
    let mut cut_srv = Server::start(d, "cut", &under);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cut_srv.log().contains("Ready to accept connections") {
        assert!(
            Instant::now() < deadline,
            "never listened: {}",
            cut_srv.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!cut_srv.pong_within(3), "PONG without {call}");
    assert!(cut_srv.log().contains(call), "{}", cut_srv.log());
    // redis panics on the refused call; its crash report then hangs or ends in SIGSEGV (139)
    let end = cut_srv.child.try_wait().unwrap();
    cut_srv.reaped = end.is_some();
    assert!(end.is_none_or(|s| !s.success()), "{end:?}");
    let end = end.map_or("killed".into(), |s| format!("exited {s}"));
    println!("redis-server without {call}: no PONG; confine run {end}");
    drop(cut_srv);
    println!(
        "redis-server: recorded, re-run and refused in {:?}",
        began.elapsed()
    );
}
