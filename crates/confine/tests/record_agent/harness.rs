//! The agent tests' harness: a private runc state with busybox bundles, and a running agent.
// (each test binary that includes it uses a part)
#![allow(dead_code)]

use serde_json::{json, Value};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const CONFINE: &str = env!("CARGO_BIN_EXE_confine");

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A private runc state directory; every container left in it is deleted at the end.
pub struct Runc {
    pub tmp: tempfile::TempDir,
}

impl Runc {
    pub fn new() -> Runc {
        Runc {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn state(&self) -> PathBuf {
        self.path().join("state")
    }

    /// A bundle NAME whose rootfs is the static busybox, running `args` with `seccomp`.
    pub fn bundle(&self, name: &str, args: &[&str], seccomp: &Value) -> PathBuf {
        self.bundle_as(name, args, seccomp, true)
    }

    /// As [`Runc::bundle`]; `nnp` false: as `docker run` starts it, no_new_privs off and
    /// Docker's 14 default capabilities, so runc installs the
    /// filter before it changes ids and capabilities (more of its calls under the filter).
    pub fn bundle_as(&self, name: &str, args: &[&str], seccomp: &Value, nnp: bool) -> PathBuf {
        let b = self.path().join(name);
        let bin = b.join("rootfs/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
        for applet in ["sh", "echo", "uname", "mkdir", "sleep", "cat", "true"] {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
        let o = Command::new("runc")
            .arg("spec")
            .current_dir(&b)
            .output()
            .unwrap();
        assert!(o.status.success(), "runc spec: {}", text(&o.stderr));
        let mut c: Value =
            serde_json::from_slice(&std::fs::read(b.join("config.json")).unwrap()).unwrap();
        c["process"]["terminal"] = json!(false);
        c["process"]["args"] = json!(args);
        c["root"]["readonly"] = json!(false);
        c["linux"]["seccomp"] = seccomp.clone();
        if !nnp {
            c["process"]["noNewPrivileges"] = json!(false);
            let caps: Vec<String> = confine_abi::CapSet::docker_default()
                .iter()
                .map(|c| c.name())
                .collect();
            for set in ["bounding", "effective", "permitted"] {
                c["process"]["capabilities"][set] = json!(caps);
            }
            c["process"]["capabilities"]
                .as_object_mut()
                .unwrap()
                .remove("ambient");
            c["process"]["capabilities"]
                .as_object_mut()
                .unwrap()
                .remove("inheritable");
        }
        std::fs::write(b.join("config.json"), c.to_string()).unwrap();
        b
    }

    pub fn run_cmd(&self, bundle: &Path, id: &str) -> Command {
        let mut c = Command::new("timeout");
        c.args(["-s", "KILL", "60", "runc", "--root"])
            .arg(self.state())
            .args(["run", "--bundle"])
            .arg(bundle)
            .arg(id)
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, bundle: &Path, id: &str) -> Output {
        self.run_cmd(bundle, id).output().unwrap()
    }
}

impl Drop for Runc {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(self.state()) {
            for e in entries.flatten() {
                let _ = Command::new("runc")
                    .arg("--root")
                    .arg(self.state())
                    .args(["delete", "-f"])
                    .arg(e.file_name())
                    .output();
            }
        }
    }
}

/// A running agent.
pub struct Agent {
    pub child: Child,
    pub socket: PathBuf,
    pub out: PathBuf,
    pub log: PathBuf,
}

impl Agent {
    pub fn start(dir: &Path) -> Agent {
        Agent::start_with(dir, &[], &[])
    }

    /// An agent with `record`'s `extra` options, run through `wrapper` (a command line that
    /// ends in running its arguments, as `prlimit … --`), when not empty.
    pub fn start_with(dir: &Path, wrapper: &[&str], extra: &[&str]) -> Agent {
        let socket = dir.join("agent.sock");
        let out = dir.join("profiles");
        std::fs::create_dir_all(&out).unwrap();
        let log = dir.join("agent.log");
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(CONFINE);
                c
            }
            None => Command::new(CONFINE),
        };
        let child = cmd
            .args(["record", "--json"])
            .args(extra)
            .arg("--agent")
            .arg(&socket)
            .arg("-o")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let start = Instant::now();
        // (the log says so once it listens; a probe connection would be one more refused)
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("agent listening on")
        {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the agent did not listen: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent {
            child,
            socket,
            out,
            log,
        }
    }

    /// The profile to start containers with.
    pub fn profile(&self) -> Value {
        let o = Command::new(CONFINE)
            .args(["record", "-q", "--agent-profile", "--agent"])
            .arg(&self.socket)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// The JSON report of each container recorded so far.
    pub fn reports(&self) -> Vec<Value> {
        self.log()
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Wait until `n` containers are reported.
    pub fn wait_for(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let r = self.reports();
            if r.len() >= n {
                return r;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{} of {n} containers reported:\n{}",
                r.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then its exit status and log.
    pub fn stop(mut self) -> (i32, String) {
        let o = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .output()
            .unwrap();
        assert!(o.status.success());
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the agent did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(!self.socket.exists(), "the socket was left behind");
        (status.code().unwrap_or(-1), self.log())
    }

    pub fn recorded(&self, name: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.out.join(format!("{name}.json"))).unwrap())
            .unwrap()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn names(p: &Value, action: &str) -> Vec<String> {
    p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == action)
        .flat_map(|r| r["names"].as_array().unwrap().iter())
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

pub fn without(p: &Value, name: &str) -> Value {
    let mut p = p.clone();
    for r in p["syscalls"].as_array_mut().unwrap() {
        if let Some(n) = r["names"].as_array_mut() {
            n.retain(|v| v != name);
        }
    }
    p
}

pub fn send_with_fd(sock: &UnixStream, data: &[u8], f: std::fs::File) {
    use std::os::fd::{AsFd, AsRawFd};
    let n = confine_kernel::unix::send_with_fds(sock.as_fd(), data, &[f.as_raw_fd()]).unwrap();
    assert_eq!(n, data.len());
}

/// The container command most tests record: output, a call of its own (uname), a file
/// made (mkdir).
pub const WORK: [&str; 3] = [
    "/bin/sh",
    "-c",
    "echo hello; uname -s; mkdir /made && echo made",
];
