//! The batch runner's program for a tape. A block's register file is [`BLOCK`] rows wide,
//! so a tape of a few thousand registers takes megabytes, and a batch run is bound by the
//! cache it misses. The program keeps that file small: the tape's instructions in an order
//! that keeps few values alive at once, registers given again from the values' lives, each
//! output handed on as soon as it is made (not held to the end), and a `sin` and a `cos`
//! of one value made together. Every instruction computes what it computes on the tape,
//! from the same operands: only the order of independent instructions differs, so the bits
//! are the tape's.
//!
//! [`BLOCK`]: super::BLOCK

use super::tape::{Instr, Reg, Tape};
use crate::graph::Func;
use num_traits::Float;
use smallvec::SmallVec;

/// One step of the batch runner.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    /// A tape instruction, over the program's registers.
    Tape(Instr),
    /// `sin(a)` into `sin` and `cos(a)` into `cos`.
    SinCos { sin: Reg, cos: Reg, a: Reg },
    /// Output `k` is now in register `r`.
    Output { k: u32, r: Reg },
    /// An instruction with the one-use results of others computed inside it: `form` over
    /// the operands `pool[at..]` (see [`Form::operands`]), out of line to keep steps small.
    Fused { d: Reg, form: Form, at: u32 },
}

/// The most operands a fused step reads.
pub(crate) const MAX_LEAVES: usize = 8;

/// The most operations and operands in a form's tree.
const MAX_TOKENS: usize = 13;

/// An operation inside a fused step: what the tape instruction of the same name computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    MulAdd,
    Square,
}

const _: () = assert!(Op::Square as usize + 1 == Op::COUNT, "Square is the last operation");

impl Op {
    /// Number of operations (`op as usize` is below it).
    pub(crate) const COUNT: usize = 5;

    /// The operation of a tape instruction, if a fused step can hold it.
    pub(crate) fn of(ins: &Instr) -> Option<Op> {
        Some(match ins {
            Instr::Add { .. } => Op::Add,
            Instr::Sub { .. } => Op::Sub,
            Instr::Mul { .. } => Op::Mul,
            Instr::MulAdd { .. } => Op::MulAdd,
            Instr::Square { .. } => Op::Square,
            _ => return None,
        })
    }

    /// Number of operands.
    const fn arity(self) -> usize {
        match self {
            Op::Square => 1,
            Op::Add | Op::Sub | Op::Mul => 2,
            Op::MulAdd => 3,
        }
    }

    /// The value over operands `a`, `b`, `c` (those past the arity ignored), rounded as the
    /// tape instruction rounds it.
    #[inline(always)]
    pub(crate) fn apply<F: Float>(self, a: F, b: F, c: F) -> F {
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::MulAdd => a * b + c,
            Op::Square => a * a,
        }
    }
}

/// `op` over `a`, `b`, `c` as [`Op::apply`] computes it, each operation's operands in the
/// tape's order in the machine code too: for f64 on x86-64 the instructions are written out,
/// since the compiler may swap the operands of an add or multiply (to save a register move),
/// and of two NaN operands the first is the one the result keeps.
#[inline(always)]
pub(crate) fn in_order<F: Float>(op: Op, a: F, b: F, c: F) -> F {
    #[cfg(target_arch = "x86_64")]
    if size_of::<F>() == size_of::<f64>() && op != Op::Square {
        use std::arch::asm;
        // SAFETY: `F` is as wide as f64 and a float, every bit pattern of which is a value.
        let [mut x, y, z]: [f64; 3] = [a, b, c].map(|v| unsafe { std::mem::transmute_copy(&v) });
        // SAFETY: arithmetic on registers only.
        unsafe {
            match op {
                Op::Add => {
                    asm!("addsd {x}, {y}", x = inout(xmm_reg) x, y = in(xmm_reg) y, options(pure, nomem, nostack))
                }
                Op::Sub => {
                    asm!("subsd {x}, {y}", x = inout(xmm_reg) x, y = in(xmm_reg) y, options(pure, nomem, nostack))
                }
                Op::Mul => {
                    asm!("mulsd {x}, {y}", x = inout(xmm_reg) x, y = in(xmm_reg) y, options(pure, nomem, nostack))
                }
                Op::MulAdd => asm!(
                    "mulsd {x}, {y}",
                    "addsd {x}, {z}",
                    x = inout(xmm_reg) x, y = in(xmm_reg) y, z = in(xmm_reg) z,
                    options(pure, nomem, nostack)
                ),
                Op::Square => unreachable!("one operand"),
            }
        }
        // SAFETY: as above.
        return unsafe { std::mem::transmute_copy(&x) };
    }
    op.apply(a, b, c)
}

