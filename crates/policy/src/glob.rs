//! AppArmor globs → Landlock paths.
//!
//! SPO paths are AppArmor globs (`/var/log/**`, `/etc/*.conf`, `@{pid}`); Landlock has no globs:
//! a rule names one file or directory and covers everything beneath a directory. So:
//!
//! * `dir/**` and `dir/` become a rule on `dir` (everything beneath it): exact enough, not
//!   reported;
//! * a component with `*`, `?`, `{…}`, `[…]` or `\` widens the rule to the nearest literal parent
//!   directory, and the widening is returned as a [`Widening`] for the caller to print;
//! * `@{…}` variables are an error (Landlock cannot expand them);
//! * relative paths and `.`/`..` components are errors.

use std::fmt;
use thiserror::Error;

/// A glob that cannot become a Landlock path.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GlobError {
    /// The path does not start with `/`.
    #[error("`{0}` is not an absolute path")]
    Relative(String),
    /// An AppArmor variable such as `@{pid}` or `@{HOME}`.
    #[error("`{0}` uses the AppArmor variable `{1}`, which Landlock cannot expand")]
    Variable(String, String),
    /// A `.` or `..` component.
    #[error("`{0}` has a `.` or `..` component")]
    DotComponent(String),
}

/// How a glob maps to a Landlock path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lowered {
    /// The literal path the rule names (no trailing `/` except for `/` itself).
    pub path: String,
    /// The rule is meant for everything beneath `path` (so `path` must be a directory).
    pub beneath: bool,
    /// Set when the rule had to become wider than the glob.
    pub widened: bool,
}

/// One widening, for the caller to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Widening {
    /// The glob as written.
    pub glob: String,
    /// The directory the rule now covers entirely.
    pub path: String,
    /// Where the glob was written (line, column), if known.
    pub at: Option<(u32, u32)>,
}

impl fmt::Display for Widening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((l, c)) = self.at {
            write!(f, "{l}:{c}: ")?;
        }
        write!(
            f,
            "`{}` widened to everything beneath `{}` (Landlock has no globs)",
            self.glob, self.path
        )
    }
}

/// Whether a path component has glob syntax.
fn is_glob(component: &str) -> bool {
    component.contains(['*', '?', '{', '}', '[', ']', '\\'])
}

/// Map one AppArmor glob to a Landlock path.
pub fn lower(glob: &str) -> Result<Lowered, GlobError> {
    if !glob.starts_with('/') {
        return Err(GlobError::Relative(glob.to_string()));
    }
    if let Some(start) = glob.find("@{") {
        let end = glob[start..]
            .find('}')
            .map_or(glob.len(), |e| start + e + 1);
        return Err(GlobError::Variable(
            glob.to_string(),
            glob[start..end].to_string(),
        ));
    }
    let components: Vec<&str> = glob.split('/').filter(|c| !c.is_empty()).collect();
    if components.iter().any(|c| *c == "." || *c == "..") {
        return Err(GlobError::DotComponent(glob.to_string()));
    }
    let literal = components.iter().take_while(|c| !is_glob(c)).count();
    let join = |n: usize| format!("/{}", components[..n].join("/"));
    if literal == components.len() {
        // No glob at all: a directory if written with a trailing `/`.
        let beneath = glob.ends_with('/');
        return Ok(Lowered {
            path: join(literal),
            beneath: beneath || components.is_empty(),
            widened: false,
        });
    }
    // `dir/**` (the glob is the last component and is exactly `**`) is exact.
    let exact = literal + 1 == components.len() && components[literal] == "**";
    Ok(Lowered {
        path: join(literal),
        beneath: true,
        widened: !exact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(g: &str) -> (String, bool, bool) {
        let l = lower(g).unwrap();
        (l.path, l.beneath, l.widened)
    }

    #[test]
    fn literal_paths() {
        assert_eq!(ok("/etc/passwd"), ("/etc/passwd".into(), false, false));
        assert_eq!(ok("/etc/"), ("/etc".into(), true, false));
        assert_eq!(ok("/"), ("/".into(), true, false));
        assert_eq!(ok("//usr//lib/"), ("/usr/lib".into(), true, false));
    }

    #[test]
    fn double_star_at_the_end_is_exact() {
        assert_eq!(ok("/var/log/**"), ("/var/log".into(), true, false));
        assert_eq!(ok("/**"), ("/".into(), true, false));
    }

    #[test]
    fn globs_widen_to_the_literal_parent() {
        assert_eq!(ok("/etc/*.conf"), ("/etc".into(), true, true));
        assert_eq!(ok("/var/log/*"), ("/var/log".into(), true, true));
        assert_eq!(ok("/usr/lib/lib?.so"), ("/usr/lib".into(), true, true));
        assert_eq!(ok("/usr/{lib,lib64}/x"), ("/usr".into(), true, true));
        assert_eq!(ok("/usr/**/bin"), ("/usr".into(), true, true));
        assert_eq!(ok("/dev/tty[0-9]"), ("/dev".into(), true, true));
        assert_eq!(ok("/*"), ("/".into(), true, true));
        assert_eq!(ok("/opt/**.so"), ("/opt".into(), true, true));
    }

    #[test]
    fn errors() {
        assert_eq!(
            lower("etc/passwd"),
            Err(GlobError::Relative("etc/passwd".into()))
        );
        assert_eq!(lower(""), Err(GlobError::Relative(String::new())));
        assert_eq!(
            lower("/proc/@{pid}/maps"),
            Err(GlobError::Variable(
                "/proc/@{pid}/maps".into(),
                "@{pid}".into()
            ))
        );
        assert!(matches!(lower("/a/../b"), Err(GlobError::DotComponent(_))));
        assert!(matches!(lower("/a/./b"), Err(GlobError::DotComponent(_))));
    }

    #[test]
    fn widening_displays_its_place() {
        let w = Widening {
            glob: "/etc/*.conf".into(),
            path: "/etc".into(),
            at: Some((3, 7)),
        };
        assert_eq!(
            w.to_string(),
            "3:7: `/etc/*.conf` widened to everything beneath `/etc` (Landlock has no globs)"
        );
    }
}
