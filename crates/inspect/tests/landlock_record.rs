//! Landlock records on a live system: written for this test process (its real pid and start
//! time) into a temporary directory, found for its descendants and only for them, and refused
//! or ignored when a symlink, a stranger's file or a lying record is in the way.

use confine_abi::landlock as abi;
use confine_inspect::landlock::{find, write, Compat, Lookup, Record, RecordError};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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

fn lookup(dir: &Path, pid: u32) -> Lookup {
    find(Path::new("/proc"), &[dir.to_path_buf()], pid)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

#[test]
fn a_descendant_is_in_the_domain_and_an_unrelated_process_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("confine/landlock");
    let r = record();
    let guard = write(&r, &dir).unwrap();
    assert_eq!(guard.path(), dir.join(r.file_name()));
    let mode = std::fs::metadata(guard.path()).unwrap().mode();
    assert_eq!(mode & 0o7777, 0o644);
    let kid = sleeper();
    let l = lookup(&dir, kid.0.id());
    assert_eq!(l.found.len(), 1, "{l:?}");
    assert!(l.in_domain() && l.ignored.is_empty() && l.incomplete.is_none());
    assert_eq!(l.found[0].writer, std::process::id());
    assert_eq!(l.found[0].record, r);
    // pid 1 and the writer itself are not descendants
    assert!(lookup(&dir, 1).found.is_empty());
    assert!(lookup(&dir, std::process::id()).found.is_empty());
    // removed with the guard, then found no more
    guard.remove().unwrap();
    assert!(!dir.join(r.file_name()).exists());
    assert!(lookup(&dir, kid.0.id()).found.is_empty());
    // and on drop
    let guard = write(&r, &dir).unwrap();
    let path = guard.path().to_path_buf();
    drop(guard);
    assert!(!path.exists());
}

#[test]
fn confine_s_init_is_outside_the_domain_and_its_child_inside() {
    let tmp = tempfile::tempdir().unwrap();
    let mut r = record();
    r.init_not_in_domain = true;
    let _guard = write(&r, tmp.path()).unwrap();
    let mut init = Kid(Command::new("sh")
        .args(["-c", "sleep 30 & echo $!; wait"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap());
    let mut line = String::new();
    BufReader::new(init.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let grandchild: u32 = line.trim().parse().unwrap();
    let l = lookup(tmp.path(), init.0.id());
    assert_eq!(l.found.len(), 1);
    assert!(!l.in_domain(), "{l:?}");
    let l = lookup(tmp.path(), grandchild);
    assert!(l.in_domain(), "{l:?}");
    assert_eq!(l.found[0].writer, std::process::id());
    let _ = Command::new("kill").arg(grandchild.to_string()).status();
}

#[test]
fn a_symlink_at_the_record_s_name_is_refused_and_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let r = record();
    let name = tmp.path().join(r.file_name());
    let elsewhere = tmp.path().join("elsewhere.json");
    std::fs::write(&elsewhere, serde_json::to_vec(&r).unwrap()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &name).unwrap();
    let e = write(&r, tmp.path()).unwrap_err();
    assert!(
        matches!(&e, RecordError::Unsafe { why, .. } if why.contains("symlink")),
        "{e}"
    );
    assert!(name.is_symlink(), "the symlink stays");
    let kid = sleeper();
    let l = lookup(tmp.path(), kid.0.id());
    assert!(l.found.is_empty());
    assert_eq!(l.ignored.len(), 1);
    assert!(l.ignored[0].why.contains("symlink"), "{:?}", l.ignored);
    // a dangling one: the same, and nothing is created at its target
    std::fs::remove_file(&name).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("nothing"), &name).unwrap();
    assert!(write(&r, tmp.path()).is_err());
    assert!(!tmp.path().join("nothing").exists());
}

#[test]
fn a_symlink_on_the_directory_path_is_refused_and_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let r = record();
    for dir in [link.clone(), link.join("landlock")] {
        let e = write(&r, &dir).unwrap_err();
        assert!(e.to_string().contains("a symlink is not followed"), "{e}");
    }
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
    // a record really in `real`, read through the link: ignored
    let _guard = write(&r, &real).unwrap();
    let kid = sleeper();
    assert!(lookup(&real, kid.0.id()).in_domain());
    let l = lookup(&link, kid.0.id());
    assert!(l.found.is_empty());
    assert_eq!(l.ignored.len(), 1, "{l:?}");
    assert!(l.ignored[0].why.contains("not a directory"));
}

