//! Developer probe: run a raw program on x86_64 getpid with argument vectors given on the
//! command line (`a0,a1 a0,a1 …`) and print the verdicts.
use confine_bpf::{action, decode, Emulator, SeccompData};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("program file");
    let prog = decode(&std::fs::read(path).expect("read")).expect("decode");
    let emu = Emulator::new(&prog).expect("valid");
    for v in args {
        let mut a = [0u64; 6];
        for (i, x) in v.split(',').enumerate() {
            a[i] = x.parse().expect("number");
        }
        let r = emu.run(
            &SeccompData {
                nr: 39,
                arch: 0xc000_003e,
                args: a,
                ..Default::default()
            },
            true,
        );
        println!("{v}: {}", action::describe(r.ret));
    }
}
