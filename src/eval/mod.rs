//! Numeric evaluation: a DAG compiled into a flat tape of instructions over slots.
//!
//! The tape lists the reachable nodes in topological order; each instruction reads earlier
//! slots and writes its own. Running it is one loop with no recursion, no hashing and no
//! allocation beyond the caller's work buffer. It is generic over `num_traits::Float`.

use crate::error::{Error, ErrorKind, Result};
use crate::graph::op::{logsumexp, Func};
use crate::graph::{walk, Graph, NodeId, Op};
use num_traits::Float;
use std::collections::HashMap;

/// One step of the tape; operands are slot indices.
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    /// A constant.
    Const(f64),
    /// Input number `i`.
    Input(u32),
    /// `a + b`
    Add(u32, u32),
    /// `a * b`
    Mul(u32, u32),
    /// `a * a`
    Square(u32),
    /// `1 / a`
    Recip(u32),
    /// `sqrt(a)` from `a ^ 0.5`
    Sqrt(u32),
    /// `a ^ n` for a small whole `n`
    Powi(u32, i32),
    /// `a ^ b`
    Powf(u32, u32),
    /// `f(a)`
    Func1(Func, u32),
    /// `f(a, b)`
    Func2(Func, u32, u32),
    /// `logsumexp` of the slots
    LogSumExp(Box<[u32]>),
}

/// A compiled formula: instructions, the slots of the outputs, the names of the inputs.
#[derive(Clone, Debug)]
pub struct Tape {
    instrs: Vec<Instr>,
    outputs: Vec<u32>,
    inputs: Vec<String>,
    nodes: Vec<NodeId>,
}

/// Compiles `roots` of `g` with `inputs` as the variables, in that order. Every variable
/// reachable from the roots must be among `inputs`.
pub fn compile(g: &Graph, roots: &[NodeId], inputs: &[String]) -> Result<Tape> {
    let order = walk::reachable(g, roots);
    let mut slot: HashMap<NodeId, u32> = HashMap::with_capacity(order.len());
    let mut instrs = Vec::with_capacity(order.len());
    for &n in &order {
        let s = |id: &NodeId| slot[id];
        let args = g.args(n);
        let instr = match g.op(n) {
            Op::Const(_) => Instr::Const(g.value(n).unwrap_or(f64::NAN)),
            Op::Var(v) => {
                let name = g.var_name(v);
                let i = inputs.iter().position(|x| x == name).ok_or_else(|| {
                    Error::new(ErrorKind::Unbound(name.to_string()))
                        .with_hint(format!("give it a value, e.g. --at {name}=1"))
                })?;
                Instr::Input(i as u32)
            }
            Op::Add => Instr::Add(s(&args[0]), s(&args[1])),
            Op::Mul => Instr::Mul(s(&args[0]), s(&args[1])),
            Op::Pow => power(s(&args[0]), s(&args[1]), g.value(args[1])),
            Op::Func(f) if f.arity() == 1 => Instr::Func1(f, s(&args[0])),
            Op::Func(f) => Instr::Func2(f, s(&args[0]), s(&args[1])),
            Op::LogSumExp => Instr::LogSumExp(args.iter().map(s).collect()),
        };
        slot.insert(n, instrs.len() as u32);
        instrs.push(instr);
    }
    let outputs = roots.iter().map(|r| slot[r]).collect();
    Ok(Tape {
        instrs,
        outputs,
        inputs: inputs.to_vec(),
        nodes: order,
    })
}

/// Compiles and runs `roots` once at `values` (one per name in `inputs`).
pub fn evaluate(
    g: &Graph,
    roots: &[NodeId],
    inputs: &[String],
    values: &[f64],
) -> Result<Vec<f64>> {
    let tape = compile(g, roots, inputs)?;
    Ok(tape.run(values, &mut Vec::new()))
}

fn power(a: u32, b: u32, exponent: Option<f64>) -> Instr {
    match exponent {
        Some(2.0) => Instr::Square(a),
        Some(-1.0) => Instr::Recip(a),
        Some(0.5) => Instr::Sqrt(a),
        Some(e) if e.fract() == 0.0 && e.abs() <= 16.0 => Instr::Powi(a, e as i32),
        _ => Instr::Powf(a, b),
    }
}

impl Tape {
    /// The input names, in the order [`Tape::run`] takes their values.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.instrs.len()
    }

    /// True for a tape with no instructions.
    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }

    /// The slot of `node`, if the tape computes it.
    pub fn position(&self, node: NodeId) -> Option<usize> {
        self.nodes.binary_search(&node).ok()
    }

    /// Evaluates every slot into `work` (resized as needed) and returns the outputs.
    pub fn run<F: Float>(&self, inputs: &[F], work: &mut Vec<F>) -> Vec<F> {
        work.clear();
        work.reserve(self.instrs.len());
        for instr in &self.instrs {
            let v = step(instr, inputs, work);
            work.push(v);
        }
        self.outputs.iter().map(|&o| work[o as usize]).collect()
    }

    /// The first node, in evaluation order, whose value in `work` is NaN or infinite while
    /// its operands are finite: where a non-finite value came from.
    pub fn first_nonfinite<F: Float>(&self, g: &Graph, work: &[F]) -> Option<NodeId> {
        self.nodes.iter().enumerate().find_map(|(i, &n)| {
            let bad = !work[i].is_finite();
            let operands_ok = g.args(n).iter().all(|a| {
                self.nodes
                    .binary_search(a)
                    .map(|j| work[j].is_finite())
                    .unwrap_or(true)
            });
            (bad && operands_ok).then_some(n)
        })
    }
}

fn step<F: Float>(instr: &Instr, inputs: &[F], w: &[F]) -> F {
    let at = |s: &u32| w[*s as usize];
    match instr {
        Instr::Const(c) => F::from(*c).unwrap_or_else(F::nan),
        Instr::Input(i) => inputs[*i as usize],
        Instr::Add(a, b) => at(a) + at(b),
        Instr::Mul(a, b) => at(a) * at(b),
        Instr::Square(a) => at(a) * at(a),
        Instr::Recip(a) => at(a).recip(),
        Instr::Sqrt(a) => at(a).sqrt(),
        Instr::Powi(a, n) => at(a).powi(*n),
        Instr::Powf(a, b) => at(a).powf(at(b)),
        Instr::Func1(f, a) => f.eval(at(a), F::zero()),
        Instr::Func2(f, a, b) => f.eval(at(a), at(b)),
        Instr::LogSumExp(slots) => logsumexp(slots.iter().map(|s| w[*s as usize])),
    }
}