/// One token of a form's tree in prefix order: an operation, or the step's next operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    Op(Op),
    Leaf,
}

/// A fused step's tree of operations, in prefix order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tree {
    tokens: [Token; MAX_TOKENS],
    len: usize,
    /// Number of operands (leaves).
    leaves: usize,
    /// Number of operations.
    ops: usize,
}

impl Tree {
    /// Number of operands.
    pub(crate) const fn leaves(&self) -> usize {
        self.leaves
    }

    /// Number of operations.
    #[cfg(test)]
    pub(crate) const fn ops(&self) -> usize {
        self.ops
    }

    /// Whether no add or multiply (nor the product of a multiply-add) has an operand of the
    /// step as its first operand and an operation's result as its second. Compiled over a
    /// block's lanes, such an operation may have its operands swapped (to read the step's
    /// operand from memory), which changes which of two NaNs the result keeps; the batch
    /// runner fuses only trees without one.
    pub(crate) fn fits_lanes(&self) -> bool {
        // Where the subtree at each token ends, filled from the last token back.
        let mut end = [0; MAX_TOKENS];
        for i in (0..self.len).rev() {
            end[i] = match self.tokens[i] {
                Token::Leaf => i + 1,
                Token::Op(op) => (0..op.arity()).fold(i + 1, |at, _| end[at]),
            };
        }
        (0..self.len).all(|i| match self.tokens[i] {
            Token::Op(Op::Add | Op::Mul | Op::MulAdd) => {
                let second = end[i + 1];
                !(self.tokens[i + 1] == Token::Leaf && matches!(self.tokens[second], Token::Op(_)))
            }
            _ => true,
        })
    }

    /// The tree written in prefix order, one character a token: `+`, `-`, `*`, `f` (`a*b
    /// + c`, a multiply-add), `q` (a square) and `x` (an operand). `-xqx` is `a - b*b`.
    const fn parse(text: &str) -> Tree {
        let bytes = text.as_bytes();
        let mut tree =
            Tree { tokens: [Token::Leaf; MAX_TOKENS], len: bytes.len(), leaves: 0, ops: 0 };
        // Operands still owed: a well-formed tree ends owing none, and owes some before.
        let mut owed = 1;
        let mut i = 0;
        while i < bytes.len() {
            assert!(owed > 0, "a tree's tokens end where its operands do");
            let token = match bytes[i] {
                b'+' => Token::Op(Op::Add),
                b'-' => Token::Op(Op::Sub),
                b'*' => Token::Op(Op::Mul),
                b'f' => Token::Op(Op::MulAdd),
                b'q' => Token::Op(Op::Square),
                b'x' => Token::Leaf,
                _ => panic!("a token is one of + - * f q x"),
            };
            match token {
                Token::Op(op) => {
                    owed += op.arity() - 1;
                    tree.ops += 1;
                }
                Token::Leaf => {
                    owed -= 1;
                    tree.leaves += 1;
                }
            }
            tree.tokens[i] = token;
            i += 1;
        }
        assert!(owed == 0 && tree.leaves <= MAX_LEAVES && tree.ops >= 2, "a fused tree");
        tree
    }

    /// The value over operand values `x`: each operation rounded in turn by `apply` (see
    /// [`Op::apply`]), operands in the order the tape's instructions read them. The same
    /// operations as the instructions, so the same bits. For a constant tree the compiler
    /// unrolls the loop and keeps the stack in machine registers.
    #[inline(always)]
    fn eval<F: Float>(&self, x: [F; MAX_LEAVES], apply: impl Fn(Op, F, F, F) -> F) -> F {
        let mut stack = [F::zero(); MAX_TOKENS];
        let (mut depth, mut leaf) = (0, self.leaves);
        // Written out, not a loop, so that the compiler never leaves it a loop.
        macro_rules! tokens {
            ($($i:literal)*) => {$(
                if $i < self.len {
                    match self.tokens[$i] {
                        Token::Leaf => {
                            leaf -= 1;
                            stack[depth] = x[leaf];
                        }
                        Token::Op(op) => {
                            // The first operand is on top.
                            let n = op.arity();
                            let arg = |j: usize| stack[depth - 1 - j.min(n - 1)];
                            let v = apply(op, arg(0), arg(1), arg(2));
                            depth -= n;
                            stack[depth] = v;
                        }
                    }
                    depth += 1;
                }
            )*};
        }
        const _: () = assert!(MAX_TOKENS == 13, "a token per index");
        tokens!(12 11 10 9 8 7 6 5 4 3 2 1 0);
        stack[0]
    }
}

/// A fused step's form: one of [`Form::ALL`], by its place there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Form(u8);

