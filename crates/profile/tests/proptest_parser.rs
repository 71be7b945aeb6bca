//! The parser never panics, whatever it is fed, and every failure is located inside the input.

use confine_profile::{parse_profile, Severity};
use proptest::prelude::*;

use confine_test_support::fixtures::DOCKER_DEFAULT as DOCKER;

fn check(bytes: &[u8]) {
    let p = parse_profile(bytes, "fuzz.json");
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    for d in &p.diagnostics {
        assert!(d.line >= 1 && d.line <= lines, "{d:?}");
        assert!(d.column >= 1);
    }
    if p.diagnostics.iter().any(|d| d.severity == Severity::Error) {
        assert!(p.profile.is_none());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }

    #[test]
    fn mutated_docker_profile(edits in proptest::collection::vec((0..DOCKER.len(), any::<u8>(), 0u8..3), 1..8)) {
        let mut b = DOCKER.to_vec();
        for (pos, byte, kind) in edits {
            let pos = pos.min(b.len().saturating_sub(1));
            match kind {
                0 => b[pos] = byte,
                1 => { b.remove(pos); }
                _ => b.insert(pos, byte),
            }
        }
        check(&b);
    }

    #[test]
    fn json_shaped_noise(s in r#"[\{\}\[\]",:0-9a-zA-Z_ \n-]{0,300}"#) {
        check(s.as_bytes());
    }
}

#[test]
fn deep_and_huge_inputs_are_refused_cleanly() {
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let p = parse_profile(deep.as_bytes(), "deep.json");
    assert!(
        p.diagnostics[0].message.contains("nesting"),
        "{:?}",
        p.diagnostics
    );
    let huge = vec![b' '; (16 << 20) + 1];
    let p = parse_profile(&huge, "huge.json");
    assert_eq!(p.diagnostics[0].code, "too-large");
}
