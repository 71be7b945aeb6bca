//! A real AppArmor kernel for the tests: Debian's stock kernel (AppArmor built in), fetched with
//! `apt-get download` and unpacked with `dpkg-deb -x` (never installed), booted under
//! `qemu-system-x86_64` with TCG (this machine's KVM is nested PVM and cannot run stock kernels),
//! with an initramfs written here: busybox-static, Debian's apparmor_parser and its libraries,
//! /etc/apparmor.d, a static build of confine, the test's files and an init script. The guest
//! reports over the serial console in blocks:
//!
//! ```text
//! @@BEGIN name rc=N
//! …output…
//! @@END name
//! ```
//!
//! Everything lives in a private temporary directory except the kernel and the static build,
//! which are kept under cargo's test scratch directory (`CARGO_TARGET_TMPDIR`) so that a second
//! run does not download or build again.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run a program (never through a shell) and return its stdout; panic with its stderr.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn scratch() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("apparmor-vm");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The uncompressed kernel image (ELF `vmlinux`, booted through its PVH entry: faster than the
/// bzImage under TCG).
pub fn kernel() -> PathBuf {
    let dir = scratch();
    let vmlinux = dir.join("vmlinux");
    if vmlinux.is_file() {
        return vmlinux;
    }
    // the metapackage holds no kernel: take the versioned package it depends on
    let deps = String::from_utf8(run(
        Command::new("apt-cache").args(["depends", "linux-image-amd64"])
    ))
    .unwrap();
    let pkg = deps
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| {
            p.starts_with("linux-image-") && p.as_bytes().get(12).is_some_and(u8::is_ascii_digit)
        })
        .unwrap_or_else(|| {
            panic!("no versioned kernel in `apt-cache depends linux-image-amd64`:\n{deps}")
        })
        .to_string();
    let dl = tempfile::Builder::new()
        .prefix("kernel")
        .tempdir_in(&dir)
        .unwrap();
    run(Command::new("apt-get")
        .args(["download", "-qq", &pkg])
        .current_dir(dl.path()));
    let deb = std::fs::read_dir(dl.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("apt-get download left a .deb");
    let root = dl.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let boot = root.join("boot");
    let vmlinuz = std::fs::read_dir(&boot)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vmlinuz-")
        })
        .expect("the package has /boot/vmlinuz-*");
    let image = std::fs::read(&vmlinuz).unwrap();
    // the compressed payload is an XZ stream inside the bzImage: try each XZ magic until one
    // decompresses to an ELF file
    const MAGIC: &[u8] = b"\xfd7zXZ\x00";
    let elf = image
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(_, w)| *w == MAGIC)
        .find_map(|(at, _)| {
            let mut child = Command::new("xz")
                .args(["-dc", "--single-stream"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("xz (xz-utils) is needed");
            let mut stdin = child.stdin.take().unwrap();
            let tail = image[at..].to_vec();
            let feeder = std::thread::spawn(move || {
                use std::io::Write;
                let _ = stdin.write_all(&tail);
            });
            let out = child.wait_with_output().ok()?;
            let _ = feeder.join();
            out.stdout.starts_with(b"\x7fELF").then_some(out.stdout)
        })
        .expect("no XZ stream in the kernel image decompresses to an ELF vmlinux");
    let part = dir.join("vmlinux.part");
    std::fs::write(&part, elf).unwrap();
    std::fs::rename(&part, &vmlinux).unwrap();
    vmlinux
}

/// A static build of confine for the guest: the musl target when it is installed (or
/// `rustup target add` succeeds), otherwise glibc with `+crt-static`.
pub fn static_confine() -> PathBuf {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("x86_64-unknown-linux-musl"))
        .unwrap_or(false);
    let musl = installed
        || Command::new("rustup")
            .args(["target", "add", "x86_64-unknown-linux-musl"])
            .status()
            .is_ok_and(|s| s.success());
    let target = if musl {
        "x86_64-unknown-linux-musl"
    } else {
        "x86_64-unknown-linux-gnu"
    };
    let target_dir = scratch().join("build");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "build",
        "--offline",
        "-p",
        "confine",
        "--bin",
        "confine",
        "--target",
        target,
    ])
    .arg("--target-dir")
    .arg(&target_dir)
    .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
    // no debug info: a smaller initramfs
    .env("CARGO_PROFILE_DEV_DEBUG", "0");
    if !musl {
        cmd.env("RUSTFLAGS", "-C target-feature=+crt-static");
    }
    run(&mut cmd);
    let bin = target_dir.join(target).join("debug/confine");
    let ldd = Command::new("ldd").arg(&bin).output().unwrap();
    let text =
        String::from_utf8_lossy(&ldd.stdout).to_string() + &String::from_utf8_lossy(&ldd.stderr);
    assert!(
        text.contains("not a dynamic executable") || text.contains("statically linked"),
        "{} is not static: {text}",
        bin.display()
    );
    bin
}

/// An initramfs in the kernel's `newc` cpio format, uncompressed.
#[derive(Default)]
pub struct Initramfs {
    out: Vec<u8>,
    dirs: std::collections::BTreeSet<String>,
    ino: u32,
}