/// Number of forms.
pub(crate) const FORMS: usize = 30;

impl Form {
    /// Every form's tree (see [`Tree::parse`]), the larger first: fusing tries them in this
    /// order. The square or product of one operand of an add, subtract, multiply or
    /// multiply-add; and trees of three and four operations that gradients are made of:
    /// a term of a sum of squares added to the running sum, `(a*b*b + c) + d*d`, and a
    /// chain-rule sum of products, `a*b + ((c*d)*e + f*g)`.
    pub(crate) const ALL: [Tree; FORMS] = [
        Tree::parse("fxxf*xxx*x-xx"),
        Tree::parse("+fxqxxq-xx"),
        Tree::parse("fxxf*xxx*xx"),
        Tree::parse("+fxqxxqx"),
        Tree::parse("fxxf*xxxx"),
        Tree::parse("fxqxqx"),
        Tree::parse("f*xxx*xx"),
        Tree::parse("+xqx"),
        Tree::parse("+x*xx"),
        Tree::parse("+qxx"),
        Tree::parse("+*xxx"),
        Tree::parse("-xqx"),
        Tree::parse("-x*xx"),
        Tree::parse("-qxx"),
        Tree::parse("-*xxx"),
        Tree::parse("*xqx"),
        Tree::parse("*x*xx"),
        Tree::parse("*qxx"),
        Tree::parse("*xq-xx"),
        Tree::parse("*-xxx"),
        Tree::parse("*x-xx"),
        Tree::parse("fqxxx"),
        Tree::parse("f*xxxx"),
        Tree::parse("fxqxx"),
        Tree::parse("fx*xxx"),
        Tree::parse("fxxqx"),
        Tree::parse("fxx*xx"),
        Tree::parse("q-xx"),
        Tree::parse("*x*x*xx"),
        Tree::parse("+x+xx"),
    ];

    /// The form at `index` in [`Form::ALL`].
    pub(crate) const fn at(index: usize) -> Form {
        assert!(index < FORMS, "a form's place");
        Form(index as u8)
    }

    /// The form's place in [`Form::ALL`].
    #[inline(always)]
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }

    /// The form's tree.
    #[inline(always)]
    pub(crate) fn tree(self) -> &'static Tree {
        &Self::ALL[self.index()]
    }

    /// Number of operands.
    pub(crate) fn arity(self) -> usize {
        self.tree().leaves
    }

    /// The operand registers of a step of this form whose operands start at `pool[at]`.
    pub(crate) fn operands(self, at: u32, pool: &[Reg]) -> &[Reg] {
        &pool[at as usize..][..self.arity()]
    }

    /// The value of form `Form::ALL[I]` over operand values `x` (see [`Tree::eval`]), each
    /// operation by `apply`: a constant tree, which the compiler unrolls.
    #[inline(always)]
    pub(crate) fn eval<F: Float, const I: usize>(
        x: [F; MAX_LEAVES],
        apply: impl Fn(Op, F, F, F) -> F,
    ) -> F {
        const { assert!(I < FORMS) };
        let tree = const { &Form::ALL[I] };
        tree.eval(x, apply)
    }

    /// The value of this form over `x`, the tree read as it runs: for tests.
    #[cfg(test)]
    pub(crate) fn eval_slowly<F: Float>(self, x: [F; MAX_LEAVES]) -> F {
        self.tree().eval(x, in_order)
    }

    /// The instructions a form stands for, each reading registers: the operands in
    /// registers `0..arity`, the instructions writing `arity..`, the last the step's value.
    #[cfg(test)]
    pub(crate) fn instructions(self) -> Vec<Instr> {
        let tree = self.tree();
        let mut stack: Vec<Reg> = Vec::new();
        let (mut leaf, mut next) = (tree.leaves as Reg, tree.leaves as Reg);
        let mut out = Vec::new();
        for i in (0..tree.len).rev() {
            match tree.tokens[i] {
                Token::Leaf => {
                    leaf -= 1;
                    stack.push(leaf);
                }
                Token::Op(op) => {
                    let args: Vec<Reg> = (0..op.arity()).map(|_| stack.pop().unwrap()).collect();
                    let d = next;
                    next += 1;
                    out.push(match op {
                        Op::Add => Instr::Add { d, a: args[0], b: args[1] },
                        Op::Sub => Instr::Sub { d, a: args[0], b: args[1] },
                        Op::Mul => Instr::Mul { d, a: args[0], b: args[1] },
                        Op::MulAdd => Instr::MulAdd { d, a: args[0], b: args[1], c: args[2] },
                        Op::Square => Instr::Square { d, a: args[0] },
                    });
                    stack.push(d);
                }
            }
        }
        out
    }
}

