//! Compare every syscall-table entry, for every supported architecture, with libseccomp's
//! resolver (`scmp_sys_resolver` from Debian's `seccomp` package, which .ci/run installs).
//!
//! libseccomp 2.5.4 (Debian 12) knows syscalls up to Linux 6.5 and no loongarch64: entries it
//! does not know are listed, not failed. A number it resolves differently fails the test, and so
//! does a syscall number libseccomp names that confine's table lacks.

use confine_abi::{Arch, SyscallTable};
use std::process::Command;

fn resolver() -> &'static str {
    let path = "/usr/bin/scmp_sys_resolver";
    assert!(
        std::path::Path::new(path).exists(),
        "{path} is missing: install Debian's `seccomp` package (.ci/run does)"
    );
    path
}

/// Resolve a batch of queries with one `scmp_sys_resolver` process per query, on 4 threads.
fn resolve_all(arch: &str, queries: Vec<String>) -> Vec<(String, String)> {
    let chunks: Vec<Vec<String>> = queries
        .chunks(queries.len().div_ceil(4).max(1))
        .map(|c| c.to_vec())
        .collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let arch = arch.to_string();
            std::thread::spawn(move || {
                chunk
                    .into_iter()
                    .map(|q| {
                        let out = Command::new(resolver())
                            .args(["-a", &arch, &q])
                            .output()
                            .expect("run scmp_sys_resolver");
                        (q, String::from_utf8_lossy(&out.stdout).trim().to_string())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

fn libseccomp_knows_arch(arch: &str) -> bool {
    Command::new(resolver())
        .args(["-a", arch, "read"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn every_entry_matches_libseccomp() {
    let mut checked_total = 0;
    let mut failures = Vec::new();
    let mut report = Vec::new();
    let mut unknown_on_x86 = std::collections::BTreeSet::new();
    let mut pseudo_x32 = Vec::new();
    for arch in Arch::supported() {
        let name = arch.kernel_name();
        let table = SyscallTable::for_arch(arch).unwrap();
        if !libseccomp_knows_arch(name) {
            report.push(format!(
                "{name}: libseccomp does not know this arch; {} entries unchecked",
                table.len()
            ));
            continue;
        }
        // name -> number
        let by_name = resolve_all(name, table.entries().map(|(_, n)| n.to_string()).collect());
        let mut unknown = Vec::new();
        let mut pseudo = Vec::new();
        let mut agreed = 0;
        for (sys, got) in by_name {
            let ours = table.number(&sys).unwrap();
            match got.parse::<i64>() {
                Ok(n) if n == ours as i64 => agreed += 1,
                Ok(-1) => unknown.push(sys),
                // libseccomp < 2.6 turns socket and ipc calls of some ABIs into negative
                // "pseudo-syscall" numbers that it multiplexes through socketcall/ipc.
                Ok(n) if n < -1 => pseudo.push(sys),
                _ => failures.push(format!(
                    "{name}: {sys} is {ours} in confine, {got} in libseccomp"
                )),
            }
        }
        if matches!(arch, Arch::X86_64 | Arch::X32 | Arch::X86) {
            unknown_on_x86.extend(unknown.iter().cloned());
        }
        if arch == Arch::X32 {
            pseudo_x32 = pseudo.clone();
        }
        // number -> name: numbers libseccomp names that confine lacks
        let first = table.entries().next().unwrap().0;
        let base = if first >= 0x4000_0000 {
            0x4000_0000
        } else {
            first / 1000 * 1000
        };
        let top = table
            .entries()
            .filter(|&(nr, _)| nr < base + 1000)
            .map(|e| e.0)
            .max()
            .unwrap();
        let missing: Vec<String> = (base..=top)
            .filter(|&nr| table.name_of(nr).is_none())
            .map(|nr| nr.to_string())
            .collect();
        for (nr, got) in resolve_all(name, missing) {
            if got != "UNKNOWN" && !got.is_empty() && got.parse::<i64>().is_err() {
                failures.push(format!(
                    "{name}: libseccomp names {nr} `{got}`, confine has no entry"
                ));
            }
        }
        checked_total += agreed;
        report.push(format!(
            "{name}: {} entries, {agreed} agree with libseccomp, {} pseudo-syscalls there ({}), {} unknown to libseccomp 2.5.4{}",
            table.len(),
            pseudo.len(),
            pseudo.join(" "),
            unknown.len(),
            if unknown.is_empty() {
                String::new()
            } else {
                format!(": {}", unknown.join(" "))
            }
        ));
    }
    for line in &report {
        eprintln!("{line}");
    }
    eprintln!("total entries agreeing with libseccomp: {checked_total}");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked_total > 4000);
    let listed: std::collections::BTreeSet<String> =
        confine_abi::syscalls::UNKNOWN_TO_LIBSECCOMP_2_5_4
            .iter()
            .map(|s| s.to_string())
            // libseccomp 2.5.4 knows map_shadow_stack (453 on x86_64 and i386) but gives x32 a
            // pseudo number for it (x32 has had it since Linux 6.10): listed, but not `unknown`
            .filter(|s| s != "map_shadow_stack")
            .collect();
    assert!(
        pseudo_x32.iter().any(|s| s == "map_shadow_stack"),
        "x32 pseudo-syscalls: {pseudo_x32:?}"
    );
    assert_eq!(
        unknown_on_x86, listed,
        "UNKNOWN_TO_LIBSECCOMP_2_5_4 against scmp_sys_resolver on x86_64, x32 and x86"
    );
}
