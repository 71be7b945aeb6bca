//! `confine seccomp lint` against what an attacker's review of it found (issue 18): ways out
//! it once missed, each checked here by lint and, where the kernel can show it, by the real
//! kernel; and a correct filter it once flagged.

use confine_test_support::run::confine;
use serde_json::{json, Value};
use std::path::Path;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lint(args: &[&str]) -> Value {
    let mut a = vec![
        "seccomp",
        "lint",
        "--json",
        "--arch",
        "amd64",
        "--fail-on",
        "never",
    ];
    a.extend(args);
    let o = confine(&a);
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn findings<'a>(r: &'a Value, id: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

fn has(r: &Value, id: &str, syscall: &str) -> bool {
    findings(r, id).iter().any(|f| {
        f["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().starts_with(syscall))
    })
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

/// The action of one call as `seccomp eval --json` decides it.
fn eval(profile: &[&str], abi: &str, call: &[&str]) -> String {
    let mut a = vec!["seccomp", "eval", "--json", "--arch", "amd64", "--abi", abi];
    a.extend(profile);
    a.extend(call);
    let o = confine(&a);
    assert!(o.status.success(), "{a:?}: {}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["action"].as_str().unwrap().to_string()
}

/// Docker's default allows i386's socketcall whatever its arguments: socket's family rules
/// (AF_VSOCK, AF_ALG) do not hold for a 32-bit call, whose arguments are in memory. Lint
/// says so, and a 32-bit call from a process under `confine run` creates the socket.
#[test]
fn dockers_socket_rules_through_socketcall() {
    let r = lint(&["docker-default"]);
    let f = findings(&r, "abi-bypass");
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["abis"], json!(["x86"]));
    assert_eq!(f[0]["syscalls"], json!(["socket (socketcall(1))"]));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint/int80.py");
    let o = confine(&[
        "run",
        "--",
        "python3",
        script.to_str().unwrap(),
        "socket",
        "40",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let fd: i64 = text(&o.stdout).trim().parse().unwrap();
    // -EAFNOSUPPORT would mean no vsock in this kernel; -EPERM the filter refused it
    assert_ne!(
        fd, -1,
        "socketcall(SYS_SOCKET, AF_VSOCK) was refused by the filter"
    );
    assert!(fd >= 0 || fd == -97, "socketcall: {fd}");
}

/// A deny rule matching CLONE_NEWUSER only alone, under the mask of every namespace flag,
/// lets CLONE_NEWUSER with any other flag through; an `==` rule lets the i386 call through.
#[test]
fn user_namespaces_with_another_flag() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |op: &str, value: u64, two: u64| {
        json!({"names": ["unshare", "clone"], "action": "SCMP_ACT_ERRNO",
               "args": [{"index": 0, "value": value, "valueTwo": two, "op": op}]})
    };
    let profile = |r: Value| {
        json!({"defaultAction": "SCMP_ACT_ALLOW",
               "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
               "syscalls": [r, {"names": ["clone3", "setns"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]})
    };
    let masked = write(
        dir.path(),
        "masked.json",
        &profile(rule("SCMP_CMP_MASKED_EQ", 0x7e02_0080, 0x1000_0000)),
    );
    let r = lint(&[&masked]);
    for name in ["unshare", "clone"] {
        let f = findings(&r, "user-namespaces")
            .into_iter()
            .find(|f| f["syscalls"][0] == name)
            .unwrap_or_else(|| panic!("no user-namespaces finding for {name}: {r:#}"))
            .clone();
        let e = &f["examples"][0];
        let args: Vec<String> = e["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        let mut call = vec![name];
        call.extend(args.iter().map(String::as_str));
        assert_eq!(
            eval(&["--profile", &masked], "x86_64", &call),
            "ALLOW",
            "{f:#}"
        );
        let a0 = u64::from_str_radix(args[0].trim_start_matches("0x"), 16).unwrap();
        assert!(
            a0 & 0x1000_0000 != 0 && a0 >> 32 == 0,
            "a flag value a program passes: {a0:#x}"
        );
    }
    let eq = write(
        dir.path(),
        "eq.json",
        &profile(rule("SCMP_CMP_EQ", 0x1000_0000, 0)),
    );
    let r = lint(&[&eq]);
    let f = findings(&r, "user-namespaces")
        .into_iter()
        .find(|f| f["syscalls"][0] == "unshare")
        .unwrap_or_else(|| panic!("{r:#}"))
        .clone();
    assert!(
        f["abis"].as_array().unwrap().contains(&json!("x86")),
        "{f:#}"
    );
}

/// Deny lists and the i386 ABI: ipc's version bits (the kernel reads call & 0xffff),
/// umount as i386's name for umount2, kill's signal read as an `int`.
#[test]
fn deny_list_ways_round() {
    let dir = tempfile::tempdir().unwrap();
    let deny = write(
        dir.path(),
        "deny.json",
        &json!({"defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                "syscalls": [
                    {"names": ["shmget", "umount2"], "action": "SCMP_ACT_ERRNO"},
                    {"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                     "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]}]}),
    );
    let r = lint(&[&deny]);
    assert!(
        has(&r, "abi-bypass", "shmget (ipc(0x10017), version bits set)"),
        "{r:#}"
    );
    assert_eq!(
        eval(&["--profile", &deny], "x86", &["ipc", "0x10017"]),
        "ALLOW"
    );
    assert_eq!(
        eval(&["--profile", &deny], "x86", &["ipc", "23"]),
        "ERRNO(EPERM)"
    );
    assert!(has(&r, "abi-bypass", "umount2 (as umount)"), "{r:#}");
    assert!(has(&r, "arg-width-bypass", "kill"), "{r:#}");
}

/// Raw programs: bit checks lint must solve, and paths it cannot solve, which it must report
/// as undecided instead of as refused; a correct filter with arch checks is not flagged.
#[test]
fn raw_programs_solved_or_undecided() {
    let dir = tempfile::tempdir().unwrap();
    let insn = |code: u16, jt: u8, jf: u8, k: u32| {
        let mut v = code.to_ne_bytes().to_vec();
        v.extend([jt, jf]);
        v.extend(k.to_ne_bytes());
        v
    };
    const LD: u16 = 0x20;
    const JEQ: u16 = 0x15;
    const JGE: u16 = 0x35;
    const JSET: u16 = 0x45;
    const RET: u16 = 0x06;
    const RET_A: u16 = 0x16;
    const RSH: u16 = 0x74;
    const ALLOW: u32 = 0x7fff_0000;
    const EPERM: u32 = 0x0005_0001;
    const KILL: u32 = 0x8000_0000;
    // x86_64 only; every call but unshare allowed; unshare decided by `body`
    let prog = |body: Vec<Vec<u8>>| -> String {
        let mut p = vec![
            insn(LD, 0, 0, 4),
            insn(JEQ, 1, 0, 0xc000_003e),
            insn(RET, 0, 0, KILL),
            insn(LD, 0, 0, 0),
            insn(JEQ, 1, 0, 272),
            insn(RET, 0, 0, ALLOW),
        ];
        p.extend(body);
        let f = dir
            .path()
            .join(format!("p{}.bpf", p.len() * 1000 + p[7][0] as usize));
        std::fs::write(&f, p.concat()).unwrap();
        f.to_str().unwrap().to_string()
    };
    // bit 28 and bit 17 set, bits 30 and 31 clear
    let bits = prog(vec![
        insn(LD, 0, 0, 16),
        insn(JSET, 0, 4, 1 << 28),
        insn(JSET, 0, 3, 1 << 17),
        insn(JSET, 2, 0, 1 << 30),
        insn(JSET, 1, 0, 1 << 31),
        insn(RET, 0, 0, ALLOW),
        insn(RET, 0, 0, EPERM),
    ]);
    let r = lint(&["--bpf", &bits]);
    assert!(has(&r, "user-namespaces", "unshare"), "{r:#}");
    // a computed comparison (arg0 >> 16 == 0x1002) and a computed return value (ret A)
    let alu = prog(vec![
        insn(LD, 0, 0, 16),
        insn(RSH, 0, 0, 16),
        insn(JEQ, 0, 1, 0x1002),
        insn(RET, 0, 0, ALLOW),
        insn(RET, 0, 0, EPERM),
    ]);
    let ret_a = prog(vec![insn(LD, 0, 0, 24), insn(RET_A, 0, 0, 0)]);
    for (p, why) in [
        (&alu, "tests a computed value"),
        (&ret_a, "returns a computed value"),
    ] {
        let r = lint(&["--bpf", p]);
        let u = findings(&r, "undecided");
        assert_eq!(u.len(), 1, "{r:#}");
        let listed = u[0]["syscalls"].as_array().unwrap();
        assert!(
            listed
                .iter()
                .any(|s| s.as_str().unwrap().starts_with("unshare on amd64")
                    && s.as_str().unwrap().contains(why)),
            "{u:#?}"
        );
        // not on amd64 (x32's unshare, another number, is allowed by this program)
        let on_amd64 = findings(&r, "user-namespaces").iter().any(|f| {
            f["syscalls"][0] == "unshare" && f["abis"].as_array().unwrap().contains(&json!("amd64"))
        });
        assert!(!on_amd64, "{r:#}");
    }
    // a correct allow list that refuses i386 and x32 by their own checks
    let archneg = dir.path().join("archneg.bpf");
    let p = [
        insn(LD, 0, 0, 4),
        insn(JEQ, 0, 1, 0x4000_0003),
        insn(RET, 0, 0, KILL),
        insn(LD, 0, 0, 0),
        insn(JGE, 0, 1, 0x4000_0000),
        insn(RET, 0, 0, KILL),
        insn(JEQ, 0, 1, 39),
        insn(RET, 0, 0, ALLOW),
        insn(RET, 0, 0, EPERM),
    ];
    std::fs::write(&archneg, p.concat()).unwrap();
    let r = lint(&["--bpf", archneg.to_str().unwrap()]);
    assert!(findings(&r, "abi-bypass").is_empty(), "{r:#}");
    assert!(findings(&r, "undecided").is_empty(), "{r:#}");
}
