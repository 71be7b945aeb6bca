# Build the filter runc would build with libseccomp (Debian's python3-seccomp, same libseccomp
# as Debian's runc), from a resolved OCI seccomp profile, and export it as raw BPF.
# Usage: /usr/bin/python3 runc_libseccomp.py PROFILE.json NATIVE_ARCH OUT.bpf [opt_level]
#        /usr/bin/python3 runc_libseccomp.py --batch JOBS.json   (a list of [profile, native, out, opt])
# Prints JSON: {"unknown": [names libseccomp cannot resolve], "conflict": null | "name",
#               "absent": [[ARCH, name]: names it resolves natively but not on the filter's ARCH]}
# (one line per job in batch mode)
import json, sys, seccomp

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

def build(prof, native, out, opt):
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

  arches = [arch_name] + [a.replace("SCMP_ARCH_", "") for a in prof.get("architectures", [])]
  unknown, conflict, absent = [], None, []
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
          for a in arches:
              # a pseudo-syscall number (< 0): libseccomp has no number for the name there
              if seccomp.resolve_syscall(ARCH[a], name) < 0 and [a, name] not in absent:
                  absent.append([a, name])
          for g in groups:
              try:
                  f.add_rule(act, name, *g)
              except Exception as e:
                  conflict = conflict or name
  f.export_bpf(open(out, "wb"))
  return {"unknown": unknown, "conflict": conflict, "absent": absent}

def run_limited(prof, native, out, opt, seconds=5):
    # libseccomp 2.5.4 can loop forever on some rule sets (runc would hang the same way): build
    # each filter in a child process and give up after a few seconds.
    import os, signal, time
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        try:
            res = build(prof, native, out, opt)
        except Exception as e:
            res = {"unknown": [], "conflict": None, "error": str(e)}
        os.write(wr, json.dumps(res).encode())
        os._exit(0)
    os.close(wr)
    deadline = time.time() + seconds
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.time() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(rd)
            return {"unknown": [], "conflict": None, "hang": True}
        time.sleep(0.0005)
    data = b""
    while True:
        chunk = os.read(rd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rd)
    return json.loads(data)

if sys.argv[1] == "--batch":
    for prof_path, native, out, opt in json.load(open(sys.argv[2])):
        print(json.dumps(run_limited(json.load(open(prof_path)), native, out, opt)), flush=True)
else:
    opt = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    print(json.dumps(build(json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], opt)))
