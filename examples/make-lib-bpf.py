# Writes examples/lib.bpf: the seccomp program Debian 12's libseccomp 2.5.4 generates for a small
# filter on x86_64 with x86 and x32 (the README's `confine seccomp disasm` example).
# Usage, from the repository root (Debian's python3-seccomp, for the system python):
#   /usr/bin/python3 examples/make-lib-bpf.py examples/lib.bpf
import errno
import sys

import seccomp

# Every call not named below fails with EPERM; a call of an architecture other than the three
# gets libseccomp's default bad-architecture action, KILL (SECCOMP_RET_KILL_THREAD).
f = seccomp.SyscallFilter(seccomp.ERRNO(errno.EPERM))
f.add_arch(seccomp.Arch.X86)  # the native x86_64 is there already
f.add_arch(seccomp.Arch.X32)
for name in ("read", "write", "getpid", "exit_group"):
    f.add_rule(seccomp.ALLOW, name)
# What runc does for clone3: ENOSYS, so that libc falls back to clone.
f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
# An argument check: personality(0) only.
f.add_rule(seccomp.ALLOW, "personality", seccomp.Arg(0, seccomp.EQ, 0))

with open(sys.argv[1], "wb") as out:
    f.export_bpf(out)
