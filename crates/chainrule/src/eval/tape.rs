//! The tape: a flat list of instructions over registers, in topological order.

use crate::graph::{Func, NodeId, VarId};
use smallvec::SmallVec;
use std::fmt;

/// A register index.
pub type Reg = u32;

/// One step of the tape. In every variant `d` is the destination register and `a`, `b`,
/// `c` are operand registers; the destination never equals an operand.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Instr {
    /// `d = a + b`
    Add { d: Reg, a: Reg, b: Reg },
    /// `d = a - b`
    Sub { d: Reg, a: Reg, b: Reg },
    /// `d = a * b`
    Mul { d: Reg, a: Reg, b: Reg },
    /// `d = a / b`
    Div { d: Reg, a: Reg, b: Reg },
    /// `d = a * b + c` (two roundings, as the graph says; not a fused multiply-add)
    MulAdd { d: Reg, a: Reg, b: Reg, c: Reg },
    /// `d = -a`
    Neg { d: Reg, a: Reg },
    /// `d = a * a`
    Square { d: Reg, a: Reg },
    /// `d = 1 / a`
    Recip { d: Reg, a: Reg },
    /// `d = sqrt(a)`
    Sqrt { d: Reg, a: Reg },
    /// `d = a ^ n`, whole `n`
    Powi { d: Reg, a: Reg, n: i32 },
    /// `d = a ^ b`
    Powf { d: Reg, a: Reg, b: Reg },
    /// `d = f(a)`
    Func1 { d: Reg, f: Func, a: Reg },
    /// `d = f(a, b)`
    Func2 { d: Reg, f: Func, a: Reg, b: Reg },
    /// `d = f(a, b, c)`
    Func3 { d: Reg, f: Func, a: Reg, b: Reg, c: Reg },
    /// `d = logsumexp(args[start..start+len])` over the tape's argument pool
    LogSumExp { d: Reg, start: u32, len: u32 },
}

impl Instr {
    /// The destination register.
    pub fn dst(&self) -> Reg {
        let mut ins = *self;
        *ins.dst_mut()
    }

    /// The destination register's field.
    fn dst_mut(&mut self) -> &mut Reg {
        match self {
            Instr::Add { d, .. }
            | Instr::Sub { d, .. }
            | Instr::Mul { d, .. }
            | Instr::Div { d, .. }
            | Instr::MulAdd { d, .. }
            | Instr::Neg { d, .. }
            | Instr::Square { d, .. }
            | Instr::Recip { d, .. }
            | Instr::Sqrt { d, .. }
            | Instr::Powi { d, .. }
            | Instr::Powf { d, .. }
            | Instr::Func1 { d, .. }
            | Instr::Func2 { d, .. }
            | Instr::Func3 { d, .. }
            | Instr::LogSumExp { d, .. } => d,
        }
    }

    /// The operands of an arithmetic instruction, padded to three by repeating the last
    /// (`None` for `LogSumExp`, whose operands live in the pool). Allocates nothing. Written
    /// out rather than read through `fixed_operands_mut`: the batch runner asks it
    /// for every step of every block, and through that list Rosenbrock 1000 took 3.0-3.5 µs
    /// a row in place of 2.8.
    pub fn fixed_operands(&self) -> Option<[Reg; 3]> {
        Some(match *self {
            Instr::Add { a, b, .. }
            | Instr::Sub { a, b, .. }
            | Instr::Mul { a, b, .. }
            | Instr::Div { a, b, .. }
            | Instr::Powf { a, b, .. }
            | Instr::Func2 { a, b, .. } => [a, b, b],
            Instr::MulAdd { a, b, c, .. } | Instr::Func3 { a, b, c, .. } => [a, b, c],
            Instr::Neg { a, .. }
            | Instr::Square { a, .. }
            | Instr::Recip { a, .. }
            | Instr::Sqrt { a, .. }
            | Instr::Powi { a, .. }
            | Instr::Func1 { a, .. } => [a, a, a],
            Instr::LogSumExp { .. } => return None,
        })
    }