/// The steps of a batch run and the register file they need.
#[derive(Clone, Debug)]
pub(crate) struct BatchSteps {
    pub(crate) steps: Vec<Step>,
    /// The logsumexp arguments, over the program's registers.
    pub(crate) pool: Vec<Reg>,
    /// The constants and their registers. The inputs keep the tape's registers `0..inputs`.
    pub(crate) constants: Vec<(Reg, f64)>,
    /// Length of the register file.
    pub(crate) registers: usize,
}

impl BatchSteps {
    /// The batch program of `tape`.
    pub(crate) fn new(tape: &Tape) -> BatchSteps {
        let values = Values::new(tape, Merge { sin_cos: true, fuse: true, lanes: true });
        let order = batch_order(&values);
        Allocation::run(tape, &values, &order, false)
    }

    /// The steps of `tape` (whose `values` these are) in `order`, registers given along it,
    /// no output's register given again; and each output's register, in place of the
    /// [`Step::Output`] steps, which are left out.
    pub(crate) fn keeping_outputs(
        tape: &Tape,
        values: &Values,
        order: &[usize],
    ) -> (BatchSteps, Vec<Reg>) {
        let mut allocated = Allocation::run(tape, values, order, true);
        let mut outputs = vec![0; values.outputs.len()];
        allocated.steps.retain(|step| match *step {
            Step::Output { k, r } => {
                outputs[k as usize] = r;
                false
            }
            _ => true,
        });
        (allocated, outputs)
    }
}

/// Which instructions [`Values`] makes in one step with another.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Merge {
    /// A `sin` and a `cos` of one value ([`Step::SinCos`]).
    pub(crate) sin_cos: bool,
    /// Instructions whose results only one other reads, inside that reader
    /// ([`Step::Fused`]).
    pub(crate) fuse: bool,
    /// Of those, only in the forms [`Tree::fits_lanes`] allows, and only those whose results
    /// one reads (for the batch runner, whose register file grew when several readers
    /// computed an instruction: Rosenbrock 200's from under 224 registers to 395).
    pub(crate) lanes: bool,
}

/// `tape` with its instructions in the order of [`schedule`](super::schedule::schedule),
/// as `refine` changes it (given the order and each instruction's operand instructions),
/// and registers given again, each output's kept to the end: for native code, whose
/// register allocator spills what lives long. (The batch runner's own order keeps fewer
/// values alive but puts a value's users further from it; for native code's machine
/// registers the other order was faster: the 10-32-1 net 785 ns a gradient against 1,095.)
#[cfg(feature = "native")]
pub(crate) fn scheduled(
    tape: &Tape,
    refine: impl FnOnce(Vec<usize>, &[SmallVec<[u32; 3]>]) -> Vec<usize>,
) -> Tape {
    let values = Values::new(tape, Merge::default());
    let operands: Vec<SmallVec<[u32; 3]>> =
        values.temporaries.iter().map(|t| t.iter().map(|&v| v - values.fixed).collect()).collect();
    let order: Vec<usize> =
        super::schedule::schedule(&operands).into_iter().map(|k| k as usize).collect();
    reordered(tape, &values, &refine(order, &operands))
}

/// `tape` (whose `values` these are) with its instructions in `order` and registers given
/// again along it, each output's kept to the end.
#[cfg(feature = "native")]
pub(crate) fn reordered(tape: &Tape, values: &Values, order: &[usize]) -> Tape {
    let (program, outputs) = BatchSteps::keeping_outputs(tape, values, order);
    let instrs = program.steps.into_iter().map(|step| match step {
        Step::Tape(ins) => ins,
        _ => unreachable!("sin, cos and fused steps are made apart"),
    });
    let reordered = Tape {
        instrs: instrs.collect(),
        pool: program.pool,
        inputs: tape.inputs.clone(),
        input_vars: tape.input_vars.clone(),
        input_nodes: tape.input_nodes.clone(),
        constants: program.constants,
        registers: program.registers,
        outputs,
        defs: order.iter().map(|&k| tape.defs[k]).collect(),
        batch_steps: Default::default(),
        program: Default::default(),
    };
    assert!(reordered.validate(), "the order named a register out of range");
    reordered
}

/// Marks a value nobody reads.
const UNREAD: u32 = u32::MAX;
/// Marks a value whose register is never given again.
const KEPT: u32 = u32::MAX - 1;

