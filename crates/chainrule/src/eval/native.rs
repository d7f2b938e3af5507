//! Native code for a tape: the same instructions compiled to machine code with Cranelift,
//! for f64. Straight-line code keeps every value in a machine register where it can, so
//! one point costs about what a hand-written function does; functions like `exp` and
//! `sigmoid` are calls to the same Rust code the interpreter runs, so both give the same
//! bits.

use super::batch::{in_chunks, Sink};
use super::schedule::schedule;
use super::tape::{Instr, Tape};
use super::{Column, Reduce};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::Func;
use crate::operators::kernels::logsumexp;
use crate::operators::Kernel;
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlags, UserFuncName, Value};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use smallvec::SmallVec;

/// Tapes longer than this are not compiled (the code would take about 8 bytes an
/// instruction per 100 instructions of tape and seconds to build); the interpreter runs them.
pub const NATIVE_MAX_INSTRUCTIONS: usize = 4_000_000;

/// How a tape is turned into code: how long values stay in machine registers, how many
/// instructions go in one function, and how hard Cranelift works on each.
#[derive(Clone, Copy, Debug)]
struct Config {
    /// A value is read from the register it was computed in by instructions at most this
    /// far after it; later readers load it from memory, where it was stored once.
    window: usize,
    /// A call (`exp`, `sin`, ...) clobbers every float register: values read after one
    /// are loaded from memory rather than kept across it.
    calls_spill: bool,
    /// Instructions per generated function.
    chunk: usize,
    /// Cranelift's optimiser (`opt_level` "speed", else "none").
    optimize: bool,
    /// Cranelift's backtracking register allocator, rather than its single-pass one
    /// (about ten times faster to compile).
    backtracking: bool,
    /// Emit the instructions in the order of [`schedule`] (one function, every value
    /// at hand), not the tape's.
    reorder: bool,
}

/// Tapes up to this size (instructions, logsumexp arguments and outputs: about the
/// number of Cranelift instructions) become one function with every value in SSA form and
/// Cranelift's backtracking register allocator (about ten times slower to compile than
/// its single-pass one: 3 ms for 1,000 instructions), in the order of [`schedule`], which
/// keeps values short-lived. Cranelift's optimiser, which moves arithmetic to where stores
/// and calls need it, would undo that order (Rosenbrock 100: 260 ns a gradient with it,
/// 165 ns without). Longer tapes get code that compiles in linear time.
const SMALL_TAPE: usize = 2_500;

impl Config {
    /// The configuration for `tape`.
    fn for_tape(tape: &Tape) -> Config {
        let size = tape.len() + tape.pool.len() + tape.outputs();
        let (window, calls_spill, chunk) =
            if size <= SMALL_TAPE { (usize::MAX, false, usize::MAX) } else { (24, true, 1_000) };
        let small = size <= SMALL_TAPE;
        Config { window, calls_spill, chunk, optimize: false, backtracking: small, reorder: small }
    }
}

/// Rows gathered at a time by [`NativeTape::run_batch`].
const GATHER_ROWS: usize = 8;

/// One generated function: `(inputs, outputs, file)`; `file` holds a value per tape
/// register for the values that are read from memory.
type Chunk = extern "C" fn(*const f64, *mut f64, *mut f64);

/// A tape compiled to machine code: `run_into(inputs, outputs)`.
pub struct NativeTape {
    chunks: Vec<Chunk>,
    /// Length of the register file the code reads and writes (0: none).
    file_len: usize,
    inputs: usize,
    outputs: usize,
    module: Option<OwnedModule>,
}

/// The JIT module owns the code's memory; it is only touched again to free it.
struct OwnedModule(JITModule);

// SAFETY: the module is never used after compilation except by `Drop`, which has
// exclusive access; the compiled code itself is immutable and callable from any thread.
unsafe impl Send for OwnedModule {}
// SAFETY: as above: no method reads or writes the module through a shared reference.
unsafe impl Sync for OwnedModule {}

impl Drop for NativeTape {
    fn drop(&mut self) {
        if let Some(OwnedModule(module)) = self.module.take() {
            // SAFETY: `chunks` point into this module's memory and die with `self`.
            unsafe { module.free_memory() };
        }
    }
}

impl std::fmt::Debug for NativeTape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NativeTape({} inputs, {} outputs)", self.inputs, self.outputs)
    }
}

