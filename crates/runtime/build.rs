//! Compiles the builtin docker-default seccomp profile ahead of time, for the target's
//! architecture and Docker's default capabilities, once per kernel-version bucket (the profile's
//! `minKernel` values split kernels into buckets that resolve alike). `confine run` without
//! options then installs a ready program instead of resolving and compiling at every start
//! (about a millisecond of its start-up); any other profile, capability set or architecture is
//! compiled at run time as before. A test checks that the embedded programs equal what the
//! compiler produces at run time.

use confine_abi::{Arch, CapSet};
use confine_profile::{builtin, Flag, Host, KernelVersion, Source};
use std::fmt::Write as _;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets the target arch");
    let le = std::env::var("CARGO_CFG_TARGET_ENDIAN").as_deref() != Ok("big");
    let arch = Arch::for_target(&target, le);
    let mut starts = vec![KernelVersion {
        kernel: 0,
        major: 0,
    }];
    starts.extend(builtin::kernel_thresholds());
    let mut out = String::new();
    writeln!(
        out,
        "/// The architecture the programs below were compiled for.\npub const ARCH: &str = {:?};",
        arch.kernel_name()
    )
    .unwrap();
    out.push_str("/// One program per kernel bucket, ascending.\n");
    out.push_str("pub static BUCKETS: &[Bucket] = &[\n");
    for k in starts {
        let host = Host {
            arch,
            caps: CapSet::docker_default(),
            kernel: k,
        };
        let compiled = confine_seccomp::compile(&Source::Builtin, &host, Default::default())
            .expect("the builtin profile compiles");
        let (policy, prog) = (&compiled.policy, &compiled.program);
        let mut insns = String::new();
        for i in prog {
            write!(
                insns,
                "Insn {{ code: {}, jt: {}, jf: {}, k: {} }}, ",
                i.code, i.jt, i.jf, i.k
            )
            .unwrap();
        }
        let f = |x: Flag| policy.flags.contains(&x);
        writeln!(
            out,
            "    Bucket {{ from: ({}, {}), prog: &[{insns}], log: {}, spec_allow: {}, wait_killable_recv: {} }},",
            k.kernel,
            k.major,
            f(Flag::Log),
            f(Flag::SpecAllow),
            f(Flag::WaitKillableRecv)
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(format!("{dir}/builtin_filters.rs"), out).expect("write OUT_DIR");
}
