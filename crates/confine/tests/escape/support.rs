//! What the escape tests share: the attacker program (tests/escape/attack.rs, built once per
//! test binary), confine run under a timeout, processes to attack and to look for.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const CONFINE: &str = env!("CARGO_BIN_EXE_confine");

/// The attacker, built once into a private directory others can enter (the unprivileged
/// tests run it as uid 65534).
pub fn attack() -> &'static Path {
    static BIN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &BIN.get_or_init(|| {
        confine_test_support::run::static_program(
            env!("CARGO_MANIFEST_DIR"),
            "tests/escape/attack.rs",
            "attack",
        )
    })
    .1
}

pub fn a() -> &'static str {
    attack().to_str().unwrap()
}

/// Run with a 30 s timeout (coreutils timeout kills it).
pub fn run(cmd: &mut Command) -> Output {
    let mut c = Command::new("timeout");
    c.arg("-s").arg("KILL").arg("30").arg(cmd.get_program());
    c.args(cmd.get_args());
    if let Some(d) = cmd.get_current_dir() {
        c.current_dir(d);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.stdin(Stdio::null()).output().unwrap()
}

pub fn confine(args: &[&str]) -> Output {
    run(Command::new(CONFINE).args(args))
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `confine ARGS` as uid and gid 65534, without capabilities (setpriv).
pub fn confine_as_nobody(args: &[&str]) -> Output {
    run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", CONFINE])
        .args(args))
}

/// A background process of `uid` to attack; killed on drop.
pub struct Victim(pub Child);

impl Victim {
    pub fn new(uid: u32) -> Victim {
        let c = Command::new("setpriv")
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={uid}"))
            .args(["--clear-groups", "sleep", "120"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        Victim(c)
    }
    pub fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn pids_with_arg(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|&b| b == 0).any(|w| w == marker.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

pub fn gone_within(marker: &str, d: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < d {
        if pids_with_arg(marker).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

pub fn kill(pid: u32, sig: &str) {
    assert!(Command::new("kill")
        .args(["-s", sig, &pid.to_string()])
        .status()
        .unwrap()
        .success());
}

/// The value of the `key:` line of what `o` printed (`cat /proc/self/status`); empty without one.
pub fn status_of(o: &Output, key: &str) -> String {
    confine_test_support::status::field(&out(o), key)
}

/// confine started with a new pty's slave as its standard input, output and controlling
/// terminal (`setsid -w -c`, under a 30 s timeout), the way a shell on that terminal starts
/// it; a thread collects what comes out on the master, optionally reading slowly.
pub struct OnPty {
    pub child: Child,
    pub master: std::fs::File,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl OnPty {
    pub fn start(confine_args: &[&str], stderr: Stdio, slow_reader: bool) -> OnPty {
        use std::io::Read;
        let (master, slave) = confine_kernel::terminal::open_pty().unwrap();
        let slave = std::fs::File::from(slave);
        let child = Command::new("timeout")
            .args(["-s", "KILL", "30", "setsid", "-w", "-c", CONFINE])
            .args(confine_args)
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(stderr)
            .spawn()
            .unwrap();
        drop(slave);
        let master = std::fs::File::from(master);
        let mut reader = master.try_clone().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s2 = seen.clone();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n) = reader.read(&mut b) {
                if n == 0 {
                    break;
                }
                s2.lock().unwrap().extend_from_slice(&b[..n]);
                if slow_reader {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        });
        OnPty {
            child,
            master,
            seen,
        }
    }

    /// What came out so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }
}
