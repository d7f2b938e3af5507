//! Running a tape: at one point (any `num_traits::Float`), with a watch for the first
//! NaN or infinity, and over many rows at once.
//!
//! The batch runner works instruction by instruction over a block of rows, so the cost of
//! dispatching an instruction is paid once per block and the inner loops over the rows are
//! plain slice loops the compiler vectorises. Blocks of rows go to rayon's threads; sums
//! over rows are added up in a fixed order, so results do not depend on the thread count.

use super::batch::{in_chunks, Sink};
use super::program::{Kind, Program, Run, ACC};
use super::steps::{in_order, BatchSteps, Form, Op, Step, FORMS, MAX_LEAVES};
use super::tape::{Instr, Reg, Tape};
use crate::graph::Func;
use crate::graph::NodeId;
use crate::operators::fastmath;
use crate::operators::kernels::{self, logsumexp};
use num_traits::Float;

/// Rows per block in the batch runner.
pub const BLOCK: usize = 64;

impl Tape {
    /// Evaluates the tape at `inputs` (one value per input) and returns the outputs.
    /// `registers` is a work buffer, reused across calls to avoid allocation.
    pub fn run<F: Float>(&self, inputs: &[F], registers: &mut Vec<F>) -> Vec<F> {
        let mut out = vec![F::zero(); self.outputs.len()];
        self.run_into(inputs, registers, &mut out);
        out
    }

    /// Evaluates the tape at `inputs`, writing the outputs into `out`. The first call builds
    /// the point runner's program and sizes `registers`; later calls allocate nothing.
    pub fn run_into<F: Float>(&self, inputs: &[F], registers: &mut Vec<F>, out: &mut [F]) {
        assert_eq!(inputs.len(), self.inputs.len(), "one value per input");
        assert_eq!(out.len(), self.outputs.len(), "one slot per output");
        let program = self.program.get_or_init(|| Program::new(self));
        load(program.registers, &program.constants, inputs, registers);
        // SAFETY: `load` made `registers` hold `program.registers` values, and every register
        // a step, the argument pool or an output names is below that (`Program::new` checked
        // it; its fields cannot change afterwards) or is `ACC`, which `execute` reads from
        // its accumulator.
        unsafe { execute(&program.steps, &program.runs, &program.pool, registers.as_mut_ptr()) };
        for (o, &reg) in out.iter_mut().zip(&program.outputs) {
            *o = registers[reg as usize];
        }
    }

    /// Runs the tape at `inputs` watching every step, and returns the graph node of the
    /// first step whose value is NaN or infinite while its operands are finite (or the
    /// variable whose input is not finite): where a non-finite value came from.
    pub fn first_nonfinite<F: Float>(&self, inputs: &[F]) -> Option<(NodeId, F)> {
        if let Some(i) = inputs.iter().position(|v| !v.is_finite()) {
            return self.input_nodes[i].map(|n| (n, inputs[i]));
        }
        let mut registers = Vec::new();
        load(self.registers, &self.constants, inputs, &mut registers);
        for (ins, &node) in self.instrs.iter().zip(&self.defs) {
            let (d, v) = apply(ins, |x| registers[x as usize], &self.pool);
            let operands_finite =
                ins.operands(&self.pool).iter().all(|&o| registers[o as usize].is_finite());
            if !v.is_finite() && operands_finite {
                return Some((node, v));
            }
            registers[d as usize] = v;
        }
        None
    }
}

/// Fills a register file of `len` registers with `inputs` and `constants`.
fn load<F: Float>(len: usize, constants: &[(Reg, f64)], inputs: &[F], registers: &mut Vec<F>) {
    registers.resize(len.max(inputs.len()), F::zero());
    registers[..inputs.len()].copy_from_slice(inputs);
    for &(r, c) in constants {
        registers[r as usize] = F::from(c).unwrap_or_else(F::nan);
    }
}

// `by_form!` below lists the forms' indices by hand.
const _: () = assert!(FORMS == 30, "by_form! lists every index of Form::ALL");

/// Calls `$run::<_, I>($args)` with `I` the index of `$form` in [`Form::ALL`], so that the
/// body of the function called knows the form (and the compiler makes one copy per form).
macro_rules! by_form {
    ($form:expr, $run:ident $args:tt) => {
        by_form!(@ $form.index(), $run $args,
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29)
    };
    (@ $i:expr, $run:ident $args:tt, $($n:literal)*) => {
        match $i {
            $($n => $run::<_, $n> $args,)*
            _ => unreachable!("Form::ALL has 30 forms"),
        }
    };
}

