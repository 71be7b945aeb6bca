//! AppArmor's host decisions for a run, as Docker takes them: docker-default when AppArmor is
//! enabled (rendered for this host and loaded when missing), a note when it is not; an
//! explicitly named profile must be loaded already; `--apparmor-file` loads the one profile of
//! a file. Also detection on this machine and loading text through apparmor_parser, which
//! `confine apparmor` shares.

use crate::note::{Note, Notes};
use crate::{Error, Result};
use confine_apparmor::detect::Detection;
use confine_apparmor::kernel::{self, LabelState};
use confine_apparmor::parser::{self, ParserOptions};
use confine_apparmor::template::{self, AbiChoice, NameError, Params};
use std::path::{Path, PathBuf};

/// The profile Docker runs containers in.
pub const DEFAULT_PROFILE: &str = "docker-default";

/// Detection on this machine, with `lsm_list_modules(2)` when securityfs is not mounted.
pub fn detect() -> Detection {
    confine_apparmor::detect(|| {
        confine_kernel::process::active_lsms()
            .ok()
            .map(|l| l.into_iter().map(str::to_string).collect())
    })
}

/// The template parameters on this host for profile `name`: the daemon's label is confine's
/// own (from /proc) unless `daemon_profile` is given; `dir` is where Docker looks for the
/// tunables, abstractions and ABI files (`/etc/apparmor.d`), none of them with `no_includes`.
pub fn host_params(
    name: &str,
    daemon_profile: Option<&str>,
    dir: &Path,
    abi: AbiChoice,
    no_includes: bool,
) -> Result<Params, NameError> {
    let daemon = match daemon_profile {
        Some(d) => d.to_string(),
        None => match kernel::label_of(Path::new("/proc"), None, detect().enabled()) {
            LabelState::Label(l) => template::daemon_label(&l.to_string()),
            _ => "unconfined".to_string(),
        },
    };
    Params::for_host(name, &daemon, dir, abi, no_includes)
}

/// Load `text` (whose profiles the parser names) and check that the kernel lists each one.
/// Returns the names loaded.
pub fn load_text(
    text: &str,
    complain: bool,
    opts: &ParserOptions,
    d: &Detection,
) -> Result<Vec<String>> {
    let refused = |message: String| Error::AppArmor {
        profile: String::new(),
        message,
    };
    if let Some(why) = d.why_cannot_load() {
        return Err(refused(format!("cannot load an AppArmor profile: {why}")));
    }
    let parser_path = d.parser.as_deref().expect("checked by why_cannot_load");
    let names =
        parser::profile_names(parser_path, text, opts).map_err(|e| refused(e.to_string()))?;
    if names.is_empty() {
        return Err(refused("the text defines no AppArmor profile".into()));
    }
    parser::load(parser_path, text, complain, opts).map_err(|e| refused(e.to_string()))?;
    let loaded =
        kernel::loaded_profiles().map_err(Error::io("reading the kernel's list of profiles"))?;
    for n in &names {
        if !loaded.iter().any(|p| &p.name == n) {
            return Err(Error::AppArmor {
                profile: n.clone(),
                message: format!(
                    "apparmor_parser succeeded but the kernel does not list profile {n}"
                ),
            });
        }
    }
    Ok(names)
}

/// The AppArmor profile to execute the command in, and what must be loaded first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// The profile the command executes in (`exec NAME`); None: confine's own.
    pub profile: Option<String>,
    /// docker-default rendered for this host, to load before the command starts.
    pub load_default: Option<String>,
    /// `--apparmor-file`: the file and its text, to load before the command starts.
    pub load_file: Option<(PathBuf, String)>,
}

fn is_loaded(name: &str) -> Result<bool> {
    kernel::is_loaded(name).map_err(Error::io("reading the kernel's list of AppArmor profiles"))
}

