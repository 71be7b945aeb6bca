#!/usr/bin/env python3
"""Generate confine's syscall tables (crates/abi/tables/*.tsv).

Sources (facts, cited, not code):
  * the kernel's own syscall tables (`*.tbl`) from Debian's linux-source-6.12: the authority for
    every ABI up to 6.12 (the generic scripts/syscall.tbl with each arch's ABI list for arm64,
    riscv64 and loongarch64);
  * the `syscalls` crate 0.8.1 (tables to Linux 6.17): the syscalls added after 6.12, and a
    cross-check (a number that differs from the kernel's stops the script);
  * arch/arm/include/uapi/asm/unistd.h for ARM's private syscalls (0x0f0001..0x0f0006).

Syscalls added after 6.12 are carried over from the crate's 64-bit table to x32, s390 and n32 (the
script asserts none of them exists in the 6.12 table under another number). The crate has no ABI
column, so which of them are x86-64-only is stated here (X86_64_ONLY_AFTER_6_12, empty up to 6.18):
x32 takes every `common` entry of syscall_64.tbl, whatever its number (uprobe = 336 sits in the old
range and is `common`). The 6.12 table's own `64` entries are checked to be either renumbered in
the x32 range (512..547) or unimplemented, so x32 = `common` + `x32` loses nothing.

Usage:
  cargo fetch --manifest-path <a scratch crate depending on syscalls = "=0.8.1">
  apt-get download linux-source-6.12 && dpkg-deb -x linux-source-6.12_*.deb x \
      && tar -xf x/usr/src/linux-source-6.12.tar.xz --wildcards '*.tbl'
  tools/gen-syscall-tables.py --crate ~/.cargo/registry/src/*/syscalls-0.8.1 \
      --kernel linux-source-6.12 --out crates/abi/tables
"""
import argparse
import os
import re
import sys

X32_BIT = 0x40000000

# confine table name -> (crate file, numbering note)
CRATE_ARCHES = {
    "x86_64": "x86_64.rs",
    "x86": "x86.rs",
    "aarch64": "aarch64.rs",  # rebuilt from the kernel's generic table, see GENERIC
    "arm": "arm.rs",
    "riscv64": "riscv64.rs",
    "ppc64": "powerpc64.rs",
    "ppc": "powerpc.rs",
    "s390x": "s390x.rs",
    "mips": "mips.rs",
    "mips64": "mips64.rs",
    "loongarch64": "loongarch64.rs",
}

# Architectures on the kernel's generic table (scripts/syscall.tbl): the ABIs each one takes, from
# arch/*/kernel/Makefile.syscalls. The crate lists the 32-bit-only time64 calls (403..423) for
# aarch64 too, which the arm64 kernel does not implement; the kernel's table is the authority.
GENERIC = {
    "aarch64": {"common", "64", "renameat", "rlimit", "memfd_secret"},
    "riscv64": {"common", "64", "riscv", "rlimit", "memfd_secret"},
    "loongarch64": {"common", "64"},
}

# x86-64 syscalls added after 6.12 whose syscall_64.tbl ABI is `64` (so not x32): none up to 6.18.
# The recent x86 additions, all `common`, hence x32's too:
#   335 common uretprobe sys_uretprobe          (6.11; 6.12.118 syscall_64.tbl line 347)
#   336 common uprobe sys_uprobe                (6.18; commit 56101b69c919 "uprobes/x86: Add uprobe
#                                                syscall to speed up uprobe")
#   453 common map_shadow_stack sys_map_shadow_stack   (`64` until 6.10's "x86/shstk: Enable shadow
#                                                stacks for x32"; 6.12.118 line 379)
X86_64_ONLY_AFTER_6_12 = set()

# ARM private syscalls: __ARM_NR_BASE (0x0f0000) + n, arch/arm/include/uapi/asm/unistd.h
ARM_PRIVATE = [("breakpoint", 1), ("cacheflush", 2), ("usr26", 3), ("usr32", 4),
               ("set_tls", 5), ("get_tls", 6)]