/// Runs a program's `steps` over the register file at `r`, each of its `runs` in a loop
/// of its own and every other step by one dispatch, the last result kept in a machine
/// register for an operand named [`ACC`].
///
/// # Safety
/// Every register named by `steps` and `pool` must be [`ACC`] or in bounds of the file
/// at `r`, no destination [`ACC`], every fused step's operands in bounds of `pool`, and
/// every step of a run of its kind, and no step of a run may read [`ACC`] unless the run
/// says it does.
unsafe fn execute<F: Float>(steps: &[Step], runs: &[Run], pool: &[Reg], r: *mut F) {
    let mut acc = F::zero();
    let mut at = 0;
    // SAFETY (every block below): the caller's promise, for every step.
    for run in runs {
        let (start, end) = (run.start as usize, (run.start + run.len) as usize);
        for s in &steps[at..start] {
            unsafe { step(s, &mut acc, r, pool, true) };
        }
        let rest = &steps[start..end];
        match run.reads_acc {
            true => unsafe { each_of_kind::<F, true>(run.kind, rest, &mut acc, r, pool) },
            false => unsafe { each_of_kind::<F, false>(run.kind, rest, &mut acc, r, pool) },
        }
        at = end;
    }
    for s in &steps[at..] {
        unsafe { step(s, &mut acc, r, pool, true) };
    }
}

/// Runs `run`, steps all of `kind`, in a loop whose body is that kind's; with `CHECK`,
/// each operand is looked at for [`ACC`].
///
/// # Safety
/// As for [`execute`], and without `CHECK` no step reads [`ACC`].
#[inline(always)]
unsafe fn each_of_kind<F: Float, const CHECK: bool>(
    kind: Kind,
    run: &[Step],
    acc: &mut F,
    r: *mut F,
    pool: &[Reg],
) {
    let tape = |same: fn(&Instr) -> bool| move |s: &Step| matches!(s, Step::Tape(i) if same(i));
    // SAFETY: the caller's promise.
    unsafe {
        match kind {
            Kind::Op(Op::Add) => each(run, acc, r, CHECK, tape(|i| matches!(i, Instr::Add { .. }))),
            Kind::Op(Op::Sub) => each(run, acc, r, CHECK, tape(|i| matches!(i, Instr::Sub { .. }))),
            Kind::Op(Op::Mul) => each(run, acc, r, CHECK, tape(|i| matches!(i, Instr::Mul { .. }))),
            Kind::Op(Op::MulAdd) => {
                each(run, acc, r, CHECK, tape(|i| matches!(i, Instr::MulAdd { .. })))
            }
            Kind::Op(Op::Square) => {
                each(run, acc, r, CHECK, tape(|i| matches!(i, Instr::Square { .. })))
            }
            Kind::Neg => each(run, acc, r, CHECK, tape(|i| matches!(i, Instr::Neg { .. }))),
            Kind::Fused(form) => by_form!(form, each_fused(run, acc, r, pool, CHECK)),
        }
    }
}

/// Runs `run`, steps that all satisfy `same` (so that the loop's body is that one
/// instruction's), with no logsumexp among them; with `check`, each operand is looked at
/// for [`ACC`].
///
/// # Safety
/// As for [`each_of_kind`].
#[inline(always)]
unsafe fn each<F: Float>(
    run: &[Step],
    acc: &mut F,
    r: *mut F,
    check: bool,
    same: impl Fn(&Step) -> bool,
) {
    for s in run {
        // Tells the compiler which arm of `step`'s match every step takes, so that the
        // loop's body is that arm alone, with no test.
        if !same(s) {
            // SAFETY: the caller's promise that the run is of one kind.
            unsafe { std::hint::unreachable_unchecked() }
        }
        unsafe { step(s, acc, r, &[], check) };
    }
}

/// Runs `run`, fused steps all of form `Form::ALL[I]` (which the loop's body computes);
/// with `check`, each operand is looked at for [`ACC`].
///
/// # Safety
/// As for [`each_of_kind`].
#[inline(always)]
unsafe fn each_fused<F: Float, const I: usize>(
    run: &[Step],
    acc: &mut F,
    r: *mut F,
    pool: &[Reg],
    check: bool,
) {
    for s in run {
        // SAFETY: the caller's promise that the run is of one kind.
        let Step::Fused { d, form, at } = *s else { unsafe { std::hint::unreachable_unchecked() } };
        debug_assert_eq!(form, Form::at(I), "a run of one form");
        let v = unsafe { fused_value::<F, I>(pool.as_ptr().add(at as usize), *acc, r, check) };
        unsafe { *r.add(d as usize) = v };
        *acc = v;
    }
}

/// The value of a fused step of form `Form::ALL[I]` over the operand registers at `ops`,
/// reading [`ACC`] as `acc` where `check` says to look for it.
///
/// # Safety
/// As for [`execute`], `ops` points at the step's operands in the pool, and without
/// `check` none is [`ACC`].
#[inline(always)]
unsafe fn fused_value<F: Float, const I: usize>(
    ops: *const Reg,
    acc: F,
    r: *mut F,
    check: bool,
) -> F {
    let arity = const { Form::ALL[I].leaves() };
    let get = |j: usize| match j {
        _ if j >= arity => F::zero(),
        _ => match unsafe { *ops.add(j) } {
            ACC if check => acc,
            x => unsafe { *r.add(x as usize) },
        },
    };
    Form::eval::<F, I>(std::array::from_fn(get), in_order)
}

