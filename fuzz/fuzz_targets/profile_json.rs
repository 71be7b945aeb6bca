//! The JSON parser and the profile model on arbitrary bytes: never a panic; every syntax error
//! and every diagnostic is located inside the input; the parser accepts what serde_json accepts
//! (both strict RFC 8259 JSON) up to its depth bound; a parsed profile resolves and is written
//! back as JSON that parses to the same profile.
#![no_main]

use confine_profile::{json, parse_profile, resolve, Host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tree = json::parse(data);
    if let Err(e) = &tree {
        assert!(e.at <= data.len(), "error at {} of {}", e.at, data.len());
    }
    // serde_json as the oracle on documents within both parsers' depth bound
    if let Ok(text) = std::str::from_utf8(data) {
        let depth = text.bytes().filter(|b| *b == b'[' || *b == b'{').count();
        if depth < 100 {
            let theirs = serde_json::from_str::<serde_json::Value>(text);
            // serde_json (without arbitrary_precision, which would change the library's own
            // serde_json in this build) stops at a number beyond f64's range; JSON's grammar
            // has no range, and the parser keeps a number's text: no oracle for such an input
            let out_of_range = theirs
                .as_ref()
                .is_err_and(|e| e.to_string().starts_with("number out of range"));
            if !out_of_range {
                assert_eq!(
                    tree.is_ok(),
                    theirs.is_ok(),
                    "confine {:?}, serde_json {:?}",
                    tree.as_ref().err(),
                    theirs.as_ref().err()
                );
            }
        }
    }
    let parsed = parse_profile(data, "fuzz.json");
    confine_fuzz::assert_located(&parsed.diagnostics, data);
    if let Some(p) = &parsed.profile {
        let host = Host {
            arch: confine_abi::Arch::X86_64,
            caps: confine_abi::CapSet::docker_default(),
            kernel: confine_profile::KernelVersion {
                kernel: 6,
                major: 1,
            },
        };
        let _ = resolve(p, &host);
        let again = confine_profile::emit::profile_to_json(p);
        let reparsed = parse_profile(again.as_bytes(), "again.json");
        assert!(
            reparsed.profile.is_some(),
            "emitted profile does not parse: {:?}\n{again}",
            reparsed.diagnostics
        );
    }
});
