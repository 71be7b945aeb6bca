//! Recorded paths and ports written as a file-and-network policy: SPO's `spec.abstract` with
//! confine's extensions (docs/policy-schema.md), for `confine run --policy`.
//!
//! Paths are made real before they are written, because Landlock ties a rule to the file it
//! opens and confine opens rule paths without following symlinks: a path that resolves
//! elsewhere is written as its target; one that no longer exists (a temporary file) gives its
//! rights to the nearest directory above it that does; anything under /proc stands as /proc
//! (pid-named entries change from run to run). A path below one with the same rights is
//! covered by it and left out; with `collapse` N, a directory with N or more recorded entries
//! stands for them all. Every such change is returned as a note.

use crate::files::{Access, Activity};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn covers(outer: Access, inner: Access) -> bool {
    (outer.read || !inner.read)
        && (outer.write || !inner.write)
        && (outer.exec || !inner.exec)
        && (outer.library || !inner.library)
}

fn merge(a: &mut Access, b: Access) {
    a.read |= b.read;
    a.write |= b.write;
    a.exec |= b.exec;
    a.library |= b.library;
}

/// The path a rule must name: the real path, or for one that no longer exists the nearest
/// existing directory above it (Err); None when nothing on the way exists.
fn real(path: &str) -> Option<Result<PathBuf, PathBuf>> {
    let p = Path::new(path);
    if p.starts_with("/proc") {
        return Some(Ok(PathBuf::from("/proc")));
    }
    let mut at = p.to_path_buf();
    loop {
        if let Ok(r) = std::fs::canonicalize(&at) {
            return Some(if at == p { Ok(r) } else { Err(r) });
        }
        if !at.pop() {
            return None;
        }
    }
}

/// The policy text and the notes on how paths were changed.
pub fn render(a: &Activity, collapse: usize) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut paths: BTreeMap<PathBuf, Access> = BTreeMap::new();
    let mut gone = Vec::new();
    for (p, acc) in &a.paths {
        match real(p) {
            Some(Ok(r)) => merge(paths.entry(r).or_default(), *acc),
            Some(Err(above)) => gone.push((p, above, *acc)),
            None => {}
        }
    }
    // A path that no longer exists was made in a directory the command could write (its
    // rights go there), or never existed: a failed lookup, which needs no right.
    for (p, above, acc) in gone {
        match paths.get_mut(&above) {
            Some(d) if d.write => {
                merge(d, acc);
                notes.push(format!(
                    "{p} no longer exists; its rights go to {}",
                    above.display()
                ));
            }
            _ => notes.push(format!("{p}{FAILED_LOOKUP}")),
        }
    }
    // A file in a directory the command could create and remove entries in: the command may
    // well replace it between runs (an output file, a pid file), so the directory's rule takes
    // its rights too.
    let writable: Vec<PathBuf> = paths
        .iter()
        .filter(|(p, a)| a.write && p.is_dir())
        .map(|(p, _)| p.clone())
        .collect();
    for d in writable {
        let inside: Vec<PathBuf> = paths
            .keys()
            .filter(|p| p.parent() == Some(d.as_path()) && !p.is_dir())
            .cloned()
            .collect();
        for f in inside {
            if let Some(acc) = paths.remove(&f) {
                if let Some(dir) = paths.get_mut(&d) {
                    merge(dir, acc);
                }
                notes.push(format!(
                    "{} is in a directory the command writes; its rule is {}",
                    f.display(),
                    d.display()
                ));
            }
        }
    }
    if collapse > 0 {
        let mut by_dir: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
        for p in paths.keys() {
            if let Some(d) = p.parent() {
                by_dir.entry(d.to_path_buf()).or_default().push(p.clone());
            }
        }
        for (dir, members) in by_dir {
            if members.len() >= collapse {
                let mut acc = paths.get(&dir).copied().unwrap_or_default();
                for m in &members {
                    if let Some(x) = paths.remove(m) {
                        merge(&mut acc, x);
                    }
                }
                notes.push(format!(
                    "{} entries under {} collapsed into it",
                    members.len(),
                    dir.display()
                ));
                paths.insert(dir, acc);
            }
        }
    }
    // left out: a path beneath one whose rights cover its own
    let all: Vec<(PathBuf, Access)> = paths.iter().map(|(p, a)| (p.clone(), *a)).collect();
    paths.retain(|p, acc| {
        !all.iter()
            .any(|(q, b)| q != p && p.starts_with(q) && q.is_dir() && covers(*b, *acc))
    });
    let mut lists: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (p, acc) in &paths {
        let mut s = p.to_string_lossy().into_owned();
        if p.is_dir() && s != "/" {
            s.push('/');
        }
        if acc.exec {
            lists
                .entry("allowedExecutables")
                .or_default()
                .push(s.clone());
        } else if acc.library {
            lists.entry("allowedLibraries").or_default().push(s.clone());
        }
        let key = match (acc.read || acc.exec || acc.library, acc.write) {
            (true, true) => Some("readWritePaths"),
            (false, true) => Some("writeOnlyPaths"),
            (true, false) if !acc.exec && !acc.library => Some("readOnlyPaths"),
            _ => None,
        };
        if let Some(k) = key {
            lists.entry(k).or_default().push(s);
        }
    }
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::from(
        "# File-and-network policy recorded by confine record: the Security Profiles Operator's\n\
         # AppArmorProfile spec.abstract with confine's extensions (docs/policy-schema.md).\n\
         # Use it with: confine run --policy FILE\n",
    );
    let section = |out: &mut String, title: &str, keys: &[&str]| {
        let present: Vec<&&str> = keys.iter().filter(|k| lists.contains_key(**k)).collect();
        out.push_str(&format!("{title}:\n"));
        if present.is_empty() {
            out.push_str("  {}\n");
        }
        for k in present {
            out.push_str(&format!("  {k}:\n"));
            for p in &lists[*k] {
                out.push_str(&format!("    - {}\n", q(p)));
            }
        }
    };
    section(
        &mut out,
        "filesystem",
        &["readOnlyPaths", "writeOnlyPaths", "readWritePaths"],
    );
    section(
        &mut out,
        "executable",
        &["allowedExecutables", "allowedLibraries"],
    );
    out.push_str(&format!(
        "network:\n  allowRaw: {}\n  allowedProtocols:\n    allowTcp: false\n    allowUdp: {}\n",
        a.raw, a.udp
    ));
    let ports = |v: &std::collections::BTreeSet<u16>| {
        v.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
    };
    out.push_str(&format!(
        "confine:\n  version: 1\n  tcp:\n    bind: [{}]\n    connect: [{}]\n",
        ports(&a.bind_tcp),
        ports(&a.connect_tcp)
    ));
    // rules over a whole system tree come from a call that may have failed (a recording sees
    // calls before they run): said, for the caller to check
    for (p, acc) in &paths {
        let top = p.components().count() <= 2;
        if top && (acc.write || p == Path::new("/")) {
            notes.push(format!(
                "{} is a broad rule ({}): the recording saw a call on it, which may have failed; check it before use",
                p.display(),
                if acc.write { "written" } else { "read" }
            ));
        }
    }
    if a.overflow {
        notes.push(format!(
            "more than {} distinct paths, or {} MiB of them: the rest were not kept, and the policy is incomplete",
            crate::files::MAX_PATHS,
            crate::files::MAX_PATH_BYTES >> 20
        ));
    }
    if a.unreadable_count > 0 {
        notes.push(format!(
            "{} calls named a path or address the recorder could not read ({}): the policy may lack them",
            a.unreadable_count,
            a.unreadable.join(", ")
        ));
    }
    // failed lookups are many in a typical run (a search along PATH, a library path): a count
    // and the first few
    let (missing, mut notes): (Vec<String>, Vec<String>) =
        notes.into_iter().partition(|n| n.ends_with(FAILED_LOOKUP));
    if !missing.is_empty() {
        let shown: Vec<&str> = missing
            .iter()
            .take(10)
            .map(|n| n.trim_end_matches(FAILED_LOOKUP))
            .collect();
        notes.push(format!(
            "{} paths did not exist (failed lookups, which need no right): left out: {}{}",
            missing.len(),
            shown.join(", "),
            if missing.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        ));
    }
    let notes: Vec<String> = notes.iter().map(|n| crate::printable(n)).collect();
    // the notes go into the file too: a reader of the policy alone must see them
    let mut head = String::new();
    if a.overflow || a.unreadable_count > 0 {
        head.push_str(
            "# INCOMPLETE: paths or addresses the command used are missing (see the notes)\n",
        );
    }
    for n in &notes {
        head.push_str(&format!("# note: {n}\n"));
    }
    (head + &out, notes)
}