/// The tape with each register read replaced by the value the register holds then.
/// Values `0..fixed` are the inputs and then the constants (in the tape's order);
/// `fixed + k` is instruction `k`'s result.
pub(crate) struct Values {
    pub(crate) fixed: u32,
    /// The operand values of every instruction, one after another.
    args: Vec<u32>,
    /// Instruction `k`'s operands are `args[starts[k]..starts[k + 1]]`.
    starts: Vec<u32>,
    /// Each output's value.
    pub(crate) outputs: Vec<u32>,
    /// For the first of a `sin` and a `cos` of one value, the position of the other,
    /// which it makes too.
    partner: Vec<Option<u32>>,
    /// Whether instruction `k` is made by its partner or inside its reader.
    pub(crate) merged: Vec<bool>,
    /// The form of an instruction that computes one of its operands inside ([`Step::Fused`]);
    /// its operands are then the fused step's.
    pub(crate) fused: Vec<Option<Form>>,
    /// The instruction whose step makes instruction `k`'s value: `k`, or its partner.
    maker: Vec<u32>,
    /// The operand values of instruction `k`'s step that are temporaries (not inputs or
    /// constants), each once; none for an instruction made by its partner.
    pub(crate) temporaries: Vec<SmallVec<[u32; 3]>>,
}

impl Values {
    /// The values of `tape`, with the instructions `merge` names made with another.
    pub(crate) fn new(tape: &Tape, merge: Merge) -> Values {
        let inputs = tape.inputs.len();
        let fixed = (inputs + tape.constants.len()) as u32;
        let mut value_of: Vec<u32> = (0..tape.registers.max(inputs) as u32).collect();
        for (j, &(r, _)) in tape.constants.iter().enumerate() {
            value_of[r as usize] = inputs as u32 + j as u32;
        }
        let n = tape.instrs.len();
        let (mut args, mut starts) = (Vec::with_capacity(2 * n), Vec::with_capacity(n + 1));
        starts.push(0);
        for (k, ins) in tape.instrs.iter().enumerate() {
            args.extend(ins.operands(&tape.pool).iter().map(|&r| value_of[r as usize]));
            starts.push(args.len() as u32);
            value_of[ins.dst() as usize] = fixed + k as u32;
        }
        let outputs = tape.outputs.iter().map(|&r| value_of[r as usize]).collect();
        let mut values = Values {
            fixed,
            args,
            starts,
            outputs,
            partner: vec![None; n],
            merged: vec![false; n],
            fused: vec![None; n],
            maker: (0..n as u32).collect(),
            temporaries: Vec::new(),
        };
        if merge.sin_cos {
            values.pair_sines_and_cosines(tape);
        }
        if merge.fuse {
            values.fuse(&tape.instrs, merge.lanes);
        }
        values.temporaries = (0..n).map(|k| values.distinct_temporaries(k)).collect();
        values
    }

    /// Instruction `k`'s operand values that are temporaries, each once (none when its
    /// partner makes it).
    fn distinct_temporaries(&self, k: usize) -> SmallVec<[u32; 3]> {
        if self.merged[k] {
            return SmallVec::new();
        }
        let mut ops: SmallVec<[u32; 3]> =
            self.operands(k).iter().copied().filter(|&v| v >= self.fixed).collect();
        ops.sort_unstable();
        ops.dedup();
        ops
    }

    /// Instruction `k`'s operand values.
    fn operands(&self, k: usize) -> &[u32] {
        &self.args[self.starts[k] as usize..self.starts[k + 1] as usize]
    }

    /// Pairs each `sin(v)` with a `cos(v)` of the same value ([`Tape::sin_cos_pairs`]),
    /// the later made by the earlier.
    fn pair_sines_and_cosines(&mut self, tape: &Tape) {
        for (first, second) in tape.sin_cos_pairs() {
            self.partner[first] = Some(second as u32);
            self.merged[second] = true;
            self.maker[second] = first as u32;
        }
    }