extern "C" fn cr_powf(x: f64, y: f64) -> f64 {
    x.powf(y)
}
extern "C" fn cr_powi(x: f64, n: i32) -> f64 {
    x.powi(n)
}
/// # Safety
/// `args` points to `len` readable f64 values (the generated code passes a stack slot).
unsafe extern "C" fn cr_logsumexp(args: *const f64, len: u64) -> f64 {
    let values = unsafe { std::slice::from_raw_parts(args, len as usize) };
    logsumexp(values.iter().copied())
}

/// The symbol and address of `f`'s kernel, the code the interpreter runs too.
fn symbol(f: Func) -> (String, *const u8) {
    let address = match f.row().kernel {
        Kernel::Unary(k) => k as *const u8,
        Kernel::Binary(k) => k as *const u8,
        Kernel::Ternary(k) => k as *const u8,
    };
    (format!("cr_{}", f.name()), address)
}

fn jit_error(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Domain(format!("native compilation failed: {e}")))
}

/// The functions the generated code may call, declared in the module.
struct Imports {
    funcs: Vec<(Func, FuncId)>,
    powf: FuncId,
    powi: FuncId,
    logsumexp: FuncId,
}

impl Imports {
    fn declare(module: &mut JITModule) -> Result<Imports> {
        let ptr = module.target_config().pointer_type();
        let signature = |params: &[types::Type]| {
            let mut s = module.make_signature();
            s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
            s.returns.push(AbiParam::new(types::F64));
            s
        };
        let (one, two) = (signature(&[types::F64]), signature(&[types::F64, types::F64]));
        let three = signature(&[types::F64, types::F64, types::F64]);
        let (powi_sig, lse_sig) =
            (signature(&[types::F64, types::I32]), signature(&[ptr, types::I64]));
        let mut funcs = Vec::new();
        for &f in Func::ALL {
            let sig = [&one, &two, &three][f.arity() - 1];
            funcs.push((
                f,
                module.declare_function(&symbol(f).0, Linkage::Import, sig).map_err(jit_error)?,
            ));
        }
        Ok(Imports {
            funcs,
            powf: module.declare_function("cr_powf", Linkage::Import, &two).map_err(jit_error)?,
            powi: module
                .declare_function("cr_powi", Linkage::Import, &powi_sig)
                .map_err(jit_error)?,
            logsumexp: module
                .declare_function("cr_logsumexp", Linkage::Import, &lse_sig)
                .map_err(jit_error)?,
        })
    }
}

/// The module a tape's functions are built in, with the kernels it may call.
fn new_module(config: &Config) -> Result<JITModule> {
    let mut flags = settings::builder();
    // Long tapes get neither the optimiser nor the backtracking allocator: with every
    // value's life bounded by `Config::window`, the single-pass allocator spills little.
    let opt = if config.optimize { "speed" } else { "none" };
    let regalloc = if config.backtracking { "backtracking" } else { "single_pass" };
    flags.set("opt_level", opt).map_err(jit_error)?;
    flags.set("regalloc_algorithm", regalloc).map_err(jit_error)?;
    // The IR is built by this file and well formed; checking it took 40% of the time.
    flags.set("enable_verifier", "false").map_err(jit_error)?;
    flags.set("use_colocated_libcalls", "false").map_err(jit_error)?;
    flags.set("is_pic", "false").map_err(jit_error)?;
    let isa = cranelift_native::builder()
        .map_err(jit_error)?
        .finish(settings::Flags::new(flags))
        .map_err(jit_error)?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for &f in Func::ALL {
        let (name, address) = symbol(f);
        builder.symbol(name, address);
    }
    builder.symbol("cr_powf", cr_powf as *const u8);
    builder.symbol("cr_powi", cr_powi as *const u8);
    builder.symbol("cr_logsumexp", cr_logsumexp as *const u8);
    Ok(JITModule::new(builder))
}

/// Where a register's current value comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// Input `k`, read from the inputs.
    Input(u32),
    /// A constant, made where it is used.
    Constant(f64),
    /// Instruction `i` of the tape, read from the register file when not still at hand.
    Step(usize),
}

/// The registers' sources before the first instruction: inputs and constants.
fn initial_sources(tape: &Tape) -> Vec<Source> {
    let mut sources = vec![Source::Constant(0.0); tape.registers()];
    for (k, source) in sources.iter_mut().take(tape.inputs().len()).enumerate() {
        *source = Source::Input(k as u32);
    }
    for &(r, c) in &tape.constants {
        sources[r as usize] = Source::Constant(c);
    }
    sources
}