/// The end of a note on a path that did not exist.
const FAILED_LOOKUP: &str = " does not exist (a failed lookup): left out";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_go_to_their_directory_and_covered_paths_go() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        let kept = d.join("kept");
        std::fs::write(&kept, "x").unwrap();
        let mut a = Activity::default();
        let rw = Access {
            read: true,
            write: true,
            ..Access::default()
        };
        a.paths.insert(d.join("gone").to_string_lossy().into(), rw);
        a.paths.insert(d.to_string_lossy().into(), rw);
        a.paths.insert("/nonexistent/x".into(), rw);
        a.paths.insert(
            kept.to_string_lossy().into(),
            Access {
                read: true,
                ..Access::default()
            },
        );
        a.paths.insert(
            "/proc/123/status".into(),
            Access {
                read: true,
                ..Access::default()
            },
        );
        a.connect_tcp.insert(6379);
        let (text, notes) = render(&a, 0);
        let dir_line = format!("    - \"{}/\"", d.display());
        assert!(text.contains(&dir_line), "{text}");
        assert!(!text.contains("kept\""), "{text}");
        assert!(text.contains("\"/proc/\""), "{text}");
        assert!(text.contains("connect: [6379]"), "{text}");
        assert!(
            notes.iter().any(|n| n.contains("no longer exists")),
            "{notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("1 paths did not exist") && n.contains("/nonexistent/x")),
            "{notes:?}"
        );
        assert!(!text.contains("nonexistent/x\""), "{text}");
    }
}

#[cfg(test)]
mod collapse {
    use super::*;

    #[test]
    fn a_directory_with_n_entries_stands_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        let mut a = Activity::default();
        for i in 0..3 {
            let f = d.join(format!("f{i}"));
            std::fs::write(&f, "x").unwrap();
            a.paths.insert(
                f.to_string_lossy().into(),
                Access {
                    read: true,
                    ..Access::default()
                },
            );
        }
        let (text, notes) = render(&a, 0);
        assert!(text.contains("f2"), "{text}");
        let (text, notes3) = render(&a, 3);
        assert!(!text.contains("f2"), "{text}");
        assert!(text.contains(&format!("\"{}/\"", d.display())), "{text}");
        assert!(notes.is_empty() && notes3.iter().any(|n| n.contains("collapsed")));
        let (text, _) = render(&a, 4);
        assert!(text.contains("f2"), "{text}");
    }
}
