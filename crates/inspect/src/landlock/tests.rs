//! Tests of the Landlock records (`super`).
use super::*;

fn sample() -> Record {
    let mut r = Record::new(1234, 98765, 0, "/p.yaml", Compat::BestEffort, 3);
    r.dropped = vec!["TCP bind restriction needs Landlock ABI 4 (Linux 6.7)".into()];
    r.seccomp_sockets = vec!["AF_INET SOCK_DGRAM".into()];
    r.init_not_in_domain = true;
    r.set_handled(abi::FS_READ | abi::FS_WRITE_FILE, 0, 0);
    r.add_path("/usr", abi::FS_READ);
    r
}

#[test]
fn a_record_round_trips_through_json_with_names_beside_masks() {
    let r = sample();
    let text = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), r);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["compat"], "best-effort");
    assert_eq!(v["handled_fs"], 14);
    assert_eq!(
        v["handled_fs_names"],
        serde_json::json!(["write_file", "read_file", "read_dir"])
    );
    assert_eq!(
        v["paths"],
        serde_json::json!([{"path": "/usr", "rights": ["read_file", "read_dir"]}])
    );
    assert_eq!(r.file_name(), "1234-98765.json");
    // an unknown compat is no record
    let bad = text.replace("best-effort", "maybe");
    assert!(serde_json::from_str::<Record>(&bad).is_err());
}

#[test]
fn starttime_is_field_22_counted_after_the_last_parenthesis() {
    let rest = "S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 19 20";
    assert_eq!(stat_starttime(&format!("77 (sh) {rest}")), Some(424242));
    assert_eq!(
        stat_starttime(&format!("77 (a) (b) ) {rest}")),
        Some(424242)
    );
    assert_eq!(
        stat_starttime(&format!("77 (x) S 1 ) () {rest}")),
        Some(424242)
    );
    assert_eq!(stat_starttime("77 (sh) S 1 2"), None);
    assert_eq!(stat_starttime("77 (sh"), None);
    // this process: a real line
    let me = std::fs::read_to_string("/proc/self/stat").unwrap();
    assert!(stat_starttime(&me).is_some());
}

#[test]
fn the_directory_is_root_s_or_a_private_xdg_runtime_dir() {
    assert_eq!(default_dir(0, None).unwrap(), Path::new(ROOT_DIR));
    let no = |r: Result<PathBuf, RecordError>| r.unwrap_err().to_string();
    assert!(no(default_dir(1000, None)).contains("XDG_RUNTIME_DIR is not set"));
    assert!(no(default_dir(1000, Some(OsStr::new("run/x")))).contains("not absolute"));
    let tmp = tempfile::tempdir().unwrap();
    let mut uid = std::fs::metadata(tmp.path()).unwrap().uid();
    if uid == 0 {
        uid = 4242;
        std::os::unix::fs::chown(tmp.path(), Some(uid), None).unwrap();
    }
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(
        default_dir(uid, Some(tmp.path().as_os_str())).unwrap(),
        tmp.path().join("confine/landlock")
    );
    assert!(no(default_dir(uid + 1, Some(tmp.path().as_os_str()))).contains("belongs to"));
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(no(default_dir(uid, Some(tmp.path().as_os_str()))).contains("mode 755"));
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(tmp.path(), &link).unwrap();
    assert!(no(default_dir(uid, Some(link.as_os_str()))).contains("not a directory"));
}