/// How a tape is cut into functions and which values go through memory.
struct Plan {
    config: Config,
    chunks: Vec<std::ops::Range<usize>>,
    /// Calls among instructions `0..i`, at `i` (one more entry than instructions).
    calls_before: Vec<u32>,
    /// Whether instruction `i` stores its value in the register file for a later reader.
    stored: Vec<bool>,
    /// The tape's registers: the register file holds them, then the arguments of the
    /// longest logsumexp.
    registers: usize,
    /// Length of the register file the code needs (0: none).
    file_len: usize,
    /// The outputs made by instructions, `(instruction, output)` in the order of the
    /// instructions: each is stored as soon as it is made, which lets Cranelift (which
    /// places arithmetic where the stores and calls need it) finish one output before
    /// starting the next. The other outputs (inputs, constants) are stored at the end.
    made_outputs: Vec<(usize, usize)>,
    /// With [`Config::reorder`]: the order to emit the instructions in.
    reordered: Option<Reorder>,
}

/// The order to emit a tape's instructions in, and where their operands come from.
struct Reorder {
    order: Vec<u32>,
    /// For each instruction, the source of each operand.
    reads: Vec<SmallVec<[Source; 3]>>,
}

impl Plan {
    fn new(tape: &Tape, config: Config) -> Plan {
        let n = tape.instrs.len();
        let count = n.div_ceil(config.chunk).max(1);
        let chunks = (0..count).map(|c| c * config.chunk..((c + 1) * config.chunk).min(n));
        let mut calls_before = Vec::with_capacity(n + 1);
        calls_before.push(0);
        for ins in &tape.instrs {
            calls_before.push(calls_before.last().unwrap() + u32::from(is_call(ins)));
        }
        let mut plan = Plan {
            config,
            chunks: chunks.collect(),
            calls_before,
            stored: vec![false; n],
            registers: tape.registers(),
            file_len: 0,
            made_outputs: made_outputs(tape),
            reordered: None,
        };
        if config.reorder {
            let reads = operand_sources(tape);
            let steps = reads.iter().map(|sources| {
                let mut steps: SmallVec<[u32; 3]> = (sources.iter())
                    .filter_map(|s| if let Source::Step(i) = *s { Some(i as u32) } else { None })
                    .collect();
                steps.sort_unstable();
                steps.dedup();
                steps
            });
            plan.reordered = Some(Reorder { order: schedule(&steps.collect::<Vec<_>>()), reads });
        }
        let last_reads = plan.last_reads(tape);
        plan.stored = last_reads.iter().enumerate().map(|(i, &j)| !plan.at_hand(i, j)).collect();
        let arguments = tape.instrs.iter().map(|ins| match *ins {
            Instr::LogSumExp { len, .. } => len as usize,
            _ => 0,
        });
        let arguments = arguments.max().unwrap_or(0);
        if arguments > 0 || plan.stored.contains(&true) {
            plan.file_len = plan.registers + arguments;
        }
        plan
    }

    /// For each instruction, the position of the last reader of its value (the outputs
    /// read at position `len`), or its own position when nothing reads it.
    fn last_reads(&self, tape: &Tape) -> Vec<usize> {
        let mut sources = initial_sources(tape);
        let mut last: Vec<usize> = (0..tape.instrs.len()).collect();
        for (j, ins) in tape.instrs.iter().enumerate() {
            for r in ins.operands(&tape.pool) {
                if let Source::Step(i) = sources[r as usize] {
                    last[i] = j;
                }
            }
            sources[ins.dst() as usize] = Source::Step(j);
        }
        for &o in &tape.outputs {
            if let Source::Step(i) = sources[o as usize] {
                last[i] = tape.instrs.len();
            }
        }
        last
    }

    /// The function that runs instruction `i` (the outputs, at `len`, are in the last).
    fn chunk_of(&self, i: usize) -> usize {
        (i / self.config.chunk).min(self.chunks.len() - 1)
    }

    /// Whether a value made at position `born` is still in a register for a reader at
    /// `at`: same function, within the window, and no call in between.
    fn at_hand(&self, born: usize, at: usize) -> bool {
        let calls = self.calls_before[at] - self.calls_before[(born + 1).min(at)];
        self.chunk_of(born) == self.chunk_of(at)
            && at - born <= self.config.window
            && !(self.config.calls_spill && calls > 0)
    }
}