    /// Fuses into each instruction, readers before what they read, the largest tree of
    /// [`Form::ALL`] that it heads where every other operation of the tree is an instruction
    /// whose result only its parent reads (once, and no output reads it), or (but with
    /// `lanes`) one that reads only inputs and constants, which each reader computes again.
    fn fuse(&mut self, instrs: &[Instr], lanes: bool) {
        let mut reads = vec![0u32; self.fixed as usize + instrs.len()];
        for &v in self.args.iter().chain(&self.outputs) {
            reads[v as usize] += 1;
        }
        // Which instructions a reader's step may compute inside.
        let inlinable: Vec<bool> = (0..instrs.len())
            .map(|j| reads[self.fixed as usize + j] == 1 || (!lanes && self.of_fixed(j)))
            .collect();
        let mut leaves: Vec<Vec<u32>> = vec![Vec::new(); instrs.len()];
        let mut inside = SmallVec::<[usize; MAX_TOKENS]>::new();
        // How many of each instruction's reads its readers' steps compute inside.
        let mut inlined = vec![0u32; instrs.len()];
        for k in (0..instrs.len()).rev() {
            // Every reader (all after it) has had its turn: computed inside each of them,
            // the instruction needs no step of its own.
            if inlined[k] > 0 && inlined[k] == reads[self.fixed as usize + k] {
                self.merged[k] = true;
                continue;
            }
            if self.merged[k] || self.partner[k].is_some() {
                continue;
            }
            let forms = (0..FORMS).map(Form::at).filter(|f| !lanes || f.tree().fits_lanes());
            let found = forms.into_iter().find_map(|form| {
                let mut ops = Vec::new();
                inside.clear();
                self.matches(instrs, &inlinable, form.tree(), k, &mut ops, &mut inside)
                    .then_some((form, ops))
            });
            if let Some((form, ops)) = found {
                self.fused[k] = Some(form);
                leaves[k] = ops;
                for &j in &inside {
                    inlined[j] += 1;
                }
            }
        }
        let mut args = Vec::with_capacity(self.args.len());
        let mut starts = vec![0];
        for (k, fused) in leaves.iter().enumerate() {
            match self.fused[k] {
                Some(_) => args.extend_from_slice(fused),
                None => args.extend_from_slice(self.operands(k)),
            }
            starts.push(args.len() as u32);
        }
        (self.args, self.starts) = (args, starts);
    }

    /// Whether instruction `j` reads only inputs and constants: one operation that each of
    /// its readers may as well compute again inside its own step (the same operation on
    /// the same operands, so the same bits), which saves a step and a register.
    fn of_fixed(&self, j: usize) -> bool {
        self.operands(j).iter().all(|&v| v < self.fixed)
    }

    /// Whether instruction `root` heads `tree`: its operation is the tree's first, and each
    /// operation further down is an instruction, not yet merged, that is `inlinable`. Fills
    /// `ops` with the operand values in order and `inside` with the instructions below the
    /// root.
    fn matches(
        &self,
        instrs: &[Instr],
        inlinable: &[bool],
        tree: &Tree,
        root: usize,
        ops: &mut Vec<u32>,
        inside: &mut SmallVec<[usize; MAX_TOKENS]>,
    ) -> bool {
        let mut pending: SmallVec<[u32; MAX_TOKENS]> = SmallVec::new();
        pending.push(self.fixed + root as u32);
        for (i, token) in tree.tokens[..tree.len].iter().enumerate() {
            let Some(v) = pending.pop() else { return false };
            let Token::Op(op) = *token else {
                ops.push(v);
                continue;
            };
            let Some(j) = v.checked_sub(self.fixed).map(|j| j as usize) else { return false };
            let plain = !self.merged[j] && self.partner[j].is_none() && self.fused[j].is_none();
            let alone = i == 0 || (plain && inlinable[j]);
            if !alone || Op::of(&instrs[j]) != Some(op) {
                return false;
            }
            if i > 0 {
                inside.push(j);
            }
            pending.extend(self.operands(j).iter().rev().copied());
        }
        pending.is_empty()
    }

    /// The values instruction `k`'s step makes: its own and its partner's.
    fn made_by(&self, k: usize) -> impl Iterator<Item = u32> + '_ {
        let own = self.fixed + k as u32;
        std::iter::once(own).chain(self.partner[k].map(|p| self.fixed + p))
    }
}

/// The order to run the instructions in (partners made by their first left out): each
/// output's instructions depth first, when they are needed, and any instruction whose
/// operands are ready as soon as running it keeps no more values alive than before (it
/// reads the last of some value and makes one): a sum picks up its terms as they come.
/// The value that comes first in the outputs goes last: in a gradient program the formula's
/// own value is what the gradients' intermediate values feed.
fn batch_order(values: &Values) -> Vec<usize> {
    let mut s = Scheduler::new(values);
    let roots = values.outputs.iter().skip(1).chain(values.outputs.first());
    for &root in roots {
        if root >= values.fixed {
            s.depth_first(s.maker(root));
        }
    }
    s.order
}

/// The state of [`batch_order`].
struct Scheduler<'a> {
    values: &'a Values,
    /// The instructions that read each value.
    readers: Readers,
    /// Readers of each value not yet run.
    remaining: Vec<u32>,
    /// Operands of each instruction not yet made.
    pending: Vec<u32>,
    done: Vec<bool>,
    order: Vec<usize>,
    /// Instructions to try running early.
    candidates: Vec<usize>,
}

