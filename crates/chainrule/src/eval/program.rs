//! The point runner's program: the tape's instructions in an order that puts instructions
//! of one kind together where they are independent ([`kind_order`]), registers given
//! again along that order, and each stretch of one kind run as a loop of its own (one
//! dispatch for the stretch, a loop body that knows the instruction). An instruction whose
//! result one other reads is computed inside that reader's step where the two, with
//! others, make one of the trees of [`Form::ALL`] ([`Step::Fused`]), which saves their
//! stores, loads and dispatches. An operand that is the result of the step just before
//! is read from a machine register (the accumulator, [`ACC`]) rather than from the
//! register file, whose store and reload would otherwise sit on a chain of dependent steps
//! such as a running sum. Every instruction computes what it computes on the tape, from
//! the same operands, so the bits are the tape's.
//!
//! Rosenbrock's gradient over 100 variables (1,088 instructions) took 2.4 µs a point one
//! instruction at a time, 1.1 µs with two-instruction fused steps (seven steps a term) and
//! 0.7 µs with the trees of up to four (three a term); a 10-32-1 network's, 3.0 µs, 1.7 µs
//! and 1.5 µs.

use super::steps::{BatchSteps, Form, Merge, Op, Readers, Step, Values, FORMS};
use super::tape::{Instr, Reg, Tape};

/// The operand that names the result of the step just before.
pub(crate) const ACC: Reg = Reg::MAX;

/// The steps of a point run, and the register file they need.
#[derive(Clone, Debug)]
pub(crate) struct Program {
    /// Tape instructions and fused steps, with [`ACC`] for each operand made just before.
    pub(crate) steps: Vec<Step>,
    /// The stretches of steps of one kind that run in a loop of their own, in order.
    pub(crate) runs: Vec<Run>,
    /// The logsumexp arguments, over the program's registers.
    pub(crate) pool: Vec<Reg>,
    /// The constants and their registers. The inputs keep the tape's registers `0..inputs`.
    pub(crate) constants: Vec<(Reg, f64)>,
    /// Length of the register file.
    pub(crate) registers: usize,
    /// Each output's register.
    pub(crate) outputs: Vec<Reg>,
}

/// Steps `start..start + len` of the program, all of one [`Kind`]: one dispatch, then a
/// loop that knows what each of them does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    pub(crate) kind: Kind,
    pub(crate) start: u32,
    pub(crate) len: u32,
    /// Whether a step of the run reads [`ACC`] (a loop that never does looks at no
    /// operand for it).
    pub(crate) reads_acc: bool,
}

/// The steps that come in runs often enough to have a loop of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A tape instruction of an operation a fused step may hold too.
    Op(Op),
    Neg,
    Fused(Form),
}

impl Kind {
    /// Number of kinds ([`Kind::index`] is below it).
    const COUNT: usize = Op::COUNT + 1 + FORMS;

    fn of(step: &Step) -> Option<Kind> {
        match step {
            Step::Tape(ins) => Kind::of_instr(ins),
            Step::Fused { form, .. } => Some(Kind::Fused(*form)),
            Step::SinCos { .. } | Step::Output { .. } => None,
        }
    }

    fn of_instr(ins: &Instr) -> Option<Kind> {
        match ins {
            Instr::Neg { .. } => Some(Kind::Neg),
            _ => Op::of(ins).map(Kind::Op),
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::Op(op) => op as usize,
            Kind::Neg => Op::COUNT,
            Kind::Fused(form) => Op::COUNT + 1 + form.index(),
        }
    }
}

/// The shortest stretch of one kind given a loop of its own (a loop of two or three, whose
/// end the processor may not foresee, saves little over dispatching each).
pub(crate) const MIN_RUN: usize = 4;

/// The runs of `steps` (fused steps' operands in `pool`): each stretch of [`MIN_RUN`] or
/// more steps of one kind.
fn runs(steps: &[Step], pool: &[Reg]) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut start = 0;
    while start < steps.len() {
        let kind = Kind::of(&steps[start]);
        let len = match kind {
            Some(k) => steps[start..].iter().take_while(|s| Kind::of(s) == Some(k)).count(),
            None => 1,
        };
        if let Some(kind) = kind.filter(|_| len >= MIN_RUN) {
            let of_run = &steps[start..start + len];
            let reads_acc = of_run.iter().any(|s| operands(s, pool).contains(&ACC));
            runs.push(Run { kind, start: start as u32, len: len as u32, reads_acc });
        }
        start += len;
    }
    runs
}

impl Program {
    /// The program of `tape`.
    pub(crate) fn new(tape: &Tape) -> Program {
        let values = Values::new(tape, Merge { sin_cos: false, fuse: true, lanes: false });
        let order = kind_order(&values, &tape.instrs);
        let (allocated, outputs) = BatchSteps::keeping_outputs(tape, &values, &order);
        let mut program = Program {
            steps: allocated.steps,
            runs: Vec::new(),
            pool: allocated.pool,
            constants: allocated.constants,
            registers: allocated.registers.max(tape.inputs.len()),
            outputs,
        };
        assert!(program.in_bounds(), "the allocation named a register out of range");
        for k in 1..program.steps.len() {
            let prev = destination(&program.steps[k - 1]);
            forward(&mut program.steps[k], prev, &mut program.pool);
        }
        program.runs = runs(&program.steps, &program.pool);
        program
    }

    /// True when every register a step, the pool, a constant or an output names is below
    /// [`Program::registers`], and no step writes one of its own operands: what the point
    /// runner relies on.
    fn in_bounds(&self) -> bool {
        let n = self.registers as Reg;
        let step_ok = |step: &Step| {
            let d = destination(step);
            d < n && operands(step, &self.pool).iter().all(|&o| o < n && o != d)
        };
        self.steps.iter().all(step_ok)
            && self.constants.iter().all(|&(r, _)| r < n)
            && self.outputs.iter().all(|&o| o < n)
    }
}