/// For each instruction, where each of its operands comes from.
fn operand_sources(tape: &Tape) -> Vec<SmallVec<[Source; 3]>> {
    let mut sources = initial_sources(tape);
    let mut reads = Vec::with_capacity(tape.instrs.len());
    for (i, ins) in tape.instrs.iter().enumerate() {
        reads.push(ins.operands(&tape.pool).iter().map(|&r| sources[r as usize]).collect());
        sources[ins.dst() as usize] = Source::Step(i);
    }
    reads
}

/// The outputs that instructions make, `(instruction, output)` by instruction.
fn made_outputs(tape: &Tape) -> Vec<(usize, usize)> {
    let mut maker = vec![usize::MAX; tape.registers()];
    for (i, ins) in tape.instrs.iter().enumerate() {
        maker[ins.dst() as usize] = i;
    }
    let mut made: Vec<(usize, usize)> = (tape.outputs.iter().enumerate())
        .filter(|&(_, &o)| maker[o as usize] != usize::MAX)
        .map(|(k, &o)| (maker[o as usize], k))
        .collect();
    made.sort_unstable();
    made
}

/// Whether instruction `ins` is a call, which clobbers every float register.
fn is_call(ins: &Instr) -> bool {
    matches!(
        ins,
        Instr::Powi { .. }
            | Instr::Powf { .. }
            | Instr::Func1 { .. }
            | Instr::Func2 { .. }
            | Instr::Func3 { .. }
            | Instr::LogSumExp { .. }
    )
}

/// Compiles `tape` to machine code for this processor: one function for a small tape,
/// several for a long one.
pub fn compile_native(tape: &Tape) -> Result<NativeTape> {
    if tape.len() > NATIVE_MAX_INSTRUCTIONS {
        return Err(Error::new(ErrorKind::Unsupported(format!(
            "a tape of {} instructions is longer than native code is built for ({})",
            tape.len(),
            NATIVE_MAX_INSTRUCTIONS
        ))));
    }
    let config = Config::for_tape(tape);
    let mut module = new_module(&config)?;
    let imports = Imports::declare(&mut module)?;
    let plan = Plan::new(tape, config);
    let ptr = module.target_config().pointer_type();
    let mut signature = module.make_signature();
    signature.params.extend([AbiParam::new(ptr), AbiParam::new(ptr), AbiParam::new(ptr)]);
    let mut ctx = module.make_context();
    let mut builder_context = FunctionBuilderContext::new();
    let mut sources = initial_sources(tape);
    let mut ids = Vec::with_capacity(plan.chunks.len());
    for c in 0..plan.chunks.len() {
        let id = module
            .declare_function(&format!("tape{c}"), Linkage::Local, &signature)
            .map_err(jit_error)?;
        ctx.func.signature = signature.clone();
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut builder_context);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let params = b.block_params(block).to_vec();
        let mut emitter = Emitter {
            b,
            module: &mut module,
            imports: &imports,
            plan: &plan,
            values: vec![None; tape.registers()],
            sources: std::mem::take(&mut sources),
            steps: vec![None; tape.len()],
            pointers: [params[0], params[1], params[2]],
            callees: std::collections::HashMap::new(),
        };
        emitter.chunk(tape, c);
        emitter.b.ins().return_(&[]);
        emitter.b.seal_all_blocks();
        sources = std::mem::take(&mut emitter.sources);
        emitter.b.finalize();
        module.define_function(id, &mut ctx).map_err(jit_error)?;
        module.clear_context(&mut ctx);
        ids.push(id);
    }
    module.finalize_definitions().map_err(jit_error)?;
    let chunks = ids
        .into_iter()
        .map(|id| {
            let code = module.get_finalized_function(id);
            // SAFETY: `code` is a function just defined with the signature
            // (ptr, ptr, ptr) -> (), which is what `Chunk` is on this target.
            unsafe { std::mem::transmute::<*const u8, Chunk>(code) }
        })
        .collect();
    Ok(NativeTape {
        chunks,
        file_len: plan.file_len,
        inputs: tape.inputs().len(),
        outputs: tape.outputs(),
        module: Some(OwnedModule(module)),
    })
}