impl<'a> Scheduler<'a> {
    fn new(values: &'a Values) -> Scheduler<'a> {
        let n = values.merged.len();
        let readers = Readers::new(values.fixed as usize + n, &values.temporaries);
        let values_count = values.fixed + n as u32;
        Scheduler {
            values,
            remaining: (0..values_count).map(|v| readers.of(v).len() as u32).collect(),
            pending: values.temporaries.iter().map(|ops| ops.len() as u32).collect(),
            readers,
            done: vec![false; n],
            order: Vec::with_capacity(n),
            candidates: Vec::new(),
        }
    }

    /// The instruction whose step makes value `v` (a temporary).
    fn maker(&self, v: u32) -> usize {
        self.values.maker[(v - self.values.fixed) as usize] as usize
    }

    /// Runs instruction `root` after everything it needs, depth first.
    fn depth_first(&mut self, root: usize) {
        let mut stack = vec![(root, false)];
        while let Some((k, expanded)) = stack.pop() {
            if self.done[k] {
                continue;
            }
            if expanded {
                self.run(k);
                continue;
            }
            stack.push((k, true));
            for &v in self.values.temporaries[k].iter().rev() {
                let maker = self.maker(v);
                if !self.done[maker] {
                    stack.push((maker, false));
                }
            }
        }
    }

    /// Appends instruction `k` (ready) and then whatever it lets run early.
    fn run(&mut self, k: usize) {
        self.candidates.push(k);
        while let Some(k) = self.candidates.pop() {
            if self.done[k] || self.pending[k] > 0 {
                continue;
            }
            self.done[k] = true;
            self.order.push(k);
            let values = self.values;
            for &v in &values.temporaries[k] {
                self.remaining[v as usize] -= 1;
                if self.remaining[v as usize] == 1 {
                    self.try_last_reader(v);
                }
            }
            for v in values.made_by(k) {
                for i in 0..self.readers.of(v).len() {
                    let r = self.readers.of(v)[i] as usize;
                    self.pending[r] -= 1;
                    if self.pending[r] == 0 {
                        self.try_early(r);
                    }
                }
                if self.remaining[v as usize] == 1 {
                    self.try_last_reader(v);
                }
            }
        }
    }

    /// Tries the one reader of `v` not yet run.
    fn try_last_reader(&mut self, v: u32) {
        let last = self.readers.of(v).iter().map(|&r| r as usize).find(|&r| !self.done[r]);
        if let Some(r) = last {
            self.try_early(r);
        }
    }

    /// Queues instruction `k` if it is ready and ends at least as many values as it makes.
    /// A logsumexp of more than three arguments waits for its turn: counting what it ends
    /// each time one of its arguments is down to its last reader would take quadratic time.
    fn try_early(&mut self, k: usize) {
        if self.done[k] || self.pending[k] > 0 || self.is_long_logsumexp(k) {
            return;
        }
        let ends =
            self.values.temporaries[k].iter().filter(|&&v| self.remaining[v as usize] == 1).count();
        let makes = self.values.made_by(k).filter(|&v| self.remaining[v as usize] > 0).count();
        if makes <= ends {
            self.candidates.push(k);
        }
    }

    /// Whether instruction `k` is a logsumexp of more than three arguments.
    fn is_long_logsumexp(&self, k: usize) -> bool {
        self.values.fused[k].is_none() && self.values.operands(k).len() > 3
    }
}

/// Who reads what: for items `0..items` read by readers `0..operands.len()`, reader `k`
/// reading the items `operands[k]` (each once), the readers of each item, in order.
pub(crate) struct Readers {
    start: Vec<u32>,
    readers: Vec<u32>,
}

impl Readers {
    pub(crate) fn new(items: usize, operands: &[SmallVec<[u32; 3]>]) -> Readers {
        let mut start = vec![0u32; items + 1];
        for &i in operands.iter().flatten() {
            start[i as usize + 1] += 1;
        }
        for i in 0..items {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut readers = vec![0u32; start[items] as usize];
        for (k, ops) in operands.iter().enumerate() {
            for &i in ops {
                readers[fill[i as usize] as usize] = k as u32;
                fill[i as usize] += 1;
            }
        }
        Readers { start, readers }
    }

    /// The readers of item `i`.
    pub(crate) fn of(&self, i: u32) -> &[u32] {
        &self.readers[self.start[i as usize] as usize..self.start[i as usize + 1] as usize]
    }
}

/// Registers given to values along an order, and the steps that result.
struct Allocation {
    /// Each value's register while it lives.
    reg: Vec<Reg>,
    /// Registers free for reuse, the most recently freed (likeliest in cache) last.
    free: Vec<Reg>,
    /// Registers given out so far.
    next: Reg,
}

impl Allocation {
    /// The steps of `order`; with `keep_outputs`, no output's register is given again.
    fn run(tape: &Tape, values: &Values, order: &[usize], keep_outputs: bool) -> BatchSteps {
        let fixed = values.fixed;
        let mut last_read = last_reads(values, order);
        if keep_outputs {
            values.outputs.iter().for_each(|&v| last_read[v as usize] = KEPT);
        }
        let mut by_value: Vec<(u32, u32)> =
            values.outputs.iter().enumerate().map(|(k, &v)| (v, k as u32)).collect();
        by_value.sort_unstable();
        let outputs_of = |v: u32| {
            let first = by_value.partition_point(|&(w, _)| w < v);
            by_value[first..].iter().take_while(move |&&(w, _)| w == v).map(|&(_, k)| k)
        };
        let mut a = Allocation {
            reg: (0..fixed).chain(std::iter::repeat_n(UNREAD, tape.instrs.len())).collect(),
            free: Vec::new(),
            next: fixed,
        };
        let mut steps = Vec::with_capacity(order.len() + values.outputs.len());
        for v in 0..fixed {
            steps.extend(outputs_of(v).map(|k| Step::Output { k, r: v }));
        }
        let mut pool = Vec::new();
        for (at, &k) in order.iter().enumerate() {
            for v in values.made_by(k) {
                a.reg[v as usize] = a.take();
            }
            steps.push(a.step(tape, values, k, &mut pool));
            for v in values.made_by(k) {
                steps.extend(outputs_of(v).map(|o| Step::Output { k: o, r: a.reg[v as usize] }));
                if last_read[v as usize] == UNREAD {
                    a.free.push(a.reg[v as usize]);
                }
            }
            for &v in &values.temporaries[k] {
                if last_read[v as usize] == at as u32 {
                    a.free.push(a.reg[v as usize]);
                }
            }
        }
        let constants = tape.constants.iter().enumerate();
        let inputs = tape.inputs.len() as Reg;
        BatchSteps {
            steps,
            pool,
            constants: constants.map(|(j, &(_, c))| (inputs + j as Reg, c)).collect(),
            registers: (a.next as usize).max(tape.inputs.len()),
        }
    }

