//! User and group names (from the inspecting host's /etc/passwd and /etc/group) and a
//! process's user-namespace id maps.

use std::collections::HashMap;
use std::path::Path;

/// Names by id.
#[derive(Clone, Debug, Default)]
pub struct Names {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

fn parse(text: &str) -> HashMap<u32, String> {
    let mut m = HashMap::new();
    for l in text.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if let (Some(name), Some(id)) = (f.first(), f.get(2).and_then(|x| x.parse().ok())) {
            m.entry(id).or_insert_with(|| name.to_string());
        }
    }
    m
}

impl Names {
    /// Read `<root>/etc/passwd` and `<root>/etc/group` (missing files give no names).
    pub fn load(root: &Path) -> Names {
        let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_default();
        Names {
            users: parse(&read("etc/passwd")),
            groups: parse(&read("etc/group")),
        }
    }

    /// The user's name.
    pub fn user(&self, id: u32) -> Option<&str> {
        self.users.get(&id).map(String::as_str)
    }

    /// The group's name.
    pub fn group(&self, id: u32) -> Option<&str> {
        self.groups.get(&id).map(String::as_str)
    }
}

/// One line of `uid_map`/`gid_map`: ids `inside..inside+count` are `outside..` in the parent
/// namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRange {
    /// First id inside.
    pub inside: u32,
    /// First id outside.
    pub outside: u32,
    /// How many.
    pub count: u32,
}

/// Parse a map file.
pub fn parse_map(text: &str) -> Vec<MapRange> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().map(|x| x.parse::<u32>().ok());
            Some(MapRange {
                inside: f.next()??,
                outside: f.next()??,
                count: f.next()??,
            })
        })
        .collect()
}

/// Whether a map is the initial namespace's identity map (`0 0 4294967295`).
pub fn is_identity(m: &[MapRange]) -> bool {
    m == [MapRange {
        inside: 0,
        outside: 0,
        count: u32::MAX,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps() {
        let m = parse_map("         0          0 4294967295\n");
        assert!(is_identity(&m));
        let u = parse_map("0 100000 65536\n");
        assert_eq!(u[0].outside, 100000);
        assert!(!is_identity(&u));
    }

    #[test]
    fn names() {
        let n = parse(
            "root:x:0:0:root:/root:/bin/bash\nredis:x:999:1000::/var/lib/redis:/usr/sbin/nologin\n",
        );
        assert_eq!(n.get(&999).map(String::as_str), Some("redis"));
    }
}