/// Builds one function of a plan.
struct Emitter<'a> {
    b: FunctionBuilder<'a>,
    module: &'a mut JITModule,
    imports: &'a Imports,
    plan: &'a Plan,
    /// The SSA value last made for each tape register in this function, and where.
    values: Vec<Option<(Value, usize)>>,
    /// Where each register's current value comes from.
    sources: Vec<Source>,
    /// The value of each instruction made in this function (read when reordered).
    steps: Vec<Option<Value>>,
    /// The function's parameters: inputs, outputs and the register file.
    pointers: [Value; 3],
    /// The kernels this function calls, each declared in it once.
    callees: std::collections::HashMap<FuncId, cranelift_codegen::ir::FuncRef>,
}

impl Emitter<'_> {
    /// Function `c` of the plan: its instructions, each value stored for the readers that
    /// find it in memory; the last function stores the outputs.
    fn chunk(&mut self, tape: &Tape, c: usize) {
        let range = self.plan.chunks[c].clone();
        let plan = self.plan;
        let order: Box<dyn Iterator<Item = usize>> = match &plan.reordered {
            Some(reorder) => Box::new(reorder.order.iter().map(|&i| i as usize)),
            None => Box::new(range),
        };
        for at in order {
            let ins = &tape.instrs[at];
            let v = self.instruction(ins, &tape.pool, at);
            self.steps[at] = Some(v);
            let d = ins.dst();
            self.values[d as usize] = Some((v, at));
            self.sources[d as usize] = Source::Step(at);
            if self.plan.stored[at] {
                self.store(self.pointers[2], v, d as usize);
            }
            let made = &plan.made_outputs;
            for &(i, k) in &made[made.partition_point(|&(i, _)| i < at)..] {
                if i != at {
                    break;
                }
                self.store(self.pointers[1], v, k);
            }
        }
        if c + 1 == self.plan.chunks.len() {
            for (k, &o) in tape.outputs.iter().enumerate() {
                if !matches!(self.sources[o as usize], Source::Step(_)) {
                    let v = self.get(o, tape.instrs.len());
                    self.store(self.pointers[1], v, k);
                }
            }
        }
    }

    fn store(&mut self, base: Value, v: Value, index: usize) {
        self.b.ins().store(MemFlags::trusted(), v, base, (8 * index) as i32);
    }

    /// The value of register `r` for a reader at position `at`: still in a register, or
    /// made again from its source (an input, a constant, or the register file).
    fn get(&mut self, r: u32, at: usize) -> Value {
        if let Some((v, born)) = self.values[r as usize] {
            if self.plan.at_hand(born, at) {
                return v;
            }
        }
        let flags = MemFlags::trusted();
        let v = match self.sources[r as usize] {
            Source::Input(k) => {
                self.b.ins().load(types::F64, flags, self.pointers[0], (8 * k) as i32)
            }
            Source::Constant(c) => self.b.ins().f64const(c),
            Source::Step(_) => {
                self.b.ins().load(types::F64, flags, self.pointers[2], (8 * r) as i32)
            }
        };
        self.values[r as usize] = Some((v, at));
        v
    }

    /// Operand `i` of instruction `at`, register `r`: as [`Emitter::get`] reads it, or
    /// when reordered, the value of the instruction that made it.
    fn operand(&mut self, r: u32, at: usize, i: usize) -> Value {
        if let Some(reorder) = &self.plan.reordered {
            if let Source::Step(j) = reorder.reads[at][i] {
                return self.steps[j].expect("operands are emitted first");
            }
        }
        self.get(r, at)
    }

    fn call(&mut self, id: FuncId, args: &[Value]) -> Value {
        let callee = match self.callees.get(&id) {
            Some(&callee) => callee,
            None => {
                let callee = self.module.declare_func_in_func(id, self.b.func);
                self.callees.insert(id, callee);
                callee
            }
        };
        let call = self.b.ins().call(callee, args);
        self.b.inst_results(call)[0]
    }

    fn instruction(&mut self, ins: &Instr, pool: &[u32], at: usize) -> Value {
        if let Instr::LogSumExp { start, len, .. } = *ins {
            return self.logsumexp(&pool[start as usize..(start + len) as usize], at);
        }
        let registers = ins.operands(pool);
        let ops: SmallVec<[Value; 3]> =
            registers.iter().enumerate().map(|(i, &r)| self.operand(r, at, i)).collect();
        match *ins {
            Instr::Add { .. } => self.b.ins().fadd(ops[0], ops[1]),
            Instr::Sub { .. } => self.b.ins().fsub(ops[0], ops[1]),
            Instr::Mul { .. } => self.b.ins().fmul(ops[0], ops[1]),
            Instr::Div { .. } => self.b.ins().fdiv(ops[0], ops[1]),
            Instr::MulAdd { .. } => {
                let p = self.b.ins().fmul(ops[0], ops[1]);
                self.b.ins().fadd(p, ops[2])
            }
            Instr::Neg { .. } => self.b.ins().fneg(ops[0]),
            Instr::Square { .. } => self.b.ins().fmul(ops[0], ops[0]),
            Instr::Recip { .. } => {
                let one = self.b.ins().f64const(1.0);
                self.b.ins().fdiv(one, ops[0])
            }
            Instr::Sqrt { .. } => self.b.ins().sqrt(ops[0]),
            Instr::Powi { n, .. } => {
                let n = self.b.ins().iconst(types::I32, i64::from(n));
                self.call(self.imports.powi, &[ops[0], n])
            }
            Instr::Powf { .. } => self.call(self.imports.powf, &ops),
            Instr::Func1 { f, .. } | Instr::Func2 { f, .. } | Instr::Func3 { f, .. } => {
                self.call(self.func_id(f), &ops)
            }
            Instr::LogSumExp { .. } => unreachable!("handled first"),
        }
    }

    /// `logsumexp` of registers `args`: each copied to the end of the register file (not
    /// the stack, which a long list would overflow) as soon as it is read.
    fn logsumexp(&mut self, args: &[u32], at: usize) -> Value {
        let first = self.plan.registers;
        for (i, &r) in args.iter().enumerate() {
            let v = self.operand(r, at, i);
            self.store(self.pointers[2], v, first + i);
        }
        let address = self.b.ins().iadd_imm(self.pointers[2], (8 * first) as i64);
        let count = self.b.ins().iconst(types::I64, args.len() as i64);
        self.call(self.imports.logsumexp, &[address, count])
    }

    fn func_id(&self, f: Func) -> FuncId {
        // Imported in the order of `Func::ALL`, which is the order of the variants.
        self.imports.funcs[f as usize].1
    }
}

