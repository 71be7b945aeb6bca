//! Fault injection for `confine run` (issue 20): every step of the confinement
//! (`confine_kernel::spawn::Stage::ALL`, so that a new step cannot be missed) made to fail in
//! turn with an errno from its system call, then confine killed with SIGKILL while each step is
//! under way. Either way the command never runs and nothing of the run is left: no process,
//! no mount, no file in confine's TMPDIR or XDG_RUNTIME_DIR, no Landlock record (a memfd) in
//! any process's descriptors.
//!
//! The hooks exist only in a build with the `fault-injection` feature, which this test makes
//! once in its own target directory (`<target>/fault-injection`). Real-kernel test: as root.
//! Each step is tried in every isolation mode in which it runs (`MODES`); the steps no mode
//! reaches on this machine are listed, with the reason, in `not_run_here`, and the test
//! asserts that the modes and that list together cover every step.

use confine_kernel::spawn::Stage;
use std::collections::BTreeSet;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[path = "support/featured.rs"]
mod featured;
use featured::{featured_confine, is_root};

/// AppArmor is on in this kernel.
fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|v| v.trim() == "Y")
}

/// The steps `confine run` cannot take on this machine, and why. Asserted to be exactly
/// what the modes leave out.
fn not_run_here() -> Vec<(Stage, &'static str)> {
    let mut v = vec![(
        Stage::Cgroup,
        "taken only by `confine record` with eBPF (joining the recording's cgroup), never by `confine run`",
    )];
    if !apparmor_enabled() {
        v.push((
            Stage::AppArmor,
            "AppArmor is not enabled in this kernel, so no exec transition is written",
        ));
    }
    v
}

/// An isolation mode of `confine run` as root, and the steps it takes.
struct Mode {
    name: &'static str,
    args: &'static [&'static str],
    /// Steps this mode does not take.
    skips: &'static [Stage],
    /// With a file-and-network policy (`POLICY`): a Landlock ruleset with a path rule, and
    /// its record (a sealed memfd confine holds) for as long as the command runs.
    policy: bool,
}

/// A policy that allows every file (so that the marker could be made) and still makes a
/// ruleset, hence a record.
const POLICY: &str = "filesystem:\n  readWritePaths: [/**]\n";

const MODES: [Mode; 4] = [
    Mode {
        // docker run's default: new pid and mount namespaces under confine's init, a Landlock
        // domain; seccomp goes in before the capabilities are dropped
        name: "pid namespace",
        args: &["--workdir", "/"],
        // the command's parent is the namespace's init, whose death ends the namespace: no
        // parent-death signal of its own; no_new_privs not asked for
        skips: &[Stage::ParentDeath, Stage::NoNewPrivs],
        policy: false,
    },
    Mode {
        // a mount namespace under confine's init, the pid namespace shared
        name: "shared processes",
        args: &[
            "--unsafe-share-processes",
            "--security-opt",
            "no-new-privileges",
            "--workdir",
            "/",
        ],
        skips: &[Stage::Landlock],
        policy: false,
    },
    Mode {
        // no namespace: confine starts the command itself
        name: "no namespace",
        args: &[
            "--unsafe-share-processes",
            "--security-opt",
            "systempaths=unconfined",
            "--security-opt",
            "no-new-privileges",
            "--workdir",
            "/",
        ],
        skips: &[Stage::Landlock, Stage::Namespace],
        policy: false,
    },
    Mode {
        // the default with a policy: its Landlock ruleset, and a record of it
        name: "pid namespace, policy",
        args: &["--workdir", "/"],
        skips: &[Stage::ParentDeath, Stage::NoNewPrivs],
        policy: true,
    },
];

impl Mode {
    fn takes(&self, s: Stage) -> bool {
        !self.skips.contains(&s) && !not_run_here().iter().any(|(n, _)| *n == s)
    }
}

/// The errno each step's system call is made to return: one it can return.
fn errno_of(s: Stage) -> i32 {
    match s {
        Stage::Clone => libc::EAGAIN,
        Stage::Namespace => libc::EPERM,
        Stage::Session => libc::EPERM,
        Stage::Descriptors => libc::EINVAL,
        // EPERM and ENOSYS mean "no keyrings here" and are not errors
        Stage::Keyring => libc::EDQUOT,
        Stage::AppArmor => libc::EACCES,
        Stage::NoNewPrivs => libc::EINVAL,
        Stage::Landlock => libc::EPERM,
        Stage::Seccomp => libc::EINVAL,
        Stage::Bounding => libc::EPERM,
        Stage::Ambient => libc::EINVAL,
        Stage::Ids => libc::EPERM,
        Stage::Caps => libc::EPERM,
        Stage::ParentDeath => libc::EINVAL,
        Stage::Workdir => libc::ENOTDIR,
        Stage::Cgroup => libc::EBUSY,
        // ENOENT and EACCES go on along the search path
        Stage::Exec => libc::ENOEXEC,
    }
}