#[test]
fn a_stale_record_is_replaced_and_anything_else_in_the_way_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let r = record();
    let name = tmp.path().join(r.file_name());
    std::fs::write(&name, "left by a killed confine").unwrap();
    let guard = write(&r, tmp.path()).unwrap();
    let back: Record = serde_json::from_slice(&std::fs::read(&name).unwrap()).unwrap();
    assert_eq!(back, r);
    guard.remove().unwrap();
    std::fs::create_dir(&name).unwrap();
    assert!(write(&r, tmp.path()).is_err());
    std::fs::remove_dir(&name).unwrap();
    assert!(Command::new("mkfifo")
        .arg(&name)
        .status()
        .unwrap()
        .success());
    let e = write(&r, tmp.path()).unwrap_err();
    assert!(e.to_string().contains("in the way"), "{e}");
}

#[test]
fn a_record_of_another_owner_or_that_lies_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let r = record();
    let kid = sleeper();
    let name: PathBuf = tmp.path().join(r.file_name());
    let reason = |text: &str| {
        std::fs::write(&name, text).unwrap();
        let l = lookup(tmp.path(), kid.0.id());
        assert!(l.found.is_empty(), "{text}");
        assert_eq!(l.ignored.len(), 1);
        l.ignored[0].why.clone()
    };
    let mut other = r.clone();
    other.starttime += 1;
    assert!(reason(&serde_json::to_string(&other).unwrap()).contains("not its file name's"));
    let mut other = r.clone();
    other.uid += 1;
    assert!(reason(&serde_json::to_string(&other).unwrap()).contains("claims uid"));
    let mut other = r.clone();
    other.version = 2;
    assert!(reason(&serde_json::to_string(&other).unwrap()).contains("format version 2"));
    assert!(reason("{").contains("not a record"));
    assert!(reason(&" ".repeat(1 << 21)).contains("larger than 1 MiB"));
    if is_root() {
        std::fs::write(&name, serde_json::to_string(&r).unwrap()).unwrap();
        std::os::unix::fs::chown(&name, Some(4242), None).unwrap();
        let l = lookup(tmp.path(), kid.0.id());
        assert!(l.found.is_empty());
        assert!(
            l.ignored[0]
                .why
                .contains("belongs to uid 4242, neither root nor the owner"),
            "{:?}",
            l.ignored
        );
        // a directory others may write (not sticky) is passed over as a whole
        std::fs::remove_file(&name).unwrap();
        let _guard = write(&r, tmp.path()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let l = lookup(tmp.path(), kid.0.id());
        assert!(l.found.is_empty());
        assert!(l.ignored[0].why.contains("writable by others"), "{l:?}");
        assert!(write(&r, tmp.path()).is_err());
    }
}

#[test]
fn a_directory_of_another_user_is_refused_to_the_writer() {
    if !is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let theirs = tmp.path().join("confine");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(4242), None).unwrap();
    let e = write(&record(), &theirs.join("landlock")).unwrap_err();
    assert!(e.to_string().contains("belongs to uid 4242"), "{e}");
    assert!(!theirs.join("landlock").exists());
}

#[test]
fn a_user_s_record_is_found_in_the_writer_s_own_xdg_runtime_dir() {
    use std::os::unix::process::CommandExt;
    if !is_root() {
        return;
    }
    // a "confine run" of uid 4242 (a shell standing in for it) and its command (a sleep)
    let tmp = tempfile::tempdir().unwrap();
    let xdg = tmp.path().join("xdg");
    let dir = xdg.join("confine/landlock");
    std::fs::create_dir_all(&dir).unwrap();
    for d in [&xdg, &xdg.join("confine"), &dir] {
        std::os::unix::fs::chown(d, Some(4242), Some(4242)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut writer = Kid(Command::new("sh")
        .args(["-c", "sleep 30 & echo $!; wait"])
        .env("XDG_RUNTIME_DIR", &xdg)
        .current_dir("/")
        .uid(4242)
        .gid(4242)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap());
    let mut line = String::new();
    BufReader::new(writer.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let command: u32 = line.trim().parse().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", writer.0.id())).unwrap();
    let mut r = record();
    r.pid = writer.0.id();
    r.starttime = confine_inspect::landlock::stat_starttime(&stat).unwrap();
    r.uid = 4242;
    let file = dir.join(r.file_name());
    std::fs::write(&file, serde_json::to_vec(&r).unwrap()).unwrap();
    std::os::unix::fs::chown(&file, Some(4242), None).unwrap();
    // not among the directories asked for: found through the writer's environment
    let l = find(Path::new("/proc"), &[], command);
    assert_eq!(l.found.len(), 1, "{l:?}");
    assert_eq!(l.found[0].path, file);
    assert!(l.in_domain());
    // owned by a third user, it is not believed
    std::os::unix::fs::chown(&file, Some(4343), None).unwrap();
    let l = find(Path::new("/proc"), &[], command);
    assert!(l.found.is_empty());
    assert!(l.ignored[0].why.contains("belongs to uid 4343"), "{l:?}");
    let _ = Command::new("kill").arg(command.to_string()).status();
}
