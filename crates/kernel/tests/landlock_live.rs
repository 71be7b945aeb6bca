//! Full Landlock rulesets enforced for real: each case runs in a child (this binary
//! re-executed with `CONFINE_LL_CASE`), which first does the action unconfined (so a later
//! denial is Landlock's), then builds a ruleset with `landlock::build`, enters it, and checks
//! the real errno of the denied action and that the allowed counterpart still works. A custom
//! harness; the parent makes a private temporary directory per case and removes it.

use confine_kernel::landlock::{access::*, build, LandlockError, RulesetSpec};
use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A case: it runs in the child, given its private directory.
type Case = fn(&Path);

const CASES: &[(&str, Case)] = &[
    ("read outside the allowed paths: EACCES", read),
    ("write to a read-only path: EACCES", write),
    ("execute outside an execute-allowed path: EACCES", execute),
    ("truncate without TRUNCATE: EACCES", truncate),
    (
        "link and rename across directories without REFER: EXDEV",
        refer,
    ),
    ("TCP connect and bind of ports not allowed: EACCES", tcp),
    (
        "abstract Unix socket bound outside, with the scope: EPERM",
        abstract_unix,
    ),
    ("signal to a process outside, with the scope: EPERM", signal),
    ("device ioctl with IOCTL_DEV handled: EACCES", ioctl_dev),
    ("directory rights on a file are masked, not refused", masked),
    ("a rule on a symlink is a rule on its target", symlink),
    (
        "300 path rules: every descriptor closed, the last rule in force",
        many,
    ),
    (
        "restrict_self without no_new_privs or CAP_SYS_ADMIN: EPERM",
        needs_privilege,
    ),
];

