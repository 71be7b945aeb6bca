# Build the filter runc would build with libseccomp (Debian's python3-seccomp, same libseccomp
# as Debian's runc), from a resolved OCI seccomp profile, and export it as raw BPF.
# Usage: /usr/bin/python3 runc_libseccomp.py PROFILE.json NATIVE_ARCH OUT.bpf [opt_level]
# Prints JSON: {"unknown": [names libseccomp cannot resolve], "conflict": null | "name"}
import json, sys, seccomp

prof = json.load(open(sys.argv[1]))
native = sys.argv[2]
out = sys.argv[3]
opt = int(sys.argv[4]) if len(sys.argv) > 4 else 1

ARCH = {k: getattr(seccomp.Arch, k) for k in dir(seccomp.Arch) if k.isupper()}
OPS = {"SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT, "SCMP_CMP_LE": seccomp.LE,
       "SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_GE": seccomp.GE, "SCMP_CMP_GT": seccomp.GT,
       "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}

def action(name, errno):
    # runc getAction()
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return seccomp.KILL
    if name == "SCMP_ACT_KILL_PROCESS":
        return seccomp.KILL_PROCESS
    if name == "SCMP_ACT_ERRNO":
        return seccomp.ERRNO(1 if errno is None else errno)
    if name == "SCMP_ACT_TRACE":
        return seccomp.TRACE(1 if errno is None else errno)
    if name == "SCMP_ACT_TRAP":
        return seccomp.TRAP
    if name == "SCMP_ACT_ALLOW":
        return seccomp.ALLOW
    if name == "SCMP_ACT_LOG":
        return seccomp.LOG
    if name == "SCMP_ACT_NOTIFY":
        return seccomp.NOTIFY
    raise ValueError(name)

default = action(prof["defaultAction"], prof.get("defaultErrnoRet"))
f = seccomp.SyscallFilter(default)
arch_name = native.replace("SCMP_ARCH_", "")
if ARCH[arch_name] != seccomp.Arch.NATIVE and not f.exist_arch(ARCH[arch_name]):
    # remove the host's arch first: libseccomp refuses to mix byte orders in one filter
    f.remove_arch(seccomp.Arch.NATIVE)
    f.add_arch(ARCH[arch_name])
for a in prof.get("architectures", []):
    a = ARCH[a.replace("SCMP_ARCH_", "")]
    if not f.exist_arch(a):
        f.add_arch(a)
if opt != 1:
    f.set_attr(seccomp.Attr.CTL_OPTIMIZE, opt)

unknown, conflict = [], None
for rule in prof["syscalls"]:
    act = action(rule["action"], rule.get("errnoRet"))
    if act == default:
        continue
    args = rule.get("args") or []
    conds = [seccomp.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in args]
    counts = {}
    for a in args:
        counts[a["index"]] = counts.get(a["index"], 0) + 1
    groups = [[c] for c in conds] if any(v > 1 for v in counts.values()) else [conds]
    for name in rule["names"]:
        try:
            known = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) != -1
        except Exception:
            known = False
        if not known:
            if name not in unknown:
                unknown.append(name)
            continue
        for g in groups:
            try:
                f.add_rule(act, name, *g)
            except Exception as e:
                conflict = conflict or name
f.export_bpf(open(out, "wb"))
print(json.dumps({"unknown": unknown, "conflict": conflict}))