/// The register a point program's step writes.
fn destination(step: &Step) -> Reg {
    match step {
        Step::Tape(ins) => ins.dst(),
        Step::Fused { d, .. } => *d,
        Step::SinCos { .. } | Step::Output { .. } => unreachable!("not in a point program"),
    }
}

/// The registers a point program's step reads.
fn operands(step: &Step, pool: &[Reg]) -> smallvec::SmallVec<[Reg; 4]> {
    match step {
        Step::Tape(ins) => ins.operands(pool).into_iter().collect(),
        Step::Fused { form, at, .. } => form.operands(*at, pool).iter().copied().collect(),
        Step::SinCos { .. } | Step::Output { .. } => unreachable!("not in a point program"),
    }
}

/// How far past the first instruction not yet placed [`kind_order`] looks for one of the
/// kind just placed (which bounds how long it keeps values alive beyond the tape's order).
const WINDOW: usize = 1024;

/// The order of the steps (instructions computed inside another's step left out): the
/// tape's, except that after a step of a [`Kind`] comes the first ready one of that kind,
/// if any, in the next [`WINDOW`] instructions, so that steps of one kind come in runs.
fn kind_order(values: &Values, instrs: &[Instr]) -> Vec<usize> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = instrs.len();
    let fixed = values.fixed;
    let readers = Readers::new(fixed as usize + n, &values.temporaries);
    let mut pending: Vec<u32> = values.temporaries.iter().map(|t| t.len() as u32).collect();
    let class = |k: usize| {
        let kind = values.fused[k].map(Kind::Fused).or_else(|| Kind::of_instr(&instrs[k]));
        kind.map_or(0, |kind| kind.index() + 1)
    };
    let mut ready: Vec<BinaryHeap<Reverse<u32>>> = vec![BinaryHeap::new(); Kind::COUNT + 1];
    // An instruction computed inside its reader's step has no step of its own.
    let mut done = values.merged.clone();
    let steps = done.iter().filter(|&&d| !d).count();
    let mut order = Vec::with_capacity(steps);
    let (mut first, mut last) = (0, 0);
    for k in (0..n).filter(|&k| pending[k] == 0 && !done[k]) {
        ready[class(k)].push(Reverse(k as u32));
    }
    while order.len() < steps {
        while done[first] {
            first += 1;
        }
        let same = ready[last].peek().map(|r| r.0 as usize);
        let k = match same {
            Some(k) if last > 0 && k < first + WINDOW && !done[k] => {
                ready[last].pop();
                k
            }
            Some(k) if done[k] => {
                ready[last].pop();
                continue;
            }
            _ => first,
        };
        done[k] = true;
        order.push(k);
        last = class(k);
        for &r in readers.of(fixed + k as u32) {
            pending[r as usize] -= 1;
            if pending[r as usize] == 0 {
                ready[class(r as usize)].push(Reverse(r));
            }
        }
    }
    order
}

/// Names `prev`, wherever `step` reads it, as [`ACC`] (a fused step's operands are its own
/// part of `pool`; a logsumexp's are left alone).
fn forward(step: &mut Step, prev: Reg, pool: &mut [Reg]) {
    let rename = |r: &mut Reg| {
        if *r == prev {
            *r = ACC;
        }
    };
    match step {
        Step::Tape(ins) => ins.fixed_operands_mut().into_iter().for_each(rename),
        Step::Fused { form, at, .. } => {
            pool[*at as usize..][..form.arity()].iter_mut().for_each(rename)
        }
        Step::SinCos { .. } | Step::Output { .. } => unreachable!("not in a point program"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Program, Step, ACC, MIN_RUN};

    /// Rosenbrock's gradient, whose terms are alike and independent, runs mostly (nine
    /// steps in ten) in loops of one kind, some steps read the accumulator, and its
    /// instructions are computed inside their readers' steps (three steps a term where
    /// the tape has eleven instructions: `1 - x`, which two read, inside both).
    #[test]
    fn rosenbrock_runs_in_loops_of_one_kind() {
        let tape = crate::eval::rosenbrock_gradient_tape(50);
        let program = Program::new(&tape);
        let steps = program.steps.len();
        assert!(steps * 3 <= tape.len(), "{steps} steps for {} instructions", tape.len());
        assert!(program.runs.iter().all(|r| r.len as usize >= MIN_RUN));
        let in_runs: u32 = program.runs.iter().map(|r| r.len).sum();
        assert!(in_runs as usize * 10 >= steps * 9, "{in_runs} of {steps} in runs");
        let reads_acc = |step: &Step| super::operands(step, &program.pool).contains(&ACC);
        let acc_reads = program.steps.iter().filter(|s| reads_acc(s)).count();
        assert!(acc_reads > 0, "no step reads the accumulator");
        assert!(!reads_acc(&program.steps[0]), "nothing before the first step");
        // The running sum's loop reads the accumulator; the others' loops look for it nowhere.
        for run in &program.runs {
            let (start, end) = (run.start as usize, (run.start + run.len) as usize);
            assert_eq!(run.reads_acc, program.steps[start..end].iter().any(reads_acc));
        }
        assert!(program.runs.iter().any(|r| r.reads_acc), "the sum reads the accumulator");
        let plain = program.runs.iter().filter(|r| !r.reads_acc).count();
        assert!(plain * 2 > program.runs.len(), "{plain} of {} runs", program.runs.len());
    }
}