/// Choose as Docker does, for `--apparmor-file` (`file`), the profile `named` by
/// `--security-opt apparmor=` and `--privileged`, with AppArmor as `aa` detected it.
pub fn choose(
    file: Option<&Path>,
    named: Option<&str>,
    privileged: bool,
    aa: &Detection,
    notes: Notes,
) -> Result<Choice> {
    let mut c = Choice::default();
    if let Some(file) = file {
        let refused = |message: String| Error::AppArmor {
            profile: file.display().to_string(),
            message,
        };
        if let Some(why) = aa.why_cannot_load() {
            return Err(refused(format!(
                "--apparmor-file {}: {why}",
                file.display()
            )));
        }
        let bytes = crate::read_small_file(file).map_err(|source| Error::Read {
            context: format!("--apparmor-file {}", file.display()),
            path: file.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| refused(format!("--apparmor-file {}: not UTF-8", file.display())))?;
        let parser_path = aa.parser.as_deref().expect("checked by why_cannot_load");
        let names = parser::profile_names(parser_path, &text, &Default::default())
            .map_err(|e| refused(format!("AppArmor profile {}: {e}", file.display())))?;
        let [name] = names.as_slice() else {
            return Err(refused(format!(
                "--apparmor-file {} defines {} profiles, not one",
                file.display(),
                names.len()
            )));
        };
        c.profile = Some(name.clone());
        c.load_file = Some((file.to_path_buf(), text));
        return Ok(c);
    }
    match named {
        Some("unconfined") => {}
        Some(name) => {
            let refused = |message: String| Error::AppArmor {
                profile: name.to_string(),
                message,
            };
            if let Some(why) = aa.why_not_enabled() {
                return Err(refused(format!(
                    "AppArmor profile {name} requested, but {why}"
                )));
            }
            if !is_loaded(name)? {
                return Err(refused(format!("AppArmor profile {name} is not loaded (load it with: confine apparmor load FILE)")));
            }
            c.profile = Some(name.to_string());
        }
        None if privileged => {}
        None => match aa.why_not_enabled() {
            Some(why) => notes(Note::AppArmorNotEnabled { why }),
            None => {
                if !is_loaded(DEFAULT_PROFILE)? {
                    // rendered now, loaded once everything else has been checked
                    if let Some(why) = aa.why_cannot_load() {
                        return Err(Error::AppArmor {
                            profile: DEFAULT_PROFILE.into(),
                            message: format!("AppArmor profile docker-default is not loaded and cannot be: {why}"),
                        });
                    }
                    let params = host_params(
                        DEFAULT_PROFILE,
                        None,
                        Path::new("/etc/apparmor.d"),
                        AbiChoice::Auto,
                        false,
                    )?;
                    c.load_default = Some(template::render(&params));
                }
                c.profile = Some(DEFAULT_PROFILE.to_string());
            }
        },
    }
    Ok(c)
}

/// Load what `c` says must be loaded before the command starts (the one change before the
/// child, as dockerd loads docker-default before creating a container).
pub fn load(c: &Choice) -> Result<()> {
    if let Some(text) = &c.load_default {
        load_text(text, false, &Default::default(), &detect())
            .map_err(|e| e.context("loading AppArmor profile docker-default"))?;
    }
    if let Some((file, text)) = &c.load_file {
        load_text(text, false, &Default::default(), &detect())
            .map_err(|e| e.context(format!("loading AppArmor profile {}", file.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disabled() -> Detection {
        Detection {
            module_enabled: false,
            securityfs: false,
            lsms: Some(vec!["capability".into()]),
            parser: None,
        }
    }

    #[test]
    fn without_apparmor_docker_notes_and_runs_unconfined() {
        let mut notes = Vec::new();
        let c = choose(None, None, false, &disabled(), &mut |n| notes.push(n)).unwrap();
        assert_eq!(c, Choice::default());
        assert!(
            matches!(&notes[..], [Note::AppArmorNotEnabled { .. }]),
            "{notes:?}"
        );
        // privileged or unconfined: no note
        notes.clear();
        choose(None, None, true, &disabled(), &mut |n| notes.push(n)).unwrap();
        choose(None, Some("unconfined"), false, &disabled(), &mut |n| {
            notes.push(n)
        })
        .unwrap();
        assert!(notes.is_empty());
        // a named profile cannot be had
        let e = choose(None, Some("p"), false, &disabled(), &mut |_| {}).unwrap_err();
        assert!(matches!(&e, Error::AppArmor { profile, .. } if profile == "p"));
        assert!(
            e.to_string()
                .starts_with("AppArmor profile p requested, but "),
            "{e}"
        );
        let e = choose(Some(Path::new("/x")), None, false, &disabled(), &mut |_| {}).unwrap_err();
        assert!(e.to_string().starts_with("--apparmor-file /x: "), "{e}");
    }
}
