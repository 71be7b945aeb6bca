//! Capability sets as `docker run` builds them: a base set edited by `--cap-add`/`--cap-drop`
//! (moby `oci/caps.TweakCapabilities`).

use confine_abi::{CapError, CapSet, Capability};

/// Parse a `--caps` value: `docker-default`, `all`, `none`, or a comma-separated list.
/// `all` means `all` (the caller decides: every known capability, or the bounding set).
pub fn parse_base(s: &str, all: CapSet) -> Result<CapSet, CapError> {
    match s.to_ascii_lowercase().as_str() {
        "docker-default" | "default" => Ok(CapSet::docker_default()),
        "all" => Ok(all),
        "none" | "" => Ok(CapSet::EMPTY),
        _ => CapSet::parse_list(s),
    }
}

fn parse_edits(list: &[String]) -> Result<(bool, CapSet), CapError> {
    let mut has_all = false;
    let mut set = CapSet::EMPTY;
    for item in list
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.is_empty())
    {
        if item.eq_ignore_ascii_case("all") || item.eq_ignore_ascii_case("cap_all") {
            has_all = true;
        } else {
            set.insert(Capability::parse(item)?);
        }
    }
    Ok((has_all, set))
}

/// Apply `--cap-add` and `--cap-drop` as Docker does: `ALL` in the adds gives every
/// capability but the dropped ones; otherwise `ALL` in the drops keeps only the adds;
/// otherwise the base minus the drops, plus the adds.
pub fn tweak(
    base: CapSet,
    add: &[String],
    drop: &[String],
    all: CapSet,
) -> Result<CapSet, CapError> {
    let (add_all, adds) = parse_edits(add)?;
    let (drop_all, drops) = parse_edits(drop)?;
    Ok(if add_all {
        CapSet(all.0 & !drops.0)
    } else if drop_all {
        adds
    } else {
        CapSet((base.0 & !drops.0) | adds.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn docker_semantics() {
        let all = CapSet::all_known();
        let d = CapSet::docker_default();
        let sys_admin = Capability::parse("SYS_ADMIN").unwrap();
        let t = tweak(d, &v(&["sys_admin"]), &[], all).unwrap();
        assert!(t.contains(sys_admin) && t.len() == 15);
        let t = tweak(d, &v(&["NET_ADMIN"]), &v(&["ALL"]), all).unwrap();
        assert_eq!(t.len(), 1);
        let t = tweak(d, &v(&["ALL"]), &v(&["CAP_SYS_ADMIN"]), all).unwrap();
        assert_eq!(t.len(), 40);
        let t = tweak(d, &[], &v(&["chown,kill"]), all).unwrap();
        assert_eq!(t.len(), 12);
        assert!(tweak(d, &v(&["FLY"]), &[], all).is_err());
        assert_eq!(parse_base("none", all).unwrap(), CapSet::EMPTY);
        assert_eq!(parse_base("CAP_CHOWN,kill", all).unwrap().len(), 2);
    }
}