fn main() {
    if let Ok(name) = std::env::var("CONFINE_LL_CASE") {
        let dir = PathBuf::from(std::env::var("CONFINE_LL_DIR").unwrap());
        let (_, case) = CASES.iter().find(|(n, _)| *n == name).unwrap();
        case(&dir);
        std::process::exit(0);
    }
    let mut failed = 0;
    errors();
    println!("located errors ... ok");
    let me = std::env::current_exe().unwrap();
    for (name, _) in CASES {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(&me)
            .env("CONFINE_LL_CASE", name)
            .env("CONFINE_LL_DIR", dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            println!("{name} ... ok");
        } else {
            failed += 1;
            println!(
                "{name} ... FAILED ({})\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    println!("{} passed, {failed} failed", CASES.len() + 1 - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}

/// Build `spec` and enter it (no_new_privs first, so this runs unprivileged too).
fn enter(spec: RulesetSpec) {
    let ruleset = build(&spec).unwrap_or_else(|e| panic!("{e}"));
    confine_kernel::set_no_new_privs().unwrap();
    ruleset.restrict_self().unwrap();
}

#[track_caller]
fn assert_errno<T: std::fmt::Debug>(r: io::Result<T>, errno: i32) {
    match r {
        Err(e) => assert_eq!(e.raw_os_error(), Some(errno), "{e}"),
        Ok(v) => panic!("succeeded ({v:?}); expected errno {errno}"),
    }
}

/// Two sibling directories `a` and `b` with a file `f` each.
fn two_dirs(dir: &Path) -> (PathBuf, PathBuf) {
    let (a, b) = (dir.join("a"), dir.join("b"));
    for d in [&a, &b] {
        fs::create_dir(d).unwrap();
        fs::write(d.join("f"), "data").unwrap();
    }
    (a, b)
}

fn read(dir: &Path) {
    let (a, b) = two_dirs(dir);
    fs::read(b.join("f")).unwrap();
    fs::read_dir(&b).unwrap();
    enter(RulesetSpec {
        handled_fs: FS_READ_FILE | FS_READ_DIR,
        paths: vec![(a.clone(), FS_READ_FILE | FS_READ_DIR)],
        ..RulesetSpec::default()
    });
    assert_eq!(fs::read(a.join("f")).unwrap(), b"data");
    fs::read_dir(&a).unwrap();
    assert_errno(fs::read(b.join("f")), libc::EACCES);
    assert_errno(fs::read_dir(&b).map(|_| ()), libc::EACCES);
}

fn write(dir: &Path) {
    let (a, b) = two_dirs(dir);
    fs::OpenOptions::new()
        .append(true)
        .open(b.join("f"))
        .unwrap();
    enter(RulesetSpec {
        handled_fs: FS_READ_FILE | FS_WRITE_FILE,
        paths: vec![
            (a.clone(), FS_READ_FILE | FS_WRITE_FILE),
            (b.clone(), FS_READ_FILE),
        ],
        ..RulesetSpec::default()
    });
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(a.join("f"))
        .unwrap();
    f.write_all(b"more").unwrap();
    fs::read(b.join("f")).unwrap();
    assert_errno(
        fs::OpenOptions::new().append(true).open(b.join("f")),
        libc::EACCES,
    );
}

fn execute(dir: &Path) {
    let (a, b) = two_dirs(dir);
    for d in [&a, &b] {
        fs::copy("/usr/bin/true", d.join("true")).unwrap();
    }
    assert!(Command::new(b.join("true")).status().unwrap().success());
    // the dynamic loader and libraries are opened for execution too
    let mut paths = vec![(a.clone(), FS_EXECUTE)];
    for lib in ["/usr/lib", "/usr/lib64", "/lib", "/lib64"] {
        if Path::new(lib).exists() {
            paths.push((PathBuf::from(lib), FS_EXECUTE));
        }
    }
    enter(RulesetSpec {
        handled_fs: FS_EXECUTE,
        paths,
        ..RulesetSpec::default()
    });
    assert!(Command::new(a.join("true")).status().unwrap().success());
    assert_errno(Command::new(b.join("true")).status(), libc::EACCES);
}

fn truncate(dir: &Path) {
    let (a, b) = two_dirs(dir);
    fs::write(b.join("g"), "data").unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(b.join("g"))
        .unwrap()
        .set_len(0)
        .unwrap();
    let rw = FS_READ_FILE | FS_WRITE_FILE;
    enter(RulesetSpec {
        handled_fs: rw | FS_TRUNCATE,
        paths: vec![(a.clone(), rw | FS_TRUNCATE), (b.clone(), rw)],
        ..RulesetSpec::default()
    });
    fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(a.join("f"))
        .unwrap();
    assert_errno(
        fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(b.join("f")),
        libc::EACCES,
    );
    // the right is checked when the file is opened: ftruncate on a writable descriptor too
    let f = fs::OpenOptions::new()
        .write(true)
        .open(b.join("f"))
        .unwrap();
    assert_errno(f.set_len(0), libc::EACCES);
}

fn refer(dir: &Path) {
    let (a, b) = two_dirs(dir);
    fs::write(a.join("x"), "x").unwrap();
    fs::rename(a.join("x"), b.join("x")).unwrap();
    let rights = FS_MAKE_REG | FS_REMOVE_FILE;
    enter(RulesetSpec {
        handled_fs: rights | FS_REFER,
        paths: vec![(a.clone(), rights), (b.clone(), rights)],
        ..RulesetSpec::default()
    });
    assert_errno(fs::rename(a.join("f"), b.join("g")), libc::EXDEV);
    assert_errno(fs::hard_link(a.join("f"), b.join("h")), libc::EXDEV);
    // within one directory no REFER is needed
    fs::rename(a.join("f"), a.join("g")).unwrap();
    fs::hard_link(a.join("g"), a.join("h")).unwrap();
}

fn tcp(_: &Path) {
    let allowed = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let free_port = free.local_addr().unwrap().port();
    drop(free);
    TcpStream::connect(other.local_addr().unwrap()).unwrap();
    enter(RulesetSpec {
        handled_net: NET_BIND_TCP | NET_CONNECT_TCP,
        tcp: vec![(allowed.local_addr().unwrap().port(), NET_CONNECT_TCP)],
        ..RulesetSpec::default()
    });
    TcpStream::connect(allowed.local_addr().unwrap()).unwrap();
    assert_errno(
        TcpStream::connect(other.local_addr().unwrap()),
        libc::EACCES,
    );
    assert_errno(TcpListener::bind(("127.0.0.1", free_port)), libc::EACCES);
}

fn abstract_unix(_: &Path) {
    let name = |tag: &str| {
        let n = format!("confine-ll-{}-{tag}", std::process::id());
        SocketAddr::from_abstract_name(n.as_bytes()).unwrap()
    };
    use std::os::linux::net::SocketAddrExt;
    let outside = UnixListener::bind_addr(&name("out")).unwrap();
    UnixStream::connect_addr(&name("out")).unwrap();
    outside.accept().unwrap();
    enter(RulesetSpec {
        scoped: SCOPE_ABSTRACT_UNIX_SOCKET,
        ..RulesetSpec::default()
    });
    assert_errno(UnixStream::connect_addr(&name("out")), libc::EPERM);
    // a socket bound inside the domain is reachable
    let _inside = UnixListener::bind_addr(&name("in")).unwrap();
    UnixStream::connect_addr(&name("in")).unwrap();
}

/// kill(2); the error is errno.
fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes only integers.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn signal(_: &Path) {
    // `cat` on a pipe: it exits when this process does and its end of the pipe closes
    let mut outside = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = outside.id() as i32;
    kill(pid, 0).unwrap();
    enter(RulesetSpec {
        scoped: SCOPE_SIGNAL,
        ..RulesetSpec::default()
    });
    assert_errno(kill(pid, 0), libc::EPERM);
    assert_errno(kill(pid, libc::SIGTERM), libc::EPERM);
    kill(std::process::id() as i32, 0).unwrap();
    drop(outside.stdin.take());
    outside.wait().unwrap();
}

/// ioctl(fd, TCGETS) on a device: a terminal request, so ENOTTY when allowed.
fn tcgets(f: &fs::File) -> io::Result<()> {
    // SAFETY: TCGETS writes one `termios` to the pointer, which points at one.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: as above; the descriptor is open for the call.
    if unsafe { libc::ioctl(f.as_raw_fd(), libc::TCGETS, &mut t) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// ioctl(fd, FIOCLEX): one of the requests Landlock always allows.
fn fioclex(f: &fs::File) -> io::Result<()> {
    // SAFETY: FIOCLEX takes no argument.
    if unsafe { libc::ioctl(f.as_raw_fd(), libc::FIOCLEX) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn ioctl_dev(_: &Path) {
    assert_errno(tcgets(&fs::File::open("/dev/null").unwrap()), libc::ENOTTY);
    enter(RulesetSpec {
        handled_fs: FS_IOCTL_DEV,
        paths: vec![(PathBuf::from("/dev/zero"), FS_IOCTL_DEV)],
        ..RulesetSpec::default()
    });
    // the right is fixed when the device is opened: open after entering the domain
    let null = fs::File::open("/dev/null").unwrap();
    assert_errno(tcgets(&null), libc::EACCES);
    fioclex(&null).unwrap();
    assert_errno(tcgets(&fs::File::open("/dev/zero").unwrap()), libc::ENOTTY);
}

fn masked(dir: &Path) {
    let (a, _) = two_dirs(dir);
    fs::write(a.join("g"), "other").unwrap();
    let all = FS_READ_FILE | FS_READ_DIR | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_REFER;
    enter(RulesetSpec {
        handled_fs: all,
        paths: vec![(a.join("f"), all)],
        ..RulesetSpec::default()
    });
    assert_eq!(fs::read(a.join("f")).unwrap(), b"data");
    assert_errno(fs::read(a.join("g")), libc::EACCES);
}

fn symlink(dir: &Path) {
    let (a, b) = two_dirs(dir);
    std::os::unix::fs::symlink(&b, a.join("link")).unwrap();
    let r = FS_READ_FILE | FS_READ_DIR;
    enter(RulesetSpec {
        handled_fs: r,
        paths: vec![(a.join("link"), r)],
        ..RulesetSpec::default()
    });
    let mut s = String::new();
    fs::File::open(b.join("f"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "data");
    fs::read(a.join("link").join("f")).unwrap();
    assert_errno(fs::read(a.join("f")), libc::EACCES);
    assert_errno(fs::read_dir(&a).map(|_| ()), libc::EACCES);
}

const CAP_SYS_ADMIN: u64 = 1 << 21;

fn needs_privilege(_: &Path) {
    use confine_kernel::process::{capget, capset};
    let ruleset = build(&RulesetSpec {
        scoped: SCOPE_SIGNAL,
        ..RulesetSpec::default()
    })
    .unwrap();
    let caps = capget().unwrap();
    capset(confine_kernel::process::CapSets {
        effective: caps.effective & !CAP_SYS_ADMIN,
        ..caps
    })
    .unwrap();
    assert_errno(ruleset.restrict_self(), libc::EPERM);
    if caps.effective & CAP_SYS_ADMIN != 0 {
        // root: CAP_SYS_ADMIN alone is enough, as in the child's steps without no_new_privs
        capset(caps).unwrap();
        ruleset.restrict_self().unwrap();
    } else {
        println!("(not CAP_SYS_ADMIN: only the refusal checked)");
    }
}

/// Build errors in the parent: they name what they concern.
fn errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let e = build(&RulesetSpec {
        handled_fs: FS_READ_FILE,
        paths: vec![(missing.clone(), FS_READ_FILE)],
        ..RulesetSpec::default()
    })
    .unwrap_err();
    assert!(matches!(&e, LandlockError::Open { path, source }
        if *path == missing && source.raw_os_error() == Some(libc::ENOENT)));
    assert!(e.to_string().contains(&*missing.to_string_lossy()), "{e}");
    let e = build(&RulesetSpec {
        handled_fs: 1 << 40,
        ..RulesetSpec::default()
    })
    .unwrap_err();
    assert!(
        matches!(e, LandlockError::UnknownBits { bits, .. } if bits == 1 << 40),
        "{e}"
    );
    // a right the ruleset does not handle, on a directory: refused, with the path
    let e = build(&RulesetSpec {
        handled_fs: FS_READ_FILE,
        paths: vec![(dir.path().to_path_buf(), FS_READ_FILE | FS_WRITE_FILE)],
        ..RulesetSpec::default()
    })
    .unwrap_err();
    assert!(
        matches!(&e, LandlockError::PathRule { path, .. } if path == dir.path()),
        "{e}"
    );
}

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").unwrap().count()
}

/// More rules than one batch of descriptors: none is left open, and each rule holds.
fn many(dir: &Path) {
    let mut paths = Vec::new();
    for i in 0..300 {
        let d = dir.join(format!("d{i}"));
        fs::create_dir(&d).unwrap();
        fs::write(d.join("f"), b"x").unwrap();
        paths.push((d, FS_READ_FILE | FS_READ_DIR));
    }
    // one file among them: its rule carries only the file rights
    fs::write(dir.join("file"), b"x").unwrap();
    paths.push((dir.join("file"), FS_READ_FILE | FS_READ_DIR));
    fs::write(dir.join("outside"), b"x").unwrap();
    let before = open_fds();
    let r = build(&RulesetSpec {
        handled_fs: FS_READ_FILE | FS_READ_DIR,
        paths,
        ..RulesetSpec::default()
    })
    .unwrap();
    // the ruleset itself is the one descriptor more
    assert_eq!(open_fds(), before + 1);
    drop(r);
    enter(RulesetSpec {
        handled_fs: FS_READ_FILE | FS_READ_DIR,
        paths: (0..300)
            .map(|i| (dir.join(format!("d{i}")), FS_READ_FILE))
            .chain([(dir.join("file"), FS_READ_FILE)])
            .collect(),
        ..RulesetSpec::default()
    });
    fs::read(dir.join("d0/f")).unwrap();
    fs::read(dir.join("d299/f")).unwrap();
    fs::read(dir.join("file")).unwrap();
    assert_errno(fs::read(dir.join("outside")), libc::EACCES);
}
