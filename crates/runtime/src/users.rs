//! `--user` and `--group-add` as runc resolves them against /etc/passwd and /etc/group
//! (libcontainer/user `GetExecUser`, `GetAdditionalGroups`): ids in 0–2147483647 only; the user
//! given without a group gets its passwd group and every group of /etc/group that lists it;
//! with an explicit group, that group and no others; `--group-add` comes on top.

use crate::{Error, Result};
use std::path::Path;

fn user_error(user: &str, message: impl Into<String>) -> Error {
    Error::User {
        user: user.to_string(),
        message: message.into(),
    }
}

/// The largest id runc accepts (ids are signed 32-bit to it; −1 means "unchanged" to
/// setresuid, so 4294967295 would keep confine's own uid 0).
pub const MAX_ID: u64 = 2_147_483_647;

/// The ids and home directory the command runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The uid.
    pub uid: u32,
    /// The gid.
    pub gid: u32,
    /// The supplementary groups, in order.
    pub groups: Vec<u32>,
    /// From the passwd entry, when there is one.
    pub home: Option<String>,
}

/// One file of `name:x:id:...` lines, read with a size limit.
#[derive(Clone, Debug, Default)]
pub struct Db {
    entries: Vec<Vec<String>>,
}

impl Db {
    /// Read `path` (at most 16 MiB); a missing file is an empty database, as in runc.
    pub fn read(path: &Path) -> Result<Db> {
        let text = match crate::read_small_file(path) {
            Ok(t) => String::from_utf8_lossy(&t).into_owned(),
            Err(e)
                if e.io_error().map(std::io::Error::kind) == Some(std::io::ErrorKind::NotFound) =>
            {
                String::new()
            }
            Err(source) => {
                return Err(Error::Read {
                    context: format!("reading {}", path.display()),
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Ok(Db::parse(&text))
    }

    /// The entries of `text` (blank lines and `#` comments skipped).
    pub fn parse(text: &str) -> Db {
        Db {
            entries: text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.split(':').map(str::to_string).collect())
                .collect(),
        }
    }

    fn field(e: &[String], i: usize) -> &str {
        e.get(i).map_or("", String::as_str)
    }

    /// The first entry whose name is `arg` or whose id is `arg` read as a number.
    fn find(&self, arg: &str) -> Option<&Vec<String>> {
        let num = arg.parse::<u64>().ok();
        self.entries.iter().find(|e| {
            Self::field(e, 0) == arg
                || (num.is_some() && Self::field(e, 2).parse::<u64>().ok() == num)
        })
    }
}

fn id(what: &str, s: &str) -> Result<u32> {
    let v: u64 = s
        .parse()
        .map_err(|_| user_error(s, format!("{what} `{s}` is not a number")))?;
    if v > MAX_ID {
        return Err(user_error(
            s,
            format!("{what} {v} is out of range: ids go from 0 to {MAX_ID} (as runc requires)"),
        ));
    }
    Ok(v as u32)
}

/// Resolve `--user` (None: root, as Docker's default) and `--group-add`.
pub fn resolve(spec: Option<&str>, group_add: &[String], passwd: &Db, group: &Db) -> Result<User> {
    let spec = spec.unwrap_or("0");
    if spec.is_empty() {
        return Err(user_error(
            spec,
            "--user: the value is empty (give USER, UID, USER:GROUP or UID:GID)",
        ));
    }
    let (user_arg, group_arg) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user_arg.is_empty() || group_arg == Some("") {
        return Err(user_error(
            spec,
            format!("--user `{spec}`: the user or the group is empty"),
        ));
    }
    let entry = passwd.find(user_arg);
    let (uid, mut gid, name, home) = match entry {
        Some(e) => (
            id("uid", Db::field(e, 2))?,
            id("gid", Db::field(e, 3))
                .map_err(|x| x.context(format!("/etc/passwd entry of {}", Db::field(e, 0))))?,
            Some(Db::field(e, 0).to_string()),
            Some(Db::field(e, 5).to_string()).filter(|h| !h.is_empty()),
        ),
        None if user_arg.bytes().all(|b| b.is_ascii_digit()) => {
            (id("uid", user_arg)?, 0, None, None)
        }
        None => {
            return Err(user_error(
                user_arg,
                format!("unable to find user {user_arg}: no matching entries in passwd file"),
            ))
        }
    };
    let mut groups = Vec::new();
    match group_arg {
        Some(g) => {
            gid = match group.find(g) {
                Some(e) => id("gid", Db::field(e, 2))?,
                None if g.bytes().all(|b| b.is_ascii_digit()) => id("gid", g)?,
                None => {
                    return Err(user_error(
                        g,
                        format!("unable to find group {g}: no matching entries in group file"),
                    ))
                }
            }
        }
        None => {
            if let Some(name) = &name {
                for e in &group.entries {
                    if Db::field(e, 3).split(',').any(|m| m == name) {
                        groups.push(id("gid", Db::field(e, 2))?);
                    }
                }
            }
        }
    }
    let mut added: Vec<u32> = Vec::new();
    for g in group_add {
        if g.is_empty() {
            return Err(user_error(g, "--group-add: the group is empty"));
        }
        let v = match group.find(g) {
            Some(e) => id("gid", Db::field(e, 2))?,
            None if g.bytes().all(|b| b.is_ascii_digit()) => id("--group-add gid", g)?,
            None => {
                return Err(user_error(
                    g,
                    format!("--group-add {g}: no such group in /etc/group"),
                ))
            }
        };
        if !added.contains(&v) {
            added.push(v);
        }
    }
    groups.extend(added);
    Ok(User {
        uid,
        gid,
        groups,
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbs() -> (Db, Db) {
        (
            Db::parse("root:x:0:0:root:/root:/bin/sh\npostgres:x:105:110::/var/lib/postgresql:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"),
            Db::parse("root:x:0:\nssl-cert:x:103:postgres\npostgres:x:110:\nstaff:x:50:alice,postgres\n"),
        )
    }

    #[test]
    fn implicit_group_brings_the_groups_that_list_the_user() {
        let (p, g) = dbs();
        let u = resolve(Some("postgres"), &[], &p, &g).unwrap();
        assert_eq!((u.uid, u.gid), (105, 110));
        assert_eq!(u.groups, vec![103, 50]);
        assert_eq!(u.home.as_deref(), Some("/var/lib/postgresql"));
        // numeric uid finds the same entry
        assert_eq!(
            resolve(Some("105"), &[], &p, &g).unwrap().groups,
            vec![103, 50]
        );
        // explicit group: only that one
        let u = resolve(Some("postgres:staff"), &["4242".into()], &p, &g).unwrap();
        assert_eq!((u.gid, u.groups), (50, vec![4242]));
    }

    #[test]
    fn ids_outside_runc_range_are_refused() {
        let (p, g) = dbs();
        for bad in ["4294967295", "2147483648", "1000:4294967295", "-1"] {
            assert!(resolve(Some(bad), &[], &p, &g).is_err(), "{bad}");
        }
        assert!(resolve(Some("1000"), &["4294967295".into()], &p, &g).is_err());
        let e = resolve(Some("4294967295"), &[], &p, &g).unwrap_err();
        assert!(
            matches!(&e, Error::User { user, .. } if user == "4294967295"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "uid 4294967295 is out of range: ids go from 0 to 2147483647 (as runc requires)"
        );
        // a bad gid in a passwd entry names the entry
        let bad = Db::parse("svc:x:10:4294967295::/:/bin/sh\n");
        let e = resolve(Some("svc"), &[], &bad, &g).unwrap_err();
        assert_eq!(e.to_string(), "/etc/passwd entry of svc");
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(
            resolve(Some("2147483647"), &[], &p, &g).unwrap().uid,
            2147483647
        );
    }

    #[test]
    fn defaults_and_empty_values() {
        let (p, g) = dbs();
        let u = resolve(None, &[], &p, &g).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_deref()), (0, 0, Some("/root")));
        assert!(resolve(Some(""), &[], &p, &g)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(resolve(Some("1000:"), &[], &p, &g).is_err());
        assert!(resolve(Some("nosuchuser"), &[], &p, &g).is_err());
        let u = resolve(Some("1234:5678"), &[], &p, &g).unwrap();
        assert_eq!((u.uid, u.gid, u.home), (1234, 5678, None));
    }
}
