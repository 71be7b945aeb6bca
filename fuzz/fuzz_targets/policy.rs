//! The file-and-network policy loader (YAML or JSON) on arbitrary bytes: never a panic, every
//! diagnostic located inside the input, and a loaded policy lowers to a Landlock plan for every
//! ABI under both compatibility modes without a panic.
#![no_main]

use confine_policy::landlock::{landlock, Compat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let loaded = confine_policy::load("fuzz.yaml", data);
    confine_fuzz::assert_located(&loaded.diagnostics, data);
    if let Some(p) = &loaded.policy {
        for abi in 0..=7 {
            for compat in [Compat::BestEffort, Compat::Require] {
                if let Ok(plan) = landlock(p, abi, compat) {
                    let _ = plan.widening_diagnostics("fuzz.yaml");
                }
            }
        }
    }
});
