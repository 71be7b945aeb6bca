//! Structure-aware: a generated Docker/OCI profile is parsed, resolved, compiled by the
//! optimised and the reference generators, and each program, emulated, decides every sampled
//! (arch, nr, args) as the policy does.
#![no_main]

use confine_fuzz::profile::{compile, GenProfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|g: GenProfile| compile(&g));