/// Runs one step, reading [`ACC`] from `acc` where `check` says to look for it, and
/// leaves its result in `acc`.
///
/// # Safety
/// As for [`execute`], and without `check` the step does not read [`ACC`].
#[inline(always)]
unsafe fn step<F: Float>(s: &Step, acc: &mut F, r: *mut F, pool: &[Reg], check: bool) {
    let last = *acc;
    let get = |x: Reg| match x {
        ACC if check => last,
        _ => unsafe { *r.add(x as usize) },
    };
    let (d, v) = match *s {
        Step::Tape(ref ins) => apply(ins, get, pool),
        Step::Fused { d, form, at } => {
            let ops = unsafe { pool.as_ptr().add(at as usize) };
            (d, by_form!(form, fused_value(ops, last, r, check)))
        }
        Step::SinCos { .. } | Step::Output { .. } => unreachable!("not in a point program"),
    };
    unsafe { *r.add(d as usize) = v };
    *acc = v;
}

/// What one instruction computes, reading operands through `get`: its destination and
/// value. The one place that says what each instruction means for the point runners.
#[inline(always)]
fn apply<F: Float>(ins: &Instr, get: impl Fn(Reg) -> F, pool: &[Reg]) -> (Reg, F) {
    match *ins {
        Instr::Add { d, a, b } => (d, get(a) + get(b)),
        Instr::Sub { d, a, b } => (d, get(a) - get(b)),
        Instr::Mul { d, a, b } => (d, get(a) * get(b)),
        Instr::Div { d, a, b } => (d, get(a) / get(b)),
        Instr::MulAdd { d, a, b, c } => (d, get(a) * get(b) + get(c)),
        Instr::Neg { d, a } => (d, -get(a)),
        Instr::Square { d, a } => (d, get(a) * get(a)),
        Instr::Recip { d, a } => (d, get(a).recip()),
        Instr::Sqrt { d, a } => (d, get(a).sqrt()),
        Instr::Powi { d, a, n } => (d, get(a).powi(n)),
        Instr::Powf { d, a, b } => (d, get(a).powf(get(b))),
        Instr::Func1 { d, f, a } => (d, unary(f, get(a))),
        Instr::Func2 { d, f, a, b } => (d, f.eval([get(a), get(b), F::zero()])),
        Instr::Func3 { d, f, a, b, c } => (d, f.eval([get(a), get(b), get(c)])),
        Instr::LogSumExp { d, start, len } => {
            (d, logsumexp(pool[start as usize..(start + len) as usize].iter().map(|&x| get(x))))
        }
    }
}

/// `f(x)`: the fast kernels called directly (the same functions the table calls, so the
/// same bits), the other functions through the table. Kept out of the dispatch loop, whose
/// registers the kernels' bodies would crowd.
#[inline(never)]
fn unary<F: Float>(f: Func, x: F) -> F {
    let wide = x.to_f64().unwrap_or(f64::NAN);
    let y = match f {
        Func::Exp => fastmath::exp(wide),
        Func::Sin => fastmath::sin(wide),
        Func::Cos => fastmath::cos(wide),
        Func::Tanh => fastmath::tanh(wide),
        Func::Sigmoid => kernels::sigmoid(wide),
        _ => return f.eval([x, F::zero(), F::zero()]),
    };
    F::from(y).unwrap_or_else(F::nan)
}

/// One input of a batch run: a column with a value per row, or one value for every row.
#[derive(Clone, Copy, Debug)]
pub enum Column<'a, F> {
    /// A value per row.
    Rows(&'a [F]),
    /// The same value in every row.
    Fixed(F),
}

/// What to do with the outputs of a batch run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// The mean over rows of each output.
    Mean,
    /// The sum over rows of each output.
    Sum,
    /// Every row's outputs.
    None,
}

impl Tape {
    /// Evaluates the tape on `rows` rows. With [`Reduce::Mean`] or [`Reduce::Sum`] the
    /// result has one value per output; with [`Reduce::None`], `rows * outputs` values,
    /// row by row.
    pub fn run_batch<F: Float + Send + Sync>(
        &self,
        columns: &[Column<F>],
        rows: usize,
        reduce: Reduce,
    ) -> Vec<F> {
        assert_eq!(columns.len(), self.inputs.len(), "one column per input");
        let short = |c: &Column<F>| matches!(c, Column::Rows(data) if data.len() < rows);
        assert!(!columns.iter().any(short), "every column of rows holds {rows} rows");
        in_chunks(rows, self.outputs.len(), reduce, |start, end, sink: &mut Sink<F>| {
            self.run_blocks(columns, start, end, |k, first, lanes| sink.lanes(k, first, lanes));
        })
    }