def read_crate(path):
    out = []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\s+(?:r#)?([a-z_0-9]+) = (\d+),\s*$", line)
        if m:
            out.append((m.group(1), int(m.group(2))))
    if not out:
        sys.exit(f"no entries in {path}")
    return out


def read_tbl(path, abis, offset=0):
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        nr, abi, name = int(f[0]), f[1], f[2]
        if abi in abis:
            out.append((name, nr + offset))
    return out


def merge_newer(base, crate64, kernel64, delta, bit=0, same_numbers=False, only64=frozenset()):
    """Add to `base` the syscalls that the crate's 64-bit table has and the 6.12 64-bit table
    lacks (the post-6.12 ones), renumbered by `delta` and tagged with `bit`, except the names in
    `only64`. A number inside the 6.12 range is carried over only where the compat ABI shares
    the 64-bit numbering (`same_numbers`: x32 is `common` + `x32`); elsewhere it stops the script."""
    names = {n for n, _ in base}
    used = {nr for _, nr in base}
    old = {n for n, _ in kernel64}
    top = max(nr for _, nr in kernel64 if nr < 512 + (kernel64[0][1] // 1000) * 1000)
    added = []
    for name, nr in crate64:
        if name in old:
            continue
        if name in only64:
            print(f"  skipped {name}={nr}: ABI `64` (x86-64 only)", file=sys.stderr)
            continue
        if nr <= top and not same_numbers:
            sys.exit(f"{name}={nr}: inside the 6.12 range, its number here is unknown")
        if name in names:
            sys.exit(f"{name}: already in the 6.12 table, cannot carry over")
        new = (nr + delta) | bit
        if new in used:
            sys.exit(f"{name}: number {new} already taken")
        added.append((name, new))
    return base + added


def check_x86_64_only(path):
    """Every `64` line of the 6.12 syscall_64.tbl is either renumbered for x32 (an `x32` line of
    the same name, 512..547) or has no implementation (no entry point, or sys_ni_syscall)."""
    rows = []
    for line in open(path, encoding="utf-8"):
        f = line.split("#", 1)[0].split()
        if f:
            rows.append(f)
    x32 = {f[2] for f in rows if f[1] == "x32"}
    for f in rows:
        if f[1] == "64" and f[2] not in x32 and len(f) > 3 and f[3] != "sys_ni_syscall":
            sys.exit(f"{path}: `64` entry {f[2]}={f[0]} has neither an x32 number nor no-op status")


def write(out_dir, arch, entries, sources):
    entries = sorted(set(entries), key=lambda e: (e[1], e[0]))
    seen = set()
    for n, _ in entries:
        if n in seen:
            sys.exit(f"{arch}: duplicate name {n}")
        seen.add(n)
    with open(os.path.join(out_dir, f"{arch}.tsv"), "w", encoding="utf-8") as f:
        f.write(f"# confine syscall table: {arch}; generated by tools/gen-syscall-tables.py\n")
        for s in sources:
            f.write(f"# source: {s}\n")
        for n, nr in entries:
            f.write(f"{n}\t{nr}\n")
    print(f"{arch}: {len(entries)} entries, highest {max(nr for _, nr in entries)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crate", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    k = a.kernel
    tbl = {
        "x86_64": (f"{k}/arch/x86/entry/syscalls/syscall_64.tbl", {"common", "64"}, 0),
        "x86": (f"{k}/arch/x86/entry/syscalls/syscall_32.tbl", {"i386"}, 0),
        "arm": (f"{k}/arch/arm/tools/syscall.tbl", {"common", "eabi"}, 0),
        "ppc64": (f"{k}/arch/powerpc/kernel/syscalls/syscall.tbl", {"common", "64", "nospu"}, 0),
        "ppc": (f"{k}/arch/powerpc/kernel/syscalls/syscall.tbl", {"common", "32", "nospu"}, 0),
        "s390x": (f"{k}/arch/s390/kernel/syscalls/syscall.tbl", {"common", "64"}, 0),
        "mips": (f"{k}/arch/mips/kernel/syscalls/syscall_o32.tbl", {"o32", "common"}, 4000),
        "mips64": (f"{k}/arch/mips/kernel/syscalls/syscall_n64.tbl", {"n64", "common"}, 5000),
    }
    for arch, abis in GENERIC.items():
        tbl[arch] = (f"{k}/scripts/syscall.tbl", abis, 0)
    # The kernel's 6.12 table is the authority; the crate contributes what came after 6.12.
    crate = {}
    for arch, fname in CRATE_ARCHES.items():
        newer = read_crate(os.path.join(a.crate, "src/arch", fname))
        kernel = read_tbl(*tbl[arch])
        knum = dict(kernel)
        used = set(knum.values())
        top = max(nr for _, nr in kernel if nr < 0x0F0000)
        for n, nr in newer:
            if n in knum and knum[n] != nr:
                sys.exit(f"{arch}: kernel 6.12 has {n}={knum[n]}, crate has {nr}")
        for n in sorted(set(knum) - {n for n, _ in newer}):
            print(f"  {arch}: crate lacks {n}={knum[n]}; kept from the kernel table", file=sys.stderr)
        added = []
        for n, nr in newer:
            if n in knum:
                continue
            if nr > top or (arch not in GENERIC and nr not in used):
                added.append((n, nr))
            else:
                print(f"  {arch}: dropped crate entry {n}={nr}: not in the kernel's table", file=sys.stderr)
        crate[arch] = kernel + added
        if added:
            print(f"  {arch}: post-6.12: {' '.join(f'{n}={nr}' for n, nr in added)}", file=sys.stderr)

    src_crate = "syscalls crate 0.8.1 (Linux 6.17)"
    src_k = "Linux 6.12 syscall tables (Debian linux-source-6.12), cross-checked"
    for arch, entries in crate.items():
        extra = []
        srcs = [src_k.replace(", cross-checked", f" ({'/'.join(sorted(tbl[arch][1]))} ABI)"),
                "post-6.12 entries from " + src_crate]
        if arch == "arm":
            extra = [(n, 0x0F0000 + i) for n, i in ARM_PRIVATE]
            srcs.append("ARM private syscalls: arch/arm/include/uapi/asm/unistd.h")
        write(a.out, arch, entries + extra, srcs)

    check_x86_64_only(f"{k}/arch/x86/entry/syscalls/syscall_64.tbl")
    x32 = read_tbl(f"{k}/arch/x86/entry/syscalls/syscall_64.tbl", {"common", "x32"})
    x32 = [(n, nr | X32_BIT) for n, nr in x32]
    x32 = merge_newer(x32, crate["x86_64"], read_tbl(*tbl["x86_64"]), 0, X32_BIT,
                      same_numbers=True, only64=X86_64_ONLY_AFTER_6_12)
    write(a.out, "x32", x32, [src_k.replace(", cross-checked", " (common + x32 ABI)"),
                              "post-6.12 common entries from " + src_crate])

    s390 = read_tbl(f"{k}/arch/s390/kernel/syscalls/syscall.tbl", {"common", "32"})
    s390 = merge_newer(s390, crate["s390x"], read_tbl(*tbl["s390x"]), 0)
    write(a.out, "s390", s390, [src_k.replace(", cross-checked", " (common + 32 ABI)"),
                                "post-6.12 common entries from " + src_crate])

    n32 = read_tbl(f"{k}/arch/mips/kernel/syscalls/syscall_n32.tbl", {"n32", "common"}, 6000)
    n32 = merge_newer(n32, crate["mips64"], read_tbl(*tbl["mips64"]), 1000)
    write(a.out, "mips64n32", n32, [src_k.replace(", cross-checked", " (n32 ABI, base 6000)"),
                                    "post-6.12 entries from " + src_crate + " n64, rebased"])


if __name__ == "__main__":
    main()