impl Initramfs {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.ino += 1;
        let name_z = name.len() + 1;
        let header = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name_z,
            0
        );
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        while self.out.len() % 4 != 0 {
            self.out.push(0);
        }
        self.out.extend_from_slice(data);
        while self.out.len() % 4 != 0 {
            self.out.push(0);
        }
    }

    /// A directory and its parents.
    pub fn dir(&mut self, path: &str) {
        let path = path.trim_matches('/');
        let mut cur = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !cur.is_empty() {
                cur.push('/');
            }
            cur.push_str(part);
            if self.dirs.insert(cur.clone()) {
                let c = cur.clone();
                self.entry(&c, 0o040755, &[]);
            }
        }
    }

    /// A file with its parent directories.
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) {
        let path = path.trim_start_matches('/');
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entry(path, 0o100000 | mode, data);
    }

    /// Copy a host file (following nothing: symlinks are resolved by the caller's choice of
    /// path, and only regular files are read).
    pub fn copy(&mut self, host: &Path, guest: &str) {
        let meta = std::fs::metadata(host).unwrap_or_else(|e| panic!("{}: {e}", host.display()));
        assert!(meta.is_file(), "{} is not a file", host.display());
        use std::os::unix::fs::PermissionsExt;
        let data = std::fs::read(host).unwrap();
        self.file(guest, meta.permissions().mode() & 0o7777, &data);
    }

    /// Copy a host directory tree: regular files and directories, symlinks skipped.
    pub fn copy_tree(&mut self, host: &Path, guest: &str) {
        self.dir(guest);
        for e in std::fs::read_dir(host).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            let g = format!(
                "{}/{}",
                guest.trim_end_matches('/'),
                e.file_name().to_string_lossy()
            );
            if ft.is_dir() {
                self.copy_tree(&e.path(), &g);
            } else if ft.is_file() {
                self.copy(&e.path(), &g);
            }
        }
    }

    /// A dynamically linked program with the libraries `ldd` names, at the same paths.
    pub fn copy_with_libs(&mut self, host: &Path) {
        self.copy(host, host.to_str().unwrap());
        let out = run(Command::new("ldd").arg(host));
        for line in String::from_utf8_lossy(&out).lines() {
            let lib = match line.split_once("=>") {
                Some((_, r)) => r.trim().split(' ').next().unwrap_or(""),
                None => line.trim().split(' ').next().unwrap_or(""),
            };
            if lib.starts_with('/') {
                let real = std::fs::canonicalize(lib).unwrap();
                self.copy(&real, lib);
            }
        }
    }

    /// The archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        self.out
    }
}

/// One block of guest output.
#[derive(Debug, Clone)]
pub struct Block {
    /// The command's exit status.
    pub rc: i32,
    /// Its output (stdout and stderr).
    pub out: String,
}

/// Boot `kernel` with `initramfs` and the extra command line; return the blocks by name and
/// the whole console log.
pub fn boot(kernel: &Path, initramfs: &[u8], cmdline: &str) -> (BTreeMap<String, Block>, String) {
    let tmp = tempfile::Builder::new()
        .prefix("aa-boot")
        .tempdir()
        .unwrap();
    let img = tmp.path().join("initramfs.cpio");
    std::fs::write(&img, initramfs).unwrap();
    let start = Instant::now();
    let child = Command::new("qemu-system-x86_64")
        .args(["-accel", "tcg", "-cpu", "max", "-m", "768", "-smp", "1"])
        .args(["-nographic", "-no-reboot", "-net", "none", "-kernel"])
        .arg(kernel)
        .arg("-initrd")
        .arg(&img)
        .arg("-append")
        .arg(format!("console=ttyS0 panic=-1 quiet {cmdline}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-x86_64 (Debian: qemu-system-x86) is needed");
    // a watchdog: TCG is slow, but a guest that hangs must not hang the test suite
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d2 = done.clone();
    let watchdog = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(300);
        while Instant::now() < until {
            if d2.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = watchdog.join();
    let log = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    // kept for a look after a failure
    let tag: String = cmdline
        .split_whitespace()
        .next()
        .unwrap_or("boot")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let _ = std::fs::write(scratch().join(format!("console-{tag}.log")), &log);
    eprintln!(
        "qemu ({cmdline}) ran {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(
        log.contains("@@DONE"),
        "the guest did not finish ({}):\n{log}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut blocks = BTreeMap::new();
    let mut cur: Option<(String, i32, String)> = None;
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("@@BEGIN ") {
            let (name, rc) = rest.rsplit_once(" rc=").expect("@@BEGIN name rc=N");
            cur = Some((name.to_string(), rc.trim().parse().unwrap(), String::new()));
        } else if let Some(name) = line.strip_prefix("@@END ") {
            let (n, rc, text) = cur.take().expect("@@END after @@BEGIN");
            assert_eq!(n, name.trim());
            blocks.insert(n, Block { rc, out: text });
        } else if let Some((_, _, text)) = cur.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    (blocks, log)
}