    /// A free register, or a new one.
    fn take(&mut self) -> Reg {
        self.free.pop().unwrap_or_else(|| {
            self.next += 1;
            self.next - 1
        })
    }

    /// The step of instruction `k`, over the registers given (logsumexp arguments go to
    /// `pool`).
    fn step(&self, tape: &Tape, values: &Values, k: usize, pool: &mut Vec<Reg>) -> Step {
        let reg = |v: u32| self.reg[v as usize];
        let ops = values.operands(k);
        let d = reg(values.fixed + k as u32);
        if let Some(p) = values.partner[k] {
            let other = reg(values.fixed + p);
            let Instr::Func1 { f, .. } = tape.instrs[k] else { unreachable!("paired sin/cos") };
            let (sin, cos) = if f == Func::Sin { (d, other) } else { (other, d) };
            return Step::SinCos { sin, cos, a: reg(ops[0]) };
        }
        let ops: SmallVec<[Reg; 4]> = ops.iter().map(|&v| reg(v)).collect();
        if let Some(form) = values.fused[k] {
            assert_eq!(ops.len(), form.arity(), "an operand per leaf of the form");
            let at = pool.len() as u32;
            pool.extend_from_slice(&ops);
            return Step::Fused { d, form, at };
        }
        Step::Tape(tape.instrs[k].with_registers(d, &ops, pool))
    }
}

/// For each value, the position in `order` of its last reader (`UNREAD` for none and for
/// the inputs and constants, which live throughout).
fn last_reads(values: &Values, order: &[usize]) -> Vec<u32> {
    let mut last = vec![UNREAD; values.fixed as usize + values.merged.len()];
    for (at, &k) in order.iter().enumerate() {
        for &v in &values.temporaries[k] {
            last[v as usize] = at as u32;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    /// Rosenbrock's gradient, laid out on the tape as the whole forward pass and then the
    /// whole backward pass, keeps every intermediate value alive across; the batch program
    /// runs each term's instructions together and hands each derivative on when it is made,
    /// so it needs a handful of registers beyond the inputs and constants.
    #[test]
    fn rosenbrock_batches_need_a_few_registers_beyond_inputs_and_constants() {
        let n = 200;
        let tape = crate::eval::rosenbrock_gradient_tape(n);
        let steps = super::BatchSteps::new(&tape);
        let fixed = n + tape.constants.len();
        assert!(tape.registers() > fixed + 3 * n, "the tape's {} registers", tape.registers());
        assert!(steps.registers <= fixed + 16, "{} registers for {fixed} fixed", steps.registers);
    }
}