    /// The operand registers (`pool` is the tape's logsumexp argument pool). Allocates
    /// only for a logsumexp of more than three arguments.
    #[inline]
    pub fn operands(&self, pool: &[Reg]) -> SmallVec<[Reg; 3]> {
        match *self {
            Instr::LogSumExp { start, len, .. } => {
                SmallVec::from_slice(&pool[start as usize..(start + len) as usize])
            }
            mut ins => {
                let fields = ins.fixed_operands_mut();
                let mut regs = [0; 3];
                for (r, field) in regs.iter_mut().zip(&fields) {
                    *r = **field;
                }
                SmallVec::from_buf_and_len(regs, fields.len())
            }
        }
    }

    /// The same operation over other registers: writing `d`, reading `ops` (a logsumexp's
    /// go to the end of `pool`).
    pub(crate) fn with_registers(&self, d: Reg, ops: &[Reg], pool: &mut Vec<Reg>) -> Instr {
        let mut ins = *self;
        *ins.dst_mut() = d;
        if let Instr::LogSumExp { start, len, .. } = &mut ins {
            (*start, *len) = (pool.len() as u32, ops.len() as u32);
            pool.extend_from_slice(ops);
        }
        let fields = ins.fixed_operands_mut();
        assert!(fields.is_empty() || fields.len() == ops.len(), "an operand per field");
        for (field, &r) in fields.into_iter().zip(ops) {
            *field = r;
        }
        ins
    }

    /// The operand fields of an arithmetic instruction, in order (none for `LogSumExp`,
    /// whose operands live in the pool).
    #[inline]
    pub(crate) fn fixed_operands_mut(&mut self) -> SmallVec<[&mut Reg; 3]> {
        let mut out = SmallVec::new();
        match self {
            Instr::Add { a, b, .. }
            | Instr::Sub { a, b, .. }
            | Instr::Mul { a, b, .. }
            | Instr::Div { a, b, .. }
            | Instr::Powf { a, b, .. }
            | Instr::Func2 { a, b, .. } => {
                out.push(a);
                out.push(b);
            }
            Instr::MulAdd { a, b, c, .. } | Instr::Func3 { a, b, c, .. } => {
                out.push(a);
                out.push(b);
                out.push(c);
            }
            Instr::Neg { a, .. }
            | Instr::Square { a, .. }
            | Instr::Recip { a, .. }
            | Instr::Sqrt { a, .. }
            | Instr::Powi { a, .. }
            | Instr::Func1 { a, .. } => out.push(a),
            Instr::LogSumExp { .. } => {}
        }
        out
    }
}

/// A compiled formula: registers `0..inputs` hold the inputs, then the constants, then
/// temporaries that are reused once their last reader has run.
#[derive(Clone, Debug)]
pub struct Tape {
    pub(crate) instrs: Vec<Instr>,
    pub(crate) pool: Vec<Reg>,
    pub(crate) inputs: Vec<String>,
    pub(crate) input_vars: Vec<VarId>,
    pub(crate) input_nodes: Vec<Option<NodeId>>,
    pub(crate) constants: Vec<(Reg, f64)>,
    pub(crate) registers: usize,
    pub(crate) outputs: Vec<Reg>,
    /// The graph node each instruction computes, for pointing at a NaN's origin.
    pub(crate) defs: Vec<NodeId>,
    /// The batch runner's steps, made on its first run.
    pub(crate) batch_steps: std::sync::OnceLock<super::steps::BatchSteps>,
    /// The point runner's program, made on its first run.
    pub(crate) program: std::sync::OnceLock<super::program::Program>,
}

impl Tape {
    /// The input names, in the order the run functions take their values.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The input variables, in the same order.
    pub fn input_vars(&self) -> &[VarId] {
        &self.input_vars
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.instrs.len()
    }