    /// Runs rows `start..end` block by block, handing each output's lanes to
    /// `sink(k, first_row, lanes)` as soon as the block has made them. A full block reads
    /// each input's rows where the column holds them (Rosenbrock 1000 over 10,000 rows,
    /// its thousand columns copied into every block: 3.5 µs a row, read in place: 3.0),
    /// while the next block's rows are fetched ([`Ahead`]); a last, partial block reads a
    /// copy padded to the block's length.
    fn run_blocks<F: Float>(
        &self,
        columns: &[Column<F>],
        start: usize,
        end: usize,
        mut sink: impl FnMut(usize, usize, &[F]),
    ) {
        let steps = self.batch_steps.get_or_init(|| BatchSteps::new(self));
        let mut regs = vec![F::zero(); steps.registers.max(columns.len()) * BLOCK];
        for &(r, c) in &steps.constants {
            let v = F::from(c).unwrap_or_else(F::nan);
            regs[r as usize * BLOCK..(r as usize + 1) * BLOCK].fill(v);
        }
        let rows = rows_of(columns);
        let fixed: Vec<[F; BLOCK]> = columns
            .iter()
            .filter_map(|c| match *c {
                Column::Fixed(v) => Some([v; BLOCK]),
                Column::Rows(_) => None,
            })
            .collect();
        let mut first = start;
        while first < end {
            let n = (end - first).min(BLOCK);
            // A last, partial block's rows: a copy padded to the block's length.
            let staged: Vec<[F; BLOCK]> = match n < BLOCK {
                true => columns.iter().filter_map(|c| padded(c, first, n)).collect(),
                false => Vec::new(),
            };
            let (mut staged, mut fixed) = (staged.iter(), fixed.iter());
            // A full block's inputs are read where they are: the caller's columns.
            let inputs: Vec<&[F; BLOCK]> = columns
                .iter()
                .map(|c| match *c {
                    Column::Rows(_) if n < BLOCK => staged.next().expect("a copy per column"),
                    Column::Rows(data) => data[first..][..BLOCK].try_into().expect("BLOCK rows"),
                    Column::Fixed(_) => fixed.next().expect("a block per fixed column"),
                })
                .collect();
            let file = File { regs: &mut regs, inputs: &inputs };
            let ahead = Ahead::new(&rows, first + BLOCK, end, steps.steps.len());
            run_block(steps, file, ahead, &mut |k, lanes| sink(k as usize, first, &lanes[..n]));
            first += n;
        }
    }
}

/// Rows `first..first + n` of a column of rows, padded with zeros to a block's length.
fn padded<F: Float>(column: &Column<F>, first: usize, n: usize) -> Option<[F; BLOCK]> {
    let Column::Rows(data) = *column else { return None };
    let mut lanes = [F::zero(); BLOCK];
    lanes[..n].copy_from_slice(&data[first..first + n]);
    Some(lanes)
}

/// A block's registers: the batch program's register file, whose first registers (the
/// inputs') are not used, and each input's lanes where they are.
struct File<'a, 'b, F> {
    regs: &'a mut [F],
    inputs: &'a [&'b [F; BLOCK]],
}

impl<F> File<'_, '_, F> {
    /// Register `r`'s lanes.
    #[inline(always)]
    fn get(&self, r: Reg) -> &[F; BLOCK] {
        match self.inputs.get(r as usize) {
            Some(lanes) => lanes,
            None => self.regs[r as usize * BLOCK..][..BLOCK].try_into().expect("BLOCK lanes"),
        }
    }

    /// Register `d`'s lanes to write (never an input's).
    #[inline(always)]
    fn get_mut(&mut self, d: Reg) -> &mut [F; BLOCK] {
        assert!(d as usize >= self.inputs.len(), "no step writes an input");
        (&mut self.regs[d as usize * BLOCK..][..BLOCK]).try_into().expect("BLOCK lanes")
    }

    /// The lanes of destination `d` and of `N` operands (the destination is never an
    /// operand, which the register allocator guarantees).
    #[inline(always)]
    fn lanes<const N: usize>(
        &mut self,
        d: Reg,
        ops: [Reg; N],
    ) -> (&mut [F; BLOCK], [&[F; BLOCK]; N]) {
        let (d, ops) = (d as usize, ops.map(|o| o as usize));
        let regs = self.regs.len();
        assert!(ops.iter().all(|&o| o != d) && (d + 1) * BLOCK <= regs);
        assert!(d >= self.inputs.len() && ops.iter().all(|&o| (o + 1) * BLOCK <= regs));
        let base = self.regs.as_mut_ptr();
        // SAFETY: every range of the file is in bounds (checked above) and the destination
        // range does not overlap any operand range (d differs from every operand, and an
        // input's lanes are not in the file); operands may alias each other, which is fine
        // for shared borrows.
        unsafe {
            let dst = &mut *(base.add(d * BLOCK) as *mut [F; BLOCK]);
            let op = |o: usize| match self.inputs.get(o) {
                Some(&lanes) => lanes,
                None => &*(base.add(o * BLOCK) as *const [F; BLOCK]),
            };
            (dst, ops.map(op))
        }
    }
}