#[test]
fn every_step_is_covered_or_listed_as_not_run_here() {
    let covered: BTreeSet<u8> = Stage::ALL
        .into_iter()
        .filter(|s| MODES.iter().any(|m| m.takes(*s)))
        .map(|s| s as u8)
        .collect();
    let listed: BTreeSet<u8> = not_run_here().iter().map(|(s, _)| *s as u8).collect();
    assert!(covered.is_disjoint(&listed));
    let all: BTreeSet<u8> = Stage::ALL.iter().map(|s| *s as u8).collect();
    assert_eq!(&covered | &listed, all);
    // exactly these, on a machine without AppArmor (as this one)
    let mut expected = vec![Stage::Cgroup as u8];
    if !apparmor_enabled() {
        expected.push(Stage::AppArmor as u8);
    }
    assert_eq!(listed, expected.into_iter().collect());
}

/// One run's directory: the marker the command would create, the pause file, and the
/// directories confine gets as TMPDIR and XDG_RUNTIME_DIR. Its path, unique, is in the
/// command line of every process of the run (as the marker's path), so that a survivor is
/// found in /proc.
struct Case {
    dir: tempfile::TempDir,
    label: String,
    mounts: BTreeSet<String>,
}

fn mountinfo() -> BTreeSet<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Processes whose command line contains `token`.
fn processes_with(token: &str) -> Vec<(u32, String)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let c = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let c = String::from_utf8_lossy(&c).replace('\0', " ");
            c.contains(token).then_some((pid, c))
        })
        .collect()
}

