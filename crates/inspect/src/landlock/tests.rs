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
    assert_eq!(r.memfd_name(), "confine-landlock:1234-98765");
    assert_eq!(
        memfd_link(1234, 98765),
        "/memfd:confine-landlock:1234-98765 (deleted)"
    );
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
fn only_this_process_s_own_record_is_written() {
    let mut r = Record::for_self("/p.yaml", Compat::Require, 6).unwrap();
    r.starttime += 1;
    let e = write(&r).unwrap_err();
    assert!(matches!(e, RecordError::NotSelf { .. }), "{e}");
    r.starttime -= 1;
    let g = write(&r).unwrap();
    let link = std::fs::read_link(g.proc_path()).unwrap();
    assert_eq!(link.to_str().unwrap(), memfd_link(r.pid, r.starttime));
    let back: Record = serde_json::from_slice(&std::fs::read(g.proc_path()).unwrap()).unwrap();
    assert_eq!(back, r);
}
