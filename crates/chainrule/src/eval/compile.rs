//! The DAG to a tape: choose an instruction for each node (fusing `a + -b` into `a - b`,
//! `a * b^-1` into `a / b`, `a*b + c` into one step), then give each value a register,
//! reusing a register as soon as the last instruction that reads it has run.

use super::tape::{Instr, Reg, Tape};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{walk, Func, Graph, NodeId, Op, VarId};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Compiler switches (both on by default; off gives one register per node, for debugging).
#[derive(Clone, Copy, Debug)]
pub struct CompileOptions {
    /// Fuse neighbouring nodes into one instruction where it saves work.
    pub fuse: bool,
    /// Reuse registers whose value is no longer needed.
    pub reuse_registers: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { fuse: true, reuse_registers: true }
    }
}

/// What computes a node: an instruction shape over operand nodes.
#[derive(Clone, Debug, PartialEq)]
enum Shape {
    Input(usize),
    Const(f64),
    Add(NodeId, NodeId),
    Sub(NodeId, NodeId),
    Mul(NodeId, NodeId),
    Div(NodeId, NodeId),
    MulAdd(NodeId, NodeId, NodeId),
    Neg(NodeId),
    Square(NodeId),
    Recip(NodeId),
    Sqrt(NodeId),
    Powi(NodeId, i32),
    Powf(NodeId, NodeId),
    Func1(Func, NodeId),
    Func2(Func, NodeId, NodeId),
    Func3(Func, NodeId, NodeId, NodeId),
    LogSumExp(Vec<NodeId>),
}

impl Shape {
    fn operands(&self) -> Vec<NodeId> {
        match self {
            Shape::Input(_) | Shape::Const(_) => vec![],
            Shape::Neg(a) | Shape::Square(a) | Shape::Recip(a) | Shape::Sqrt(a) => vec![*a],
            Shape::Powi(a, _) | Shape::Func1(_, a) => vec![*a],
            Shape::Add(a, b) | Shape::Sub(a, b) | Shape::Mul(a, b) | Shape::Div(a, b) => {
                vec![*a, *b]
            }
            Shape::Powf(a, b) | Shape::Func2(_, a, b) => vec![*a, *b],
            Shape::MulAdd(a, b, c) | Shape::Func3(_, a, b, c) => vec![*a, *b, *c],
            Shape::LogSumExp(args) => args.clone(),
        }
    }
}

/// Compiles `roots` of `g` with `inputs` as the variables, in that order, with the default
/// options. Every variable reachable from the roots must be among `inputs`.
pub fn compile(g: &Graph, roots: &[NodeId], inputs: &[VarId]) -> Result<Tape> {
    compile_with(g, roots, inputs, CompileOptions::default())
}

/// Compiles with explicit options.
pub fn compile_with(
    g: &Graph,
    roots: &[NodeId],
    inputs: &[VarId],
    options: CompileOptions,
) -> Result<Tape> {
    let order = walk::reachable(g, roots);
    let uses = walk::use_counts(g, &order, roots);
    let slots = input_slots(g, inputs);
    let mut shapes: HashMap<NodeId, Shape> =
        HashMap::with_capacity_and_hasher(order.len(), Default::default());
    let mut absorbed = vec![false; g.len()];
    for &n in &order {
        let shape = plain_shape(g, n, &slots)?;
        let shape = if options.fuse { fuse(shape, &shapes, &uses, &mut absorbed) } else { shape };
        shapes.insert(n, shape);
    }
    let emitted: Vec<NodeId> = order.iter().copied().filter(|n| !absorbed[n.index()]).collect();
    let mut tape = allocate(&emitted, &shapes, roots, inputs.len(), options.reuse_registers);
    tape.inputs = inputs.iter().map(|&v| g.variable(v).name.clone()).collect();
    tape.input_vars = inputs.to_vec();
    Ok(tape)
}

/// For each variable of `g` (by id), its position among `inputs` (the first, if repeated).
fn input_slots(g: &Graph, inputs: &[VarId]) -> Vec<Option<usize>> {
    let mut slots = vec![None; g.variables().len()];
    for (i, v) in inputs.iter().enumerate().rev() {
        slots[v.index()] = Some(i);
    }
    slots
}

fn plain_shape(g: &Graph, n: NodeId, slots: &[Option<usize>]) -> Result<Shape> {
    let args = g.args(n);
    Ok(match g.op(n) {
        Op::Const(_) => Shape::Const(g.value(n).unwrap_or(f64::NAN)),
        Op::Named(c) => Shape::Const(c.value()),
        Op::Var(v) => {
            let unbound = || Error::new(ErrorKind::Unbound(g.var_name(v).to_string()));
            Shape::Input(slots[v as usize].ok_or_else(unbound)?)
        }
        Op::Add => Shape::Add(args[0], args[1]),
        Op::Mul if g.value(args[0]) == Some(-1.0) => Shape::Neg(args[1]),
        Op::Mul => Shape::Mul(args[0], args[1]),
        Op::Pow => match g.value(args[1]) {
            Some(2.0) => Shape::Square(args[0]),
            Some(-1.0) => Shape::Recip(args[0]),
            Some(0.5) => Shape::Sqrt(args[0]),
            Some(e) if e.fract() == 0.0 && e.abs() <= 64.0 => Shape::Powi(args[0], e as i32),
            _ => Shape::Powf(args[0], args[1]),
        },
        Op::Func(f) => match *args {
            [a] => Shape::Func1(f, a),
            [a, b] => Shape::Func2(f, a, b),
            [a, b, c] => Shape::Func3(f, a, b, c),
            _ => unreachable!("functions take one to three operands"),
        },
        Op::LogSumExp => Shape::LogSumExp(args.to_vec()),
    })
}