/// The next full block's rows of every input column, brought into cache a few lines per
/// step while this block runs: a wide formula's columns are far apart, too many streams
/// for the processor's own prefetcher (Rosenbrock 1000 over 10,000 rows, 1,000 columns:
/// 4.4 µs a row without, 2.5 with, 1.9 when the rows are already in cache).
struct Ahead<'a, F> {
    /// The columns of rows ([`rows_of`]), none when the next block is not a full one.
    rows: &'a [&'a [F]],
    /// The next block's first row.
    next: usize,
    /// Lines to fetch in all, and fetched so far, over all columns.
    total: usize,
    done: usize,
    /// Lines to fetch at each step.
    per_step: usize,
}

impl<'a, F> Ahead<'a, F> {
    /// Cache lines of a block's rows of one column.
    const LINES: usize = BLOCK * std::mem::size_of::<F>() / 64;

    /// Rows `next..next + BLOCK` of each of `rows`, when they are all there (before
    /// `end`), fetched evenly over a block of `steps` steps.
    fn new(rows: &'a [&'a [F]], next: usize, end: usize, steps: usize) -> Self {
        let rows = if next + BLOCK <= end { rows } else { &[] };
        let total = rows.len() * Self::LINES;
        let per_step = total.div_ceil(steps.max(1)).max(1);
        Ahead { rows, next, total, done: 0, per_step }
    }

    /// Fetches the next few lines.
    #[inline(always)]
    fn some(&mut self) {
        if self.done >= self.total {
            return;
        }
        let stop = (self.done + self.per_step).min(self.total);
        for line in self.done..stop {
            prefetch(self.line(line));
        }
        self.done = stop;
    }

    /// Where line `line` (counted over all columns) begins.
    #[inline(always)]
    fn line(&self, line: usize) -> *const u8 {
        let (c, l) = (line / Self::LINES, line % Self::LINES);
        self.rows[c][self.next..].as_ptr().cast::<u8>().wrapping_add(l * 64)
    }
}

/// The columns that hold a value per row, in order.
fn rows_of<'a, F>(columns: &[Column<'a, F>]) -> Vec<&'a [F]> {
    let rows = |c: &Column<'a, F>| match *c {
        Column::Rows(data) => Some(data),
        Column::Fixed(_) => None,
    };
    columns.iter().filter_map(rows).collect()
}

/// Asks the processor to bring the cache line at `at` into its caches (a hint only).
#[inline(always)]
fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults (and `at` points into a live column anyway).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(at as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Where [`run_block`] hands each output's lanes: `(output, lanes)`.
type Emit<'a, F> = dyn FnMut(u32, &[F; BLOCK]) + 'a;

/// Runs every step over one block's lanes; with AVX2 where the processor has it
/// (4 lanes an operation instead of SSE2's 2). The operations are the same, so are the
/// bits: Rust never fuses a multiply and an add.
fn run_block<F: Float>(steps: &BatchSteps, file: File<F>, ahead: Ahead<'_, F>, emit: &mut Emit<F>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2.
        return unsafe { run_block_avx2(steps, file, ahead, emit) };
    }
    run_block_inline(steps, file, ahead, emit)
}

/// [`run_block`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_block_avx2<F: Float>(
    steps: &BatchSteps,
    file: File<F>,
    ahead: Ahead<'_, F>,
    emit: &mut Emit<F>,
) {
    run_block_inline(steps, file, ahead, emit)
}

/// The step loop of [`run_block`], inlined into each of its copies.
#[inline(always)]
fn run_block_inline<F: Float>(
    steps: &BatchSteps,
    mut file: File<F>,
    mut ahead: Ahead<'_, F>,
    emit: &mut Emit<F>,
) {
    for step in &steps.steps {
        ahead.some();
        match *step {
            Step::Tape(ref ins) => block_step(ins, &mut file, &steps.pool),
            Step::SinCos { sin, cos, a } => block_sin_cos(&mut file, sin, cos, a),
            Step::Output { k, r } => emit(k, file.get(r)),
            Step::Fused { d, form, at } => {
                let ops = form.operands(at, &steps.pool);
                by_form!(form, block_fused(&mut file, d, ops))
            }
        }
    }
}