    /// True for a tape with no instructions (every output is an input or a constant).
    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }

    /// Number of registers the tape's instructions use (the runners' own programs give
    /// registers again, and may need fewer or more).
    pub fn registers(&self) -> usize {
        self.registers
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The instructions.
    pub fn instructions(&self) -> &[Instr] {
        &self.instrs
    }

    /// Each `sin` or `cos` with the earlier `cos` or `sin` of the same value (the same
    /// register, not written in between) that has no partner yet: `(first, second)`, in
    /// order. The batch runner computes each pair in one step, native code in one call.
    pub(crate) fn sin_cos_pairs(&self) -> Vec<(usize, usize)> {
        const NONE: u32 = u32::MAX;
        // Each value, by the instruction that makes it (or, after them, the register it is
        // in from the start): its first `sin` or `cos` while no partner is found.
        let n = self.instrs.len();
        let mut value: Vec<u32> = (n as u32..(n + self.registers) as u32).collect();
        let mut open = vec![NONE; n + self.registers];
        let mut pairs = Vec::new();
        for (k, ins) in self.instrs.iter().enumerate() {
            if let Instr::Func1 { f: f @ (Func::Sin | Func::Cos), a, .. } = *ins {
                let v = value[a as usize] as usize;
                match open[v] {
                    NONE => open[v] = k as u32,
                    first if !matches!(self.instrs[first as usize], Instr::Func1 { f: g, .. } if g == f) =>
                    {
                        pairs.push((first as usize, k));
                        open[v] = NONE;
                    }
                    _ => {}
                }
            }
            value[ins.dst() as usize] = k as u32;
        }
        pairs
    }

    /// True when every register named anywhere is below [`Tape::registers`] and no
    /// instruction writes one of its own operands: what the runners rely on.
    pub(crate) fn validate(&self) -> bool {
        let n = self.registers as Reg;
        let instrs_ok = self.instrs.iter().all(|ins| {
            let d = ins.dst();
            let fits = |o: &Reg| *o < n && *o != d;
            // The padded operand list where there is one: no list built for each.
            d < n
                && match ins.fixed_operands() {
                    Some(ops) => ops.iter().all(fits),
                    None => ins.operands(&self.pool).iter().all(fits),
                }
        });
        let constants_ok = self.constants.iter().all(|&(r, _)| r < n);
        instrs_ok
            && constants_ok
            && self.outputs.iter().all(|&o| o < n)
            && self.inputs.len() <= self.registers
    }
}

impl fmt::Display for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.inputs.iter().enumerate() {
            writeln!(f, "r{i} <- {name}")?;
        }
        for (r, c) in &self.constants {
            writeln!(f, "r{r} <- {c}")?;
        }
        for ins in &self.instrs {
            let d = ins.dst();
            let text = match *ins {
                Instr::Add { a, b, .. } => format!("r{a} + r{b}"),
                Instr::Sub { a, b, .. } => format!("r{a} - r{b}"),
                Instr::Mul { a, b, .. } => format!("r{a} * r{b}"),
                Instr::Div { a, b, .. } => format!("r{a} / r{b}"),
                Instr::MulAdd { a, b, c, .. } => format!("r{a} * r{b} + r{c}"),
                Instr::Neg { a, .. } => format!("-r{a}"),
                Instr::Square { a, .. } => format!("r{a}^2"),
                Instr::Recip { a, .. } => format!("1 / r{a}"),
                Instr::Sqrt { a, .. } => format!("sqrt(r{a})"),
                Instr::Powi { a, n, .. } => format!("r{a}^{n}"),
                Instr::Powf { a, b, .. } => format!("r{a}^r{b}"),
                Instr::Func1 { f: func, a, .. } => format!("{}(r{a})", func.name()),
                Instr::Func2 { f: func, a, b, .. } => format!("{}(r{a}, r{b})", func.name()),
                Instr::Func3 { f: func, a, b, c, .. } => {
                    format!("{}(r{a}, r{b}, r{c})", func.name())
                }
                Instr::LogSumExp { .. } => {
                    let args: Vec<String> =
                        ins.operands(&self.pool).iter().map(|r| format!("r{r}")).collect();
                    format!("logsumexp({})", args.join(", "))
                }
            };
            writeln!(f, "r{d} = {text}")?;
        }
        let outs: Vec<String> = self.outputs.iter().map(|r| format!("r{r}")).collect();
        writeln!(f, "out {}", outs.join(", "))
    }
}