/// Folds a single-use operand into `shape` where one instruction can do both.
fn fuse(
    shape: Shape,
    shapes: &HashMap<NodeId, Shape>,
    uses: &[u32],
    absorbed: &mut [bool],
) -> Shape {
    let single = |n: NodeId| uses[n.index()] == 1;
    match shape {
        Shape::Add(a, b) => {
            for (x, y) in [(a, b), (b, a)] {
                if let (Some(Shape::Neg(c)), true) = (shapes.get(&y), single(y)) {
                    absorbed[y.index()] = true;
                    return Shape::Sub(x, *c);
                }
            }
            for (x, y) in [(a, b), (b, a)] {
                if let (Some(Shape::Mul(p, q)), true) = (shapes.get(&x), single(x)) {
                    absorbed[x.index()] = true;
                    return Shape::MulAdd(*p, *q, y);
                }
            }
            Shape::Add(a, b)
        }
        Shape::Mul(a, b) => {
            for (x, y) in [(a, b), (b, a)] {
                if let (Some(Shape::Recip(c)), true) = (shapes.get(&y), single(y)) {
                    absorbed[y.index()] = true;
                    return Shape::Div(x, *c);
                }
            }
            Shape::Mul(a, b)
        }
        other => other,
    }
}

/// Gives registers to values and builds the instructions.
fn allocate(
    emitted: &[NodeId],
    shapes: &HashMap<NodeId, Shape>,
    roots: &[NodeId],
    inputs: usize,
    reuse: bool,
) -> Tape {
    let mut reg: HashMap<NodeId, Reg> =
        HashMap::with_capacity_and_hasher(emitted.len(), Default::default());
    let mut input_nodes = vec![None; inputs];
    let mut constants = Vec::new();
    let mut computed = Vec::new();
    for &n in emitted {
        match shapes[&n] {
            Shape::Input(i) => {
                reg.insert(n, i as Reg);
                input_nodes[i] = Some(n);
            }
            Shape::Const(v) => {
                let r = (inputs + constants.len()) as Reg;
                reg.insert(n, r);
                constants.push((r, v));
            }
            _ => computed.push(n),
        }
    }
    let fixed = inputs + constants.len();
    let last_use = last_uses(&computed, shapes);
    let pinned: HashSet<NodeId> = roots.iter().copied().collect();
    let mut free: Vec<Reg> = Vec::new();
    let mut next = fixed as Reg;
    let mut pool = Vec::new();
    let mut instrs = Vec::with_capacity(computed.len());
    for (k, &n) in computed.iter().enumerate() {
        let shape = &shapes[&n];
        let d = match free.pop() {
            Some(r) if reuse => r,
            _ => {
                next += 1;
                next - 1
            }
        };
        instrs.push(instruction(shape, d, &reg, &mut pool));
        reg.insert(n, d);
        if reuse {
            let mut operands = shape.operands();
            operands.sort_unstable();
            operands.dedup();
            for op in operands {
                let temporary = reg[&op] as usize >= fixed;
                if temporary && last_use[&op] == k && !pinned.contains(&op) {
                    free.push(reg[&op]);
                }
            }
        }
    }
    let tape = Tape {
        instrs,
        pool,
        inputs: vec![String::new(); inputs],
        input_vars: Vec::new(),
        input_nodes,
        constants,
        registers: (next as usize).max(inputs),
        outputs: roots.iter().map(|r| reg[r]).collect(),
        defs: computed,
        batch_steps: Default::default(),
    };
    assert!(tape.validate(), "the compiler named a register out of range");
    tape
}

/// For each value, the index of the last instruction that reads it.
fn last_uses(computed: &[NodeId], shapes: &HashMap<NodeId, Shape>) -> HashMap<NodeId, usize> {
    let mut last = HashMap::default();
    for (k, n) in computed.iter().enumerate() {
        for op in shapes[n].operands() {
            last.insert(op, k);
        }
    }
    last
}

fn instruction(shape: &Shape, d: Reg, reg: &HashMap<NodeId, Reg>, pool: &mut Vec<Reg>) -> Instr {
    let r = |n: &NodeId| reg[n];
    match shape {
        Shape::Add(a, b) => Instr::Add { d, a: r(a), b: r(b) },
        Shape::Sub(a, b) => Instr::Sub { d, a: r(a), b: r(b) },
        Shape::Mul(a, b) => Instr::Mul { d, a: r(a), b: r(b) },
        Shape::Div(a, b) => Instr::Div { d, a: r(a), b: r(b) },
        Shape::MulAdd(a, b, c) => Instr::MulAdd { d, a: r(a), b: r(b), c: r(c) },
        Shape::Neg(a) => Instr::Neg { d, a: r(a) },
        Shape::Square(a) => Instr::Square { d, a: r(a) },
        Shape::Recip(a) => Instr::Recip { d, a: r(a) },
        Shape::Sqrt(a) => Instr::Sqrt { d, a: r(a) },
        Shape::Powi(a, n) => Instr::Powi { d, a: r(a), n: *n },
        Shape::Powf(a, b) => Instr::Powf { d, a: r(a), b: r(b) },
        Shape::Func1(f, a) => Instr::Func1 { d, f: *f, a: r(a) },
        Shape::Func2(f, a, b) => Instr::Func2 { d, f: *f, a: r(a), b: r(b) },
        Shape::Func3(f, a, b, c) => Instr::Func3 { d, f: *f, a: r(a), b: r(b), c: r(c) },
        Shape::LogSumExp(args) => {
            let start = pool.len() as u32;
            pool.extend(args.iter().map(r));
            Instr::LogSumExp { d, start, len: args.len() as u32 }
        }
        Shape::Input(_) | Shape::Const(_) => unreachable!("inputs and constants are preloaded"),
    }
}