/// The fused step of form `Form::ALL[I]` over operand registers `ops`, into register `d`.
#[inline(always)]
fn block_fused<F: Float, const I: usize>(file: &mut File<F>, d: Reg, ops: &[Reg]) {
    let arity = const { Form::ALL[I].leaves() };
    let ops: [Reg; MAX_LEAVES] = std::array::from_fn(|j| ops[j.min(arity - 1)]);
    let (d, x) = file.lanes(d, ops);
    for i in 0..BLOCK {
        let lanes = std::array::from_fn(|j| if j < arity { x[j][i] } else { F::zero() });
        d[i] = Form::eval::<F, I>(lanes, Op::apply);
    }
}

/// `sin` and `cos` of register `a`'s lanes, into registers `sin` and `cos`.
#[inline(always)]
fn block_sin_cos<F: Float>(file: &mut File<F>, sin: Reg, cos: Reg, a: Reg) {
    let xs = widen(file.get(a));
    let (mut sines, mut cosines) = ([0.0; BLOCK], [0.0; BLOCK]);
    fastmath::sin_cos_lanes(&mut sines, &mut cosines, &xs);
    for (r, values) in [(sin, &sines), (cos, &cosines)] {
        narrow(file.get_mut(r), values);
    }
}

/// A block's lanes in f64, where the fast kernels work.
#[inline(always)]
fn widen<F: Float>(lanes: &[F]) -> [f64; BLOCK] {
    let mut wide = [0.0; BLOCK];
    map1(&mut wide, lanes, |x| x.to_f64().unwrap_or(f64::NAN));
    wide
}

/// Kernel results back into a block's lanes.
#[inline(always)]
fn narrow<F: Float>(lanes: &mut [F], wide: &[f64; BLOCK]) {
    map1(lanes, wide, |y| F::from(y).unwrap_or_else(F::nan));
}

#[inline(always)]
fn map1<A: Copy, B>(d: &mut [B], a: &[A], f: impl Fn(A) -> B) {
    for (x, &y) in d.iter_mut().zip(a) {
        *x = f(y);
    }
}

#[inline(always)]
fn map2<F: Copy>(d: &mut [F], a: &[F], b: &[F], f: impl Fn(F, F) -> F) {
    for ((x, &y), &z) in d.iter_mut().zip(a).zip(b) {
        *x = f(y, z);
    }
}

#[inline(always)]
fn block_step<F: Float>(ins: &Instr, file: &mut File<F>, pool: &[Reg]) {
    let Some(ops) = ins.fixed_operands() else {
        return block_logsumexp(ins, file, pool);
    };
    let (d, [a, b, c]) = file.lanes(ins.dst(), ops);
    match *ins {
        Instr::Add { .. } => map2(d, a, b, |x, y| x + y),
        Instr::Sub { .. } => map2(d, a, b, |x, y| x - y),
        Instr::Mul { .. } => map2(d, a, b, |x, y| x * y),
        Instr::Div { .. } => map2(d, a, b, |x, y| x / y),
        Instr::MulAdd { .. } => {
            for (((x, &p), &q), &r) in d.iter_mut().zip(a).zip(b).zip(c) {
                *x = p * q + r;
            }
        }
        Instr::Neg { .. } => map1(d, a, |x| -x),
        Instr::Square { .. } => map1(d, a, |x| x * x),
        Instr::Recip { .. } => map1(d, a, |x| x.recip()),
        Instr::Sqrt { .. } => map1(d, a, |x| x.sqrt()),
        Instr::Powi { n, .. } => map1(d, a, |x| x.powi(n)),
        Instr::Powf { .. } => map2(d, a, b, |x, y| x.powf(y)),
        Instr::Func1 { f, .. } => block_func1(f, d, a),
        Instr::Func2 { f, .. } => map2(d, a, b, |x, y| f.eval([x, y, F::zero()])),
        Instr::Func3 { f, .. } => {
            for (((x, &p), &q), &r) in d.iter_mut().zip(a).zip(b).zip(c) {
                *x = f.eval([p, q, r]);
            }
        }
        Instr::LogSumExp { .. } => unreachable!("handled first"),
    }
}

/// One loop per function: the fast kernels over the block's lanes at once (vectorised, in
/// f64; called directly, so that they inline into [`run_block`]'s AVX2 copy), the others
/// one call per lane.
#[inline(always)]
fn block_func1<F: Float>(f: Func, d: &mut [F; BLOCK], a: &[F; BLOCK]) {
    let (xs, mut ys) = (widen(a), [0.0; BLOCK]);
    match f {
        Func::Exp => fastmath::exp_lanes(&mut ys, &xs),
        Func::Sin => fastmath::sin_lanes(&mut ys, &xs),
        Func::Cos => fastmath::cos_lanes(&mut ys, &xs),
        Func::Tanh => fastmath::tanh_lanes(&mut ys, &xs),
        Func::Sigmoid => fastmath::sigmoid_lanes(&mut ys, &xs),
        Func::Softplus => return map1(d, a, kernels::softplus),
        _ => return map1(d, a, |x| f.eval([x, F::zero(), F::zero()])),
    }
    narrow(d, &ys);
}

