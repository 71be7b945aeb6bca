//! The /proc parsers (status, cgroup, uid/gid maps, stat) and AppArmor's label and profile
//! list parsers on arbitrary text: never a panic, and a label prints back to text that parses
//! to the same label.
#![no_main]

use confine_apparmor::kernel::{parse_label, parse_profiles};
use confine_inspect::{container, ids, landlock, Status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Status::parse(&text);
    let _ = container::from_cgroup_file(&text);
    for line in text.lines() {
        let _ = container::from_cgroup_path(line);
    }
    let maps = ids::parse_map(&text);
    let _ = ids::is_identity(&maps);
    let _ = landlock::stat_starttime(&text);
    let label = parse_label(&text);
    assert_eq!(parse_label(&label.to_string()), label, "{text:?}");
    let _ = parse_profiles(&text);
});
