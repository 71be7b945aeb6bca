//! Offline golden test: confine's rendering of docker-default, with the parameters moby's
//! golden file was rendered with, compiles to the same binary policy as that file, with the
//! AppArmor feature set captured from a real Debian 6.1 kernel (compiling with it on the host is
//! byte-identical to compiling in that kernel). Needs Debian's apparmor_parser (.ci/run
//! installs the `apparmor` package).

use confine_apparmor::parser::{self, ParserOptions};
use confine_apparmor::template::{render, Params};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    confine_test_support::fixtures::dir().join("apparmor")
}

fn parser_path() -> PathBuf {
    confine_apparmor::detect::find_parser()
        .expect("apparmor_parser is required (apt-get install apparmor)")
}

#[test]
fn rendering_compiles_to_the_golden_policy() {
    let features = fixtures().join("kernel-6.1-debian.features");
    let golden = std::fs::read_to_string(fixtures().join("docker-default.golden")).unwrap();
    let opts = ParserOptions::default();
    let want = parser::compile(&parser_path(), &golden, &features, &opts).unwrap();
    let ours = render(&Params::golden());
    assert_ne!(ours, golden, "the text is confine's own, not a copy");
    let got = parser::compile(&parser_path(), &ours, &features, &opts).unwrap();
    assert_eq!(
        want.len(),
        7369,
        "the notes' check value for the golden file"
    );
    assert!(
        got == want,
        "binary policy differs: {} vs {} bytes",
        got.len(),
        want.len()
    );
}

#[test]
fn a_changed_rule_changes_the_policy() {
    // the comparison above can fail: dropping one deny rule gives different policy
    let features = fixtures().join("kernel-6.1-debian.features");
    let opts = ParserOptions::default();
    let ours = render(&Params::golden());
    let weaker = ours.replace("  deny /sys/firmware/** rwklx,\n", "");
    assert_ne!(weaker, ours);
    let a = parser::compile(&parser_path(), &ours, &features, &opts).unwrap();
    let b = parser::compile(&parser_path(), &weaker, &features, &opts).unwrap();
    assert_ne!(a, b);
}

#[test]
fn parser_errors_keep_the_line_number() {
    let features = fixtures().join("kernel-6.1-debian.features");
    let broken = "profile broken {\n  file,\n  deny /secret rz,\n}\n";
    let e = parser::compile(&parser_path(), broken, &features, &ParserOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("at line 3"), "{e}");
}

#[test]
fn profile_names_come_from_the_parser() {
    let text = render(&Params::golden());
    let names = parser::profile_names(&parser_path(), &text, &ParserOptions::default()).unwrap();
    assert_eq!(names, ["default"]);
}