thread_local! {
    /// The register file of the values that go through memory, one a thread.
    static FILE: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl NativeTape {
    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Evaluates at `inputs`, writing the outputs into `out`.
    pub fn run_into(&self, inputs: &[f64], out: &mut [f64]) {
        assert_eq!(inputs.len(), self.inputs, "one value per input");
        assert_eq!(out.len(), self.outputs, "one slot per output");
        if self.file_len == 0 {
            for chunk in &self.chunks {
                chunk(inputs.as_ptr(), out.as_mut_ptr(), std::ptr::null_mut());
            }
            return;
        }
        FILE.with_borrow_mut(|file| {
            file.resize(file.len().max(self.file_len), 0.0);
            for chunk in &self.chunks {
                chunk(inputs.as_ptr(), out.as_mut_ptr(), file.as_mut_ptr());
            }
        });
    }

    /// Evaluates on `rows` rows, like [`Tape::run_batch`].
    pub fn run_batch(&self, columns: &[Column<f64>], rows: usize, reduce: Reduce) -> Vec<f64> {
        assert_eq!(columns.len(), self.inputs, "one column per input");
        in_chunks(rows, self.outputs, reduce, |start, end, sink: &mut Sink<f64>| {
            let mut row_inputs: Vec<f64> = columns
                .iter()
                .map(|c| match c {
                    Column::Fixed(v) => *v,
                    Column::Rows(_) => 0.0,
                })
                .collect();
            let varying: Vec<(usize, &[f64])> = columns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| match c {
                    Column::Rows(d) => Some((i, *d)),
                    Column::Fixed(_) => None,
                })
                .collect();
            let mut out = vec![0.0; self.outputs];
            // A block of rows is gathered column by column first: reading one value of every
            // column per row would touch a cache line per column per row.
            let mut block = vec![0.0; GATHER_ROWS * varying.len()];
            for first in (start..end).step_by(GATHER_ROWS) {
                let rows = GATHER_ROWS.min(end - first);
                for (j, &(_, data)) in varying.iter().enumerate() {
                    for (r, &v) in data[first..first + rows].iter().enumerate() {
                        block[r * varying.len() + j] = v;
                    }
                }
                for r in 0..rows {
                    let values = &block[r * varying.len()..][..varying.len()];
                    for (&(i, _), &v) in varying.iter().zip(values) {
                        row_inputs[i] = v;
                    }
                    self.run_into(&row_inputs, &mut out);
                    sink.row(first + r, &out);
                }
            }
        })
    }
}
