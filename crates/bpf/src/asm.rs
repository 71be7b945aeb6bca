//! A tiny assembler: instructions with symbolic forward targets, laid out with the fewest
//! trampolines needed to keep every conditional offset within 8 bits.

use crate::insn::{class, op, Insn};

/// A jump target.
pub type Label = usize;

#[derive(Clone, Debug)]
enum Item {
    Bind(Label),
    Fixed(Insn),
    Cond {
        code: u16,
        k: u32,
        t: Label,
        f: Label,
    },
    Ja(Label),
}

/// Program under construction.
#[derive(Clone, Debug, Default)]
pub struct Asm {
    items: Vec<Item>,
    labels: usize,
}

/// An assembly failure: a backward jump (a generator bug) or an over-long program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsmError {
    /// The program would have this many instructions (> 4096).
    TooLong(usize),
    /// A jump to a label bound earlier: generators only jump forward.
    Backward(Label),
    /// A label used but never bound.
    Unbound(Label),
}

impl Asm {
    /// A fresh label.
    pub fn label(&mut self) -> Label {
        self.labels += 1;
        self.labels - 1
    }

    /// Place `l` here.
    pub fn bind(&mut self, l: Label) {
        self.items.push(Item::Bind(l));
    }

    /// A non-jump instruction.
    pub fn insn(&mut self, i: Insn) {
        self.items.push(Item::Fixed(i));
    }

    /// `ld [off]`
    pub fn ld(&mut self, off: u32) {
        self.insn(Insn::stmt(class::LD | op::W | op::ABS, off));
    }

    /// `ret #v`
    pub fn ret(&mut self, v: u32) {
        self.insn(Insn::stmt(class::RET | op::K, v));
    }

    /// A conditional jump (`op` is JEQ, JGT, JGE or JSET, with K).
    pub fn jump(&mut self, jop: u16, k: u32, t: Label, f: Label) {
        self.items.push(Item::Cond {
            code: class::JMP | jop | op::K,
            k,
            t,
            f,
        });
    }

    /// `ja l`
    pub fn ja(&mut self, l: Label) {
        self.items.push(Item::Ja(l));
    }

    /// Whether item `i` is a `ja` to a label bound right after it (only other labels between):
    /// it falls through and takes no instruction.
    fn falls_through(&self, i: usize) -> bool {
        let Item::Ja(l) = self.items[i] else {
            return false;
        };
        for it in &self.items[i + 1..] {
            match *it {
                Item::Bind(b) if b == l => return true,
                Item::Bind(_) => {}
                _ => return false,
            }
        }
        false
    }

    /// Lay the program out. A conditional jump whose target is more than 255 instructions away
    /// goes through a `ja` placed right after it; a `ja` to the next instruction is left out.
    pub fn finish(&self) -> Result<Vec<Insn>, AsmError> {
        // which conditional items need a trampoline for (true, false); `ja`s that fall through
        // are marked (true, true) and take no room
        let mut far = vec![(false, false); self.items.len()];
        for (i, f) in far.iter_mut().enumerate() {
            if self.falls_through(i) {
                *f = (true, true);
            }
        }
        loop {
            let (pos, label_at) = self.layout(&far);
            let mut changed = false;
            for (i, it) in self.items.iter().enumerate() {
                if let Item::Cond { t, f, .. } = *it {
                    let at = pos[i];
                    for (side, target) in [(0, t), (1, f)] {
                        let dest = label_at[target].ok_or(AsmError::Unbound(target))?;
                        if dest <= at {
                            return Err(AsmError::Backward(target));
                        }
                        let is_far = if side == 0 { far[i].0 } else { far[i].1 };
                        if !is_far && dest - at - 1 > 255 {
                            if side == 0 {
                                far[i].0 = true;
                            } else {
                                far[i].1 = true;
                            }
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                return self.emit(&far, &pos, &label_at);
            }
        }
    }

    fn size(&self, i: usize, far: &[(bool, bool)]) -> usize {
        match self.items[i] {
            Item::Bind(_) => 0,
            Item::Cond { .. } => 1 + far[i].0 as usize + far[i].1 as usize,
            Item::Ja(_) if far[i] == (true, true) => 0,
            _ => 1,
        }
    }

    fn layout(&self, far: &[(bool, bool)]) -> (Vec<usize>, Vec<Option<usize>>) {
        let mut pos = Vec::with_capacity(self.items.len());
        let mut labels = vec![None; self.labels];
        let mut pc = 0;
        for (i, it) in self.items.iter().enumerate() {
            pos.push(pc);
            if let Item::Bind(l) = it {
                labels[*l] = Some(pc);
            }
            pc += self.size(i, far);
        }
        (pos, labels)
    }

    fn emit(
        &self,
        far: &[(bool, bool)],
        pos: &[usize],
        label_at: &[Option<usize>],
    ) -> Result<Vec<Insn>, AsmError> {
        let mut out = Vec::new();
        let at = |l: Label| label_at[l].ok_or(AsmError::Unbound(l));
        for (i, it) in self.items.iter().enumerate() {
            let pc = pos[i];
            match *it {
                Item::Bind(_) => {}
                Item::Fixed(insn) => out.push(insn),
                Item::Ja(_) if far[i] == (true, true) => {}
                Item::Ja(l) => {
                    let d = at(l)?;
                    if d <= pc {
                        return Err(AsmError::Backward(l));
                    }
                    out.push(Insn::stmt(class::JMP | op::JA, (d - pc - 1) as u32));
                }
                Item::Cond { code, k, t, f } => {
                    let (ft, ff) = far[i];
                    // trampolines sit right after the jump: [jump][ja t]?[ja f]?
                    let tramp_t = pc + 1;
                    let tramp_f = pc + 1 + ft as usize;
                    let jt = if ft {
                        tramp_t - pc - 1
                    } else {
                        at(t)? - pc - 1
                    };
                    let jf = if ff {
                        tramp_f - pc - 1
                    } else {
                        at(f)? - pc - 1
                    };
                    out.push(Insn::jump(code, k, jt as u8, jf as u8));
                    if ft {
                        out.push(Insn::stmt(
                            class::JMP | op::JA,
                            (at(t)? - tramp_t - 1) as u32,
                        ));
                    }
                    if ff {
                        out.push(Insn::stmt(
                            class::JMP | op::JA,
                            (at(f)? - tramp_f - 1) as u32,
                        ));
                    }
                }
            }
        }
        if out.len() > crate::validate::MAX_INSNS {
            return Err(AsmError::TooLong(out.len()));
        }
        Ok(out)
    }
}