fn block_logsumexp<F: Float>(ins: &Instr, file: &mut File<F>, pool: &[Reg]) {
    let Instr::LogSumExp { d, start, len } = *ins else { unreachable!("only logsumexp") };
    let args = &pool[start as usize..(start + len) as usize];
    let mut out = [F::zero(); BLOCK];
    for (lane, v) in out.iter_mut().enumerate() {
        *v = logsumexp(args.iter().map(|&r| file.get(r)[lane]));
    }
    *file.get_mut(d) = out;
}

#[cfg(test)]
mod tests {
    use super::{apply, Column, Reduce, BLOCK};
    use crate::eval::program::{Kind, Run, MIN_RUN};
    use crate::eval::steps::{BatchSteps, Form, Step, FORMS, MAX_LEAVES};
    use crate::eval::{Reg, Tape};

    /// Values at the edges: signed zeros, infinities, NaNs of two payloads (an operation on
    /// two NaNs gives its first operand's, so a swapped order shows), the largest and
    /// smallest numbers (whose square overflows or underflows), and ordinary ones.
    const EDGES: [f64; 12] = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::from_bits(0x7ff8_0000_0000_0001),
        f64::from_bits(0xfff8_0000_0000_0002),
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        1.5,
        -3.25,
        1e154,
    ];

    /// Every form computes, bit for bit, what its instructions compute one after the other:
    /// the tree read as it runs, the point runner (a loop of steps of the form, and a step on
    /// its own) and the batch runner, over every combination of edge values for the first
    /// four operands (the others ordinary).
    #[test]
    fn every_form_is_its_instructions() {
        let rows: Vec<[f64; MAX_LEAVES]> = (0..EDGES.len().pow(4))
            .map(|k| {
                std::array::from_fn(|j| match j {
                    0..4 => EDGES[k / EDGES.len().pow(j as u32) % 12],
                    _ => 0.75 + j as f64,
                })
            })
            .collect();
        for i in 0..FORMS {
            let form = Form::at(i);
            let instrs = form.instructions();
            let arity = form.arity();
            assert_eq!(instrs.len(), Form::ALL[i].ops(), "{form:?}'s instructions");
            let want: Vec<u64> = rows
                .iter()
                .map(|x| {
                    let mut r = x[..arity].to_vec();
                    for ins in &instrs {
                        let (d, v) = apply(ins, |o| r[o as usize], &[]);
                        assert_eq!(d as usize, r.len(), "instructions write in turn");
                        r.push(v);
                    }
                    r[r.len() - 1].to_bits()
                })
                .collect();
            let slowly: Vec<u64> = rows.iter().map(|&x| form.eval_slowly(x).to_bits()).collect();
            assert_eq!(slowly, want, "{form:?} read as it runs");
            for (x, &want) in rows.iter().zip(&want) {
                for (step, got) in point_run(form, &x[..arity]).into_iter().enumerate() {
                    assert_eq!(got.to_bits(), want, "{form:?}, point step {step}, at {x:?}");
                }
            }
            if !Form::ALL[i].fits_lanes() {
                continue;
            }
            for (block, x) in rows.chunks(BLOCK).enumerate() {
                for (row, got) in batch_run(form, x).into_iter().enumerate() {
                    let x = x[row];
                    assert_eq!(got.to_bits(), want[block * BLOCK + row], "{form:?} batch at {x:?}");
                }
            }
        }
    }

    /// The values of [`MIN_RUN`] + 1 steps of `form` over operands `x` run by the point
    /// runner: a loop of steps of the form, and then one step on its own.
    fn point_run(form: Form, x: &[f64]) -> Vec<f64> {
        let arity = x.len() as Reg;
        let steps: Vec<Step> =
            (0..=MIN_RUN as Reg).map(|s| Step::Fused { d: arity + s, form, at: 0 }).collect();
        let runs =
            [Run { kind: Kind::Fused(form), start: 0, len: MIN_RUN as u32, reads_acc: false }];
        let pool: Vec<Reg> = (0..arity).collect();
        let mut r = x.to_vec();
        r.resize(x.len() + steps.len(), 0.0);
        // SAFETY: every register named is below `r.len()`.
        unsafe { super::execute(&steps, &runs, &pool, r.as_mut_ptr()) };
        r.split_off(x.len())
    }

    /// The values of a step of `form` over each row of operands `x` (a block's rows at most)
    /// run by the batch runner.
    fn batch_run(form: Form, x: &[[f64; MAX_LEAVES]]) -> Vec<f64> {
        let arity = form.arity();
        let steps = BatchSteps {
            steps: vec![
                Step::Fused { d: arity as Reg, form, at: 0 },
                Step::Output { k: 0, r: arity as Reg },
            ],
            pool: (0..arity as Reg).collect(),
            constants: Vec::new(),
            registers: arity + 1,
        };
        let columns: Vec<[f64; BLOCK]> = (0..arity)
            .map(|j| std::array::from_fn(|row| x.get(row).map_or(0.0, |x| x[j])))
            .collect();
        let inputs: Vec<&[f64; BLOCK]> = columns.iter().collect();
        let mut regs = vec![0.0; steps.registers * BLOCK];
        let mut out = Vec::new();
        let file = super::File { regs: &mut regs, inputs: &inputs };
        let ahead = super::Ahead::new(&[], 0, 0, steps.steps.len());
        super::run_block(&steps, file, ahead, &mut |k, lanes| {
            assert_eq!(k, 0, "one output");
            out.extend_from_slice(&lanes[..x.len()]);
        });
        out
    }

    #[test]
    fn ahead_fetches_exactly_the_next_blocks_rows() {
        let rows = 3 * BLOCK + 5;
        let data: Vec<Vec<f64>> = (0..3).map(|c| vec![c as f64; rows]).collect();
        let mut columns: Vec<super::Column<f64>> =
            data.iter().map(|d| super::Column::Rows(d)).collect();
        columns.insert(1, super::Column::Fixed(2.0));
        let of_rows = super::rows_of(&columns);
        let lines_of = |next: usize| {
            let ahead = super::Ahead::new(&of_rows, next, rows, 7);
            (0..ahead.total).map(|l| ahead.line(l) as usize).collect::<Vec<_>>()
        };
        let block = |c: usize, next: usize| {
            let start = data[c][next..].as_ptr() as usize;
            start..start + BLOCK * 8
        };
        let lines = lines_of(BLOCK);
        assert_eq!(lines.len(), 3 * BLOCK * 8 / 64, "every line of every column of rows");
        for (i, at) in lines.iter().enumerate() {
            assert!(block(i / (BLOCK * 8 / 64), BLOCK).contains(at), "line {i} in its block");
        }
        assert_eq!(lines_of(2 * BLOCK + 6), Vec::<usize>::new(), "no full block left: none");
    }

    /// The tape's outputs computed one instruction at a time, in the tape's order, nothing
    /// fused: what the runners' programs must give.
    fn reference(tape: &Tape, inputs: &[f64]) -> Vec<f64> {
        let mut r = vec![0.0; tape.registers.max(inputs.len())];
        super::load(tape.registers, &tape.constants, inputs, &mut r);
        for ins in &tape.instrs {
            let (d, v) = apply(ins, |o| r[o as usize], &tape.pool);
            r[d as usize] = v;
        }
        tape.outputs.iter().map(|&o| r[o as usize]).collect()
    }

    /// Gradient tapes full of one-use squares and products (`a - b^2`, `c*(a - b)^2 + ...`,
    /// `(a*b)*c + d`, `a*b + c*d`, a product of a product, ...) run by the point program and
    /// by the batch runner, both of which fuse them, give the unfused tape's bits, row by
    /// row, at edge values and ordinary ones.
    #[test]
    fn fused_steps_keep_the_tapes_bits() {
        let sources = [
            "100*(y - x^2)^2 + (1 - x)^2 + (z - y^2)^2*3 + w*(z*z)",
            "x*y*z*w + (x*y)*z + w - x*x + (y*z)*(z*w) - y^2*w",
            "sin(x*y)*z + w*(x - y*z)^2 - (z*w)^2 + exp(x)*y*y",
            "x/(y*y + 1) + (z - w*w)*(x*y) + w*(y*(x*z))",
        ];
        let names = ["x", "y", "z", "w"];
        let mut fused_forms = std::collections::HashSet::new();
        for src in sources {
            let tape = crate::Formula::parse(src).unwrap().gradient_tape(&names).unwrap();
            let program = crate::eval::program::Program::new(&tape);
            fused_forms.extend(program.steps.iter().filter_map(|s| match s {
                Step::Fused { form, .. } => Some(form.index()),
                _ => None,
            }));
            let rows: Vec<[f64; 4]> = (0..EDGES.len().pow(2) * 4)
                .map(|k| std::array::from_fn(|j| EDGES[(k * 7 + j * (k / 12 + 1)) % 12]))
                .collect();
            let columns: Vec<Vec<f64>> =
                (0..4).map(|j| rows.iter().map(|x| x[j]).collect()).collect();
            let cols: Vec<Column<f64>> = columns.iter().map(|c| Column::Rows(c)).collect();
            let batch = tape.run_batch(&cols, rows.len(), Reduce::None);
            let width = tape.outputs();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for (i, x) in rows.iter().enumerate() {
                let want = bits(&reference(&tape, x));
                assert_eq!(bits(&tape.run(x, &mut Vec::new())), want, "{src}: point at {x:?}");
                assert_eq!(bits(&batch[i * width..][..width]), want, "{src}: batch at {x:?}");
            }
        }
        assert!(fused_forms.len() >= 6, "forms fused: {fused_forms:?}");
    }
}
