//! Landlock records on a live system: kept by this test process (its real pid and start time)
//! or by a stand-in writer (Debian's python3, making the memfd as `confine run` does), found for
//! their descendants and only for them, freed when the writer lets go or is killed, and ignored
//! when a record is unsealed, another user's, or lies.
//!
//! One test function: records live in a process's descriptor table, so two tests of this binary
//! keeping records at once would see each other's for their children.

use confine_abi::landlock as abi;
use confine_inspect::landlock::{find, write, Compat, Lookup, Record, RecordGuard};
use confine_kernel::memfd;
use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

fn record() -> Record {
    let mut r = Record::for_self("/p.yaml", Compat::BestEffort, 3).unwrap();
    r.set_handled(abi::FS_READ | abi::FS_EXECUTE, 0, 0);
    r.add_path("/usr", abi::FS_READ | abi::FS_EXECUTE);
    r.dropped
        .push("TCP bind restriction needs Landlock ABI 4 (Linux 6.7)".into());
    r
}

/// A child killed and reaped when dropped.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sleeper() -> Kid {
    Kid(Command::new("sleep").arg("30").spawn().unwrap())
}

fn lookup(pid: u32) -> Lookup {
    find(Path::new("/proc"), pid)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

fn line(out: &mut BufReader<ChildStdout>) -> String {
    let mut l = String::new();
    out.read_line(&mut l).unwrap();
    l.trim().to_string()
}

/// A stand-in for `confine run`: says its pid and start time, reads one line (the record),
/// keeps it in a memfd named as confine names it (sealed or not), then starts `sleep` and says
/// its pid. Debian's python3: its os and fcntl modules have memfd_create and the seals.
const WRITER: &str = r#"
import fcntl, os, subprocess, sys
pid = os.getpid()
start = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
print(pid, start, flush=True)
text = sys.stdin.readline()
fd = os.memfd_create("confine-landlock:%d-%d" % (pid, start), os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
os.write(fd, text.encode())
if sys.argv[1] == "seal":
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
p = subprocess.Popen(["sleep", "30"])
print(p.pid, fd, flush=True)
p.wait()
"#;

/// A stand-in writer of uid `uid` keeping `edit(its record)` (sealed when `seal`): the writer,
/// its command's pid, and the memfd's path in procfs.
fn stand_in(uid: Option<u32>, seal: bool, edit: impl FnOnce(&mut Record)) -> (Kid, u32, String) {
    let mut c = Command::new("/usr/bin/python3");
    c.args(["-c", WRITER, if seal { "seal" } else { "no" }])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .current_dir("/");
    if let Some(uid) = uid {
        c.uid(uid).gid(uid);
    }
    let mut w = Kid(c.spawn().unwrap());
    let mut out = BufReader::new(w.0.stdout.take().unwrap());
    let head = line(&mut out);
    let (pid, start) = head.split_once(' ').unwrap();
    let mut r = record();
    r.pid = pid.parse().unwrap();
    r.starttime = start.parse().unwrap();
    r.uid = uid.unwrap_or(0);
    edit(&mut r);
    let mut stdin = w.0.stdin.take().unwrap();
    writeln!(stdin, "{}", serde_json::to_string(&r).unwrap()).unwrap();
    let tail = line(&mut out);
    let (command, fd) = tail.split_once(' ').unwrap();
    let path = format!("/proc/{pid}/fd/{fd}");
    (w, command.parse().unwrap(), path)
}

#[test]
fn records_on_a_live_system() {
    a_descendant_is_in_the_domain_and_the_record_ends_with_its_guard();
    confine_s_init_is_outside_the_domain_and_its_child_inside();
    a_record_that_lies_is_ignored();
    if std::path::Path::new("/usr/bin/python3").exists() {
        a_record_of_a_killed_writer_is_gone();
        an_unsealed_memfd_is_not_a_record();
        a_look_alike_on_another_mount_is_never_opened();
        if is_root() {
            a_user_s_record_counts_for_that_user_only_and_is_owned_by_them();
        }
    } else {
        eprintln!("skipped the stand-in writer's cases: /usr/bin/python3 is missing");
    }
}

fn a_descendant_is_in_the_domain_and_the_record_ends_with_its_guard() {
    let r = record();
    let guard: RecordGuard = write(&r).unwrap();
    assert_eq!(guard.name(), r.memfd_name());
    let kid = sleeper();
    let l = lookup(kid.0.id());
    assert_eq!(l.found.len(), 1, "{l:?}");
    assert!(l.in_domain() && l.ignored.is_empty() && l.incomplete.is_none());
    assert_eq!(l.found[0].writer, std::process::id());
    assert_eq!(l.found[0].record, r);
    assert_eq!(l.found[0].path, guard.proc_path());
    // the holder runs the reader's own executable (this test binary)
    assert!(l.found[0].verified, "{l:?}");
    // the child did not get the descriptor (close-on-exec)
    let theirs = std::fs::read_dir(format!("/proc/{}/fd", kid.0.id())).unwrap();
    for e in theirs {
        let link = std::fs::read_link(e.unwrap().path()).unwrap_or_default();
        assert!(
            !link.to_string_lossy().contains("confine-landlock"),
            "{link:?}"
        );
    }
    // pid 1 and the writer itself are not descendants
    assert!(lookup(1).found.is_empty());
    assert!(lookup(std::process::id()).found.is_empty());
    // gone with the guard
    guard.remove();
    let l = lookup(kid.0.id());
    assert!(l.found.is_empty() && l.ignored.is_empty(), "{l:?}");
}

fn confine_s_init_is_outside_the_domain_and_its_child_inside() {
    let mut r = record();
    r.init_not_in_domain = true;
    let _guard = write(&r).unwrap();
    let mut init = Kid(Command::new("sh")
        .args(["-c", "sleep 30 & echo $!; wait"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap());
    let grandchild: u32 = line(&mut BufReader::new(init.0.stdout.take().unwrap()))
        .parse()
        .unwrap();
    let l = lookup(init.0.id());
    assert_eq!(l.found.len(), 1);
    assert!(!l.in_domain(), "{l:?}");
    let l = lookup(grandchild);
    assert!(l.in_domain(), "{l:?}");
    assert_eq!(l.found[0].writer, std::process::id());
    let _ = Command::new("kill").arg(grandchild.to_string()).status();
}

/// Keep `text` in a sealed memfd named as this process's record, and say why a child's lookup
/// passes it over.
fn reason(text: &[u8]) -> String {
    let name = CString::new(record().memfd_name()).unwrap();
    let _fd = memfd::sealed(&name, text).unwrap();
    let kid = sleeper();
    let l = lookup(kid.0.id());
    assert!(l.found.is_empty(), "{}", String::from_utf8_lossy(text));
    assert_eq!(l.ignored.len(), 1, "{l:?}");
    assert!(l.ignored[0]
        .path
        .starts_with(format!("/proc/{}/fd", std::process::id())));
    l.ignored[0].why.clone()
}

fn a_record_that_lies_is_ignored() {
    let r = record();
    let json = |r: &Record| serde_json::to_vec(r).unwrap();
    let mut other = r.clone();
    other.starttime += 1;
    assert!(reason(&json(&other)).contains("not the one holding it"));
    let mut other = r.clone();
    other.uid += 1;
    assert!(reason(&json(&other)).contains("claims uid"));
    let mut other = r.clone();
    other.version = 2;
    assert!(reason(&json(&other)).contains("format version 2"));
    assert!(reason(b"{").contains("not a record"));
    assert!(reason(&vec![b' '; 1 << 21]).contains("larger than 256 KiB"));
    // two records named after one process: neither is believed (one may have been planted)
    let _real = write(&r).unwrap();
    let name = CString::new(r.memfd_name()).unwrap();
    let mut weak = r.clone();
    weak.policy = "planted".into();
    let _planted = memfd::sealed(&name, &json(&weak)).unwrap();
    let kid = sleeper();
    let l = lookup(kid.0.id());
    assert!(l.found.is_empty(), "{l:?}");
    assert_eq!(l.ignored.len(), 2, "{l:?}");
    assert!(l.ignored[0]
        .why
        .contains("holds 2 records named after it: none believed"));
    drop((kid, _real, _planted));
    // another name (another writer's pid) in this table is not this process's record
    let name = CString::new(format!("confine-landlock:1-{}", r.starttime)).unwrap();
    let _fd = memfd::sealed(&name, &json(&r)).unwrap();
    let kid = sleeper();
    let l = lookup(kid.0.id());
    assert!(l.found.is_empty() && l.ignored.is_empty(), "{l:?}");
}

fn a_record_of_a_killed_writer_is_gone() {
    let (mut w, command, path) = stand_in(None, true, |_| {});
    let l = lookup(command);
    assert_eq!(l.found.len(), 1, "{l:?}");
    assert_eq!(l.found[0].writer, w.0.id());
    assert_eq!(l.found[0].path, Path::new(&path));
    // python3 wrote it, not this binary: shown, but as unverified
    assert!(!l.found[0].verified);
    let exe = l.found[0].holder_exe.as_ref().unwrap();
    assert!(exe.to_string_lossy().contains("python3"), "{exe:?}");
    // SIGKILL: the kernel frees the record; the command, reparented, has none
    w.0.kill().unwrap();
    w.0.wait().unwrap();
    let l = lookup(command);
    assert!(l.found.is_empty() && l.ignored.is_empty(), "{l:?}");
    let _ = Command::new("kill").arg(command.to_string()).status();
}

fn an_unsealed_memfd_is_not_a_record() {
    let (_w, command, _) = stand_in(None, false, |_| {});
    let l = lookup(command);
    assert!(l.found.is_empty(), "{l:?}");
    assert_eq!(l.ignored.len(), 1, "{l:?}");
    assert!(l.ignored[0].why.contains("not sealed"), "{l:?}");
    let _ = Command::new("kill").arg(command.to_string()).status();
}

fn a_user_s_record_counts_for_that_user_only_and_is_owned_by_them() {
    // a "confine run" of uid 4242 and its command (uid 4242): found, read by root
    let (_w, command, path) = stand_in(Some(4242), true, |_| {});
    let l = lookup(command);
    assert_eq!(l.found.len(), 1, "{l:?}");
    assert_eq!(l.found[0].record.uid, 4242);
    assert!(l.in_domain());
    // the memfd handed to a third user: not believed
    let f = std::fs::File::open(&path).unwrap();
    std::os::unix::fs::fchown(&f, Some(4343), None).unwrap();
    let l = lookup(command);
    assert!(l.found.is_empty());
    assert!(
        l.ignored[0]
            .why
            .contains("belongs to uid 4343, neither root nor the owner"),
        "{l:?}"
    );
    let _ = Command::new("kill").arg(command.to_string()).status();
    // a user's record claiming root's word
    let (_w, command, _) = stand_in(Some(4242), true, |r| r.uid = 0);
    let l = lookup(command);
    assert!(l.found.is_empty());
    assert!(
        l.ignored[0]
            .why
            .contains("claims uid 0 but the memfd belongs to uid 4242"),
        "{l:?}"
    );
    let _ = Command::new("kill").arg(command.to_string()).status();
}

/// A file named like a record on a detached mount (its link then reads exactly as a memfd's):
/// what the review used to stall a reader (a FUSE file there). Its mount is not the kernel's
/// shmem mount, so it is passed over without being opened, copied or closed.
const LOOK_ALIKE: &str = r#"
import os, subprocess, sys
d = sys.argv[1]
pid = os.getpid()
start = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
path = os.path.join(d, "memfd:confine-landlock:%d-%d (deleted)" % (pid, start))
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
subprocess.run(["umount", "-l", d], check=True)
p = subprocess.Popen(["sleep", "30"])
print(p.pid, fd, flush=True)
p.wait()
"#;

fn a_look_alike_on_another_mount_is_never_opened() {
    let ok = Command::new("unshare")
        .args(["-Urm", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped the look-alike case: no user and mount namespace here");
        return;
    }
    let mut w = Kid(Command::new("unshare")
        .args(["-Urm", "sh", "-c"])
        .arg(r#"d=$(mktemp -d) && mount -t tmpfs none "$d" && exec /usr/bin/python3 -c "$0" "$d""#)
        .arg(LOOK_ALIKE)
        .stdout(Stdio::piped())
        .current_dir("/")
        .spawn()
        .unwrap());
    let tail = line(&mut BufReader::new(w.0.stdout.take().unwrap()));
    let (command, fd) = tail.split_once(' ').unwrap();
    let holder = std::fs::read_to_string(format!("/proc/{command}/stat")).unwrap();
    let holder = holder
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap();
    let link = std::fs::read_link(format!("/proc/{holder}/fd/{fd}")).unwrap();
    assert!(
        link.to_string_lossy()
            .starts_with("/memfd:confine-landlock:"),
        "the look-alike reads as a memfd: {link:?}"
    );
    let l = lookup(command.parse().unwrap());
    assert!(l.found.is_empty(), "{l:?}");
    assert_eq!(l.ignored.len(), 1, "{l:?}");
    assert!(l.ignored[0].why.contains("not a memfd (mount"), "{l:?}");
    let _ = Command::new("kill").arg(command).status();
}