impl Case {
    fn new(mode: &Mode, stage: Stage, what: &str) -> Case {
        let dir = tempfile::Builder::new()
            .prefix("confine-fault-")
            .tempdir()
            .unwrap();
        for d in ["tmp", "run"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        Case {
            dir,
            label: format!(
                "{what} at {} ({}, {})",
                stage.name(),
                stage.describe(),
                mode.name
            ),
            mounts: mountinfo(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn token(&self) -> String {
        self.dir.path().to_str().unwrap().to_string()
    }

    /// `confine run ARGS -- /bin/sh -c 'touch MARKER'` with `env`, its output in files.
    fn start(&self, mode: &Mode, env: (&str, String)) -> Child {
        let touch = format!("touch {}", self.path("marker").display());
        let mut policy = vec![];
        if mode.policy {
            std::fs::write(self.path("policy.yaml"), POLICY).unwrap();
            policy = vec![
                "--policy".to_string(),
                self.path("policy.yaml").display().to_string(),
            ];
        }
        Command::new(featured_confine())
            .arg("run")
            .args(mode.args)
            .args(policy)
            .args(["--", "/bin/sh", "-c", &touch])
            .env(env.0, env.1)
            .env("TMPDIR", self.path("tmp"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .stdin(Stdio::null())
            .stdout(File::create(self.path("stdout")).unwrap())
            .stderr(File::create(self.path("stderr")).unwrap())
            .spawn()
            .unwrap()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("stderr")).unwrap_or_default()
    }

    /// The Landlock records of the run whose confine had pid `pid`: the memfds named after it
    /// (`confine-landlock:PID-STARTTIME`) in any process's descriptor table.
    fn records_of(&self, pid: u32) -> Vec<PathBuf> {
        let name = format!("/memfd:confine-landlock:{pid}-");
        let fds = |p: PathBuf| {
            std::fs::read_dir(p.join("fd"))
                .into_iter()
                .flatten()
                .flatten()
        };
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .flat_map(|p| fds(p.path()))
            .map(|e| e.path())
            .filter(|p| std::fs::read_link(p).is_ok_and(|l| l.to_string_lossy().starts_with(&name)))
            .collect()
    }

    /// Nothing of the run is left: no process, no marker, no mount, no file.
    fn assert_nothing_left(&self) {
        let token = self.token();
        let t = Instant::now();
        let mut left = processes_with(&token);
        while !left.is_empty() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
            left = processes_with(&token);
        }
        if !left.is_empty() {
            for (pid, _) in &left {
                let _ = Command::new("kill")
                    .args(["-s", "KILL", &pid.to_string()])
                    .status();
            }
            panic!("{}: processes left running: {left:?}", self.label);
        }
        assert!(
            !self.path("marker").exists(),
            "{}: the command ran",
            self.label
        );
        for d in ["tmp", "run"] {
            let files: Vec<_> = std::fs::read_dir(self.path(d))
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect();
            assert!(files.is_empty(), "{}: files left: {files:?}", self.label);
        }
        let now = mountinfo();
        let new: Vec<_> = now.difference(&self.mounts).collect();
        assert!(new.is_empty(), "{}: mounts left: {new:?}", self.label);
    }
}

/// Wait for `child`, at most `d`.
fn wait(child: &mut Child, d: Duration, label: &str) -> ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if t.elapsed() > d {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{label}: confine did not end within {d:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn every_step_failing_stops_the_command_and_leaves_nothing() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut tried = 0;
    for mode in &MODES {
        for stage in Stage::ALL.into_iter().filter(|s| mode.takes(*s)) {
            let errno = errno_of(stage);
            let case = Case::new(mode, stage, "failing");
            let fault = format!("{}:{errno}", stage.name());
            let mut child = case.start(mode, ("CONFINE_FAULT", fault));
            let pid = child.id();
            let st = wait(&mut child, Duration::from_secs(60), &case.label);
            let err = case.stderr();
            let records = case.records_of(pid);
            assert!(
                records.is_empty(),
                "{}: records left: {records:?}",
                case.label
            );
            let os_error = format!("(os error {errno})");
            if stage == Stage::Exec {
                // as docker run: found, and not executable
                assert_eq!(st.code(), Some(126), "{}: {err}", case.label);
                assert!(
                    err.contains("/bin/sh") && err.contains(&os_error),
                    "{}: {err}",
                    case.label
                );
            } else {
                assert_eq!(st.code(), Some(125), "{}: {err}", case.label);
                assert!(
                    err.contains(&format!("{} failed", stage.describe()))
                        && err.contains(&os_error)
                        && err.contains("the command did not run"),
                    "{}: {err}",
                    case.label
                );
            }
            case.assert_nothing_left();
            tried += 1;
        }
    }
    assert!(tried >= Stage::ALL.len() - not_run_here().len());
}

#[test]
fn sigkill_at_every_step_leaves_nothing_running() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    for mode in &MODES {
        for stage in Stage::ALL.into_iter().filter(|s| mode.takes(*s)) {
            let case = Case::new(mode, stage, "SIGKILL");
            let pause = case.path("pause");
            let mut child = case.start(
                mode,
                (
                    "CONFINE_FAULT_PAUSE",
                    format!("{}:{}", stage.name(), pause.display()),
                ),
            );
            // the step is reached: `PID STEP` in the pause file
            let t = Instant::now();
            let line = loop {
                let s = std::fs::read_to_string(&pause).unwrap_or_default();
                if s.ends_with('\n') {
                    break s;
                }
                if let Some(st) = child.try_wait().unwrap() {
                    panic!(
                        "{}: confine ended ({st}) first: {}",
                        case.label,
                        case.stderr()
                    );
                }
                assert!(
                    t.elapsed() < Duration::from_secs(60),
                    "{}: never paused",
                    case.label
                );
                std::thread::sleep(Duration::from_millis(5));
            };
            let step = line.trim().split_once(' ').map(|(_, s)| s);
            assert_eq!(step, Some(stage.name()), "{}", case.label);
            // the record of a policy exists from before the first step until confine ends
            let pid = child.id();
            let records = case.records_of(pid);
            assert_eq!(
                !records.is_empty(),
                mode.policy,
                "{}: {records:?}",
                case.label
            );
            // confine, the process the user started, is killed; then the paused process (when
            // it is another one, and still alive) goes on with its step without confine
            child.kill().unwrap();
            child.wait().unwrap();
            // Confine's death has queued a SIGKILL for the init (its parent-death signal), but
            // the init dies only when next scheduled, and its death is what kills the command's
            // process in the pid namespace. Let the paused process go only once the init is
            // gone (at most the paused process left): otherwise, on a loaded machine, it could
            // run its last steps and the command, fully confined, for the moment before the
            // namespace's end kills it. A paused process that is confine's own child and has
            // its parent-death signal has a SIGKILL pending already; one without it stops at
            // the parent-death step (its parent is gone).
            let t = Instant::now();
            while processes_with(&case.token()).len() > 1 && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(10));
            }
            std::fs::remove_file(&pause).unwrap();
            case.assert_nothing_left();
            // and its record is gone with it: the kernel freed the memfd
            let records = case.records_of(pid);
            assert!(
                records.is_empty(),
                "{}: records left: {records:?}",
                case.label
            );
        }
    }
}
