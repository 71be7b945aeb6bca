//! A private Docker for the comparison tests: Debian's dockerd 20.10 on a socket, data root and
//! exec root under a test's temporary directory (no iptables, no bridge, vfs storage), driven
//! by Debian's own client (/usr/bin/docker: the `docker` first on PATH may be a newer client),
//! stopped by pid; and the static helpers the tests put into images.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const DOCKERD: &str = "/usr/sbin/dockerd";
pub const DOCKER: &str = "/usr/bin/docker";

pub struct Daemon {
    child: Child,
    sock: String,
    root: PathBuf,
}

fn mount_points() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .collect()
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM first: dockerd then unmounts the bind mount it made of its data root in the
        // host's mount namespace (SIGKILL would leave it behind), and stops its containerd.
        let pid = self.child.id() as u64;
        // SAFETY: kill(2) takes integers only and signals the daemon, another process; nothing
        // of this process's memory or state changes.
        unsafe {
            confine_kernel::raw::syscall6(
                libc::SYS_kill as u64,
                [pid, libc::SIGTERM as u64, 0, 0, 0, 0],
            )
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let root = self.root.to_string_lossy().into_owned();
        if mount_points().contains(&root) {
            if let Ok(c) = std::ffi::CString::new(root) {
                // SAFETY: umount2(2) reads the NUL-terminated path from `c`, alive for the
                // call; detaching the daemon's leftover mount changes no memory of ours.
                unsafe {
                    confine_kernel::raw::syscall6(
                        libc::SYS_umount2 as u64,
                        [c.as_ptr() as u64, libc::MNT_DETACH as u64, 0, 0, 0, 0],
                    )
                };
            }
        }
    }
}

/// The client against `d`.
pub fn docker(d: &Daemon, args: &[&str]) -> Output {
    Command::new(DOCKER)
        .env("DOCKER_HOST", &d.sock)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("/usr/bin/docker (Debian's docker.io)")
}

/// Start dockerd under `dir` and wait until it answers.
pub fn start_dockerd(dir: &Path) -> Daemon {
    let sock = format!("unix://{}/docker.sock", dir.display());
    let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
    let child = Command::new(DOCKERD)
        .arg("--host")
        .arg(&sock)
        .arg("--data-root")
        .arg(dir.join("root"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("docker.pid"))
        .args([
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("/usr/sbin/dockerd (Debian's docker.io; .ci/run installs it)");
    let d = Daemon {
        child,
        sock,
        root: dir.join("root"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if docker(&d, &["version"]).status.success() {
            return d;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "dockerd did not come up: {}",
        std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default()
    );
}

/// Build `tests/<src>` with rustc into a static binary at `out` (std only).
pub fn build_static(src: &str, out: &Path) {
    let built = Command::new("rustc")
        .args([
            "--edition",
            "2021",
            "-O",
            "-C",
            "target-feature=+crt-static",
            "-o",
        ])
        .arg(out)
        .arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests")
                .join(src),
        )
        .output()
        .expect("rustc");
    assert!(
        built.status.success(),
        "building {src}: {}",
        String::from_utf8_lossy(&built.stderr)
    );
}

/// Import an image `tag` made of busybox-static (with `applets` linked to it) and `extra` files
/// (source path, path in the image), through a tar under `dir` (no pull).
pub fn import_busybox(
    d: &Daemon,
    dir: &Path,
    applets: &[&str],
    extra: &[(&Path, &str)],
    tag: &str,
) {
    let root = dir.join("rootfs");
    for sub in ["bin", "proc", "sys", "dev", "etc", "tmp"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::copy("/usr/bin/busybox", root.join("bin/busybox")).expect("Debian's busybox-static");
    for applet in applets {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    for (src, dest) in extra {
        std::fs::copy(src, root.join(dest)).unwrap();
    }
    let tar = dir.join("rootfs.tar");
    assert!(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap()
        .success());
    let o = docker(d, &["import", tar.to_str().unwrap(), tag]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
