//! The DAG to a tape: choose an instruction for each node (fusing `a + -b` into `a - b`,
//! `a * b^-1` into `a / b`, `a*b + c` into one step), then give each value a register,
//! reusing a register as soon as the last instruction that reads it has run. Every table
//! is a vector indexed by a node's position in the topological order (a [`Plan`]), so that
//! the compiler's time is linear in the nodes it compiles, without hashing.

use super::tape::{Instr, Reg, Tape};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{walk, Func, Graph, NodeId, Op, VarId};
use smallvec::SmallVec;

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
    fn operands(&self) -> SmallVec<[NodeId; 3]> {
        match self {
            Shape::Input(_) | Shape::Const(_) => SmallVec::new(),
            Shape::Neg(a) | Shape::Square(a) | Shape::Recip(a) | Shape::Sqrt(a) => {
                SmallVec::from_slice(&[*a])
            }
            Shape::Powi(a, _) | Shape::Func1(_, a) => SmallVec::from_slice(&[*a]),
            Shape::Add(a, b) | Shape::Sub(a, b) | Shape::Mul(a, b) | Shape::Div(a, b) => {
                SmallVec::from_slice(&[*a, *b])
            }
            Shape::Powf(a, b) | Shape::Func2(_, a, b) => SmallVec::from_slice(&[*a, *b]),
            Shape::MulAdd(a, b, c) | Shape::Func3(_, a, b, c) => {
                SmallVec::from_slice(&[*a, *b, *c])
            }
            Shape::LogSumExp(args) => SmallVec::from_slice(args),
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
    let plan = Plan::new(g, order, &slots, options.fuse.then_some(&uses[..]))?;
    let mut tape = allocate(&plan, roots, inputs.len(), options.reuse_registers);
    tape.inputs = inputs.iter().map(|&v| g.variable(v).name.to_string()).collect();
    tape.input_vars = inputs.to_vec();
    Ok(tape)
}

/// The nodes to compile in topological order, each with the shape of its instruction, and
/// where each node stands in that order (the index of the compiler's tables).
struct Plan {
    order: Vec<NodeId>,
    /// For each node of the graph (by index), its position in `order`.
    at: Vec<u32>,
    /// By position: what computes the node.
    shapes: Vec<Shape>,
    /// By position: whether a user's instruction computes the node too (it has none).
    absorbed: Vec<bool>,
}

impl Plan {
    /// The shapes of `order`, fused where `uses` (the use counts, when fusing) allow.
    fn new(
        g: &Graph,
        order: Vec<NodeId>,
        slots: &[Option<usize>],
        uses: Option<&[u32]>,
    ) -> Result<Plan> {
        let mut at = vec![u32::MAX; g.len()];
        for (k, n) in order.iter().enumerate() {
            at[n.index()] = k as u32;
        }
        let mut plan = Plan {
            at,
            shapes: Vec::with_capacity(order.len()),
            absorbed: vec![false; order.len()],
            order,
        };
        for k in 0..plan.order.len() {
            let shape = plain_shape(g, plan.order[k], slots)?;
            let shape = match uses {
                Some(uses) => plan.fuse(shape, uses),
                None => shape,
            };
            plan.shapes.push(shape);
        }
        Ok(plan)
    }

    /// The position of `n` in the order.
    fn position(&self, n: NodeId) -> usize {
        self.at[n.index()] as usize
    }

    /// The shape of `n`, an operand of a node being planned (so planned already).
    fn shape(&self, n: NodeId) -> &Shape {
        &self.shapes[self.position(n)]
    }

    /// Marks `n` as computed by its only user's instruction.
    fn absorb(&mut self, n: NodeId) {
        let k = self.position(n);
        self.absorbed[k] = true;
    }

    /// Folds a single-use operand into `shape` where one instruction can do both.
    fn fuse(&mut self, shape: Shape, uses: &[u32]) -> Shape {
        let single = |n: NodeId| uses[n.index()] == 1;
        match shape {
            Shape::Add(a, b) => {
                for (x, y) in [(a, b), (b, a)] {
                    if let (&Shape::Neg(c), true) = (self.shape(y), single(y)) {
                        self.absorb(y);
                        return Shape::Sub(x, c);
                    }
                }
                for (x, y) in [(a, b), (b, a)] {
                    if let (&Shape::Mul(p, q), true) = (self.shape(x), single(x)) {
                        self.absorb(x);
                        return Shape::MulAdd(p, q, y);
                    }
                }
                Shape::Add(a, b)
            }
            Shape::Mul(a, b) => {
                for (x, y) in [(a, b), (b, a)] {
                    if let (&Shape::Recip(c), true) = (self.shape(y), single(y)) {
                        self.absorb(y);
                        return Shape::Div(x, c);
                    }
                }
                Shape::Mul(a, b)
            }
            other => other,
        }
    }
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

/// Gives registers to values and builds the instructions.
fn allocate(plan: &Plan, roots: &[NodeId], inputs: usize, reuse: bool) -> Tape {
    let mut reg: Vec<Reg> = vec![Reg::MAX; plan.order.len()];
    let mut input_nodes = vec![None; inputs];
    let mut constants = Vec::new();
    let mut computed = Vec::new();
    for (k, shape) in plan.shapes.iter().enumerate().filter(|&(k, _)| !plan.absorbed[k]) {
        match *shape {
            Shape::Input(i) => {
                reg[k] = i as Reg;
                input_nodes[i] = Some(plan.order[k]);
            }
            Shape::Const(v) => {
                let r = (inputs + constants.len()) as Reg;
                reg[k] = r;
                constants.push((r, v));
            }
            _ => computed.push(k),
        }
    }
    let fixed = inputs + constants.len();
    let last_use = last_uses(plan, &computed);
    let mut pinned = vec![false; plan.order.len()];
    for &r in roots {
        pinned[plan.position(r)] = true;
    }
    let mut free: Vec<Reg> = Vec::new();
    let mut next = fixed as Reg;
    let mut pool = Vec::new();
    let mut instrs = Vec::with_capacity(computed.len());
    for (k, &at) in computed.iter().enumerate() {
        let shape = &plan.shapes[at];
        let d = match free.pop() {
            Some(r) if reuse => r,
            _ => {
                next += 1;
                next - 1
            }
        };
        instrs.push(instruction(shape, d, |n| reg[plan.position(n)], &mut pool));
        reg[at] = d;
        if reuse {
            let mut operands = shape.operands();
            operands.sort_unstable();
            operands.dedup();
            for op in operands {
                let op = plan.position(op);
                let temporary = reg[op] as usize >= fixed;
                if temporary && last_use[op] == k as u32 && !pinned[op] {
                    free.push(reg[op]);
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
        outputs: roots.iter().map(|&r| reg[plan.position(r)]).collect(),
        defs: computed.iter().map(|&k| plan.order[k]).collect(),
        batch_steps: Default::default(),
        program: Default::default(),
    };
    assert!(tape.validate(), "the compiler named a register out of range");
    tape
}

/// For each position, the index among `computed` of the last instruction that reads it.
fn last_uses(plan: &Plan, computed: &[usize]) -> Vec<u32> {
    let mut last = vec![u32::MAX; plan.order.len()];
    for (k, &at) in computed.iter().enumerate() {
        for op in plan.shapes[at].operands() {
            last[plan.position(op)] = k as u32;
        }
    }
    last
}

/// The instruction of `shape` writing `d`, with `reg` the register of each operand.
fn instruction(shape: &Shape, d: Reg, reg: impl Fn(NodeId) -> Reg, pool: &mut Vec<Reg>) -> Instr {
    let r = |n: &NodeId| reg(*n);
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
