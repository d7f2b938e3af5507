//! Native code for a tape: the same instructions compiled to machine code with Cranelift,
//! for f64. Straight-line code keeps every value in a machine register where it can, so
//! one point costs about what a hand-written function does; functions like `exp` and
//! `sigmoid` are calls to the same Rust code the interpreter runs, so both give the same
//! bits.

use super::batch::{in_chunks, Sink};
use super::tape::{Instr, Tape};
use super::{Column, Reduce};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::Func;
use crate::operators::kernels::logsumexp;
use crate::operators::Kernel;
use cranelift_codegen::ir::{
    types, AbiParam, InstBuilder, MemFlags, StackSlotData, StackSlotKind, UserFuncName, Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};

/// Tapes longer than this are not compiled (the code would take about 8 bytes an
/// instruction per 100 instructions of tape and seconds to build); the interpreter runs them.
pub const NATIVE_MAX_INSTRUCTIONS: usize = 4_000_000;

/// Instructions per generated function. Cranelift's time grows faster than linearly with
/// the size of one function (register allocation over long live ranges), so a long tape
/// is cut into functions of this size that pass the registers they share through memory.
const CHUNK_INSTRUCTIONS: usize = 2_000;

/// One generated function: `(inputs, outputs, scratch)`; `scratch` holds a value per tape
/// register for the registers that live across functions.
type Chunk = extern "C" fn(*const f64, *mut f64, *mut f64);

/// A tape compiled to machine code: `run_into(inputs, outputs)`.
pub struct NativeTape {
    chunks: Vec<Chunk>,
    registers: usize,
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

/// The module every tape's functions are built in, with the kernels it may call.
fn new_module() -> Result<JITModule> {
    let mut flags = settings::builder();
    // A tape is straight-line code already free of common subexpressions: Cranelift's
    // optimiser finds little in it, and the single-pass register allocator compiles about
    // ten times faster than the backtracking one for code that runs about as fast.
    flags.set("opt_level", "none").map_err(jit_error)?;
    flags.set("regalloc_algorithm", "single_pass").map_err(jit_error)?;
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

/// How a tape is cut into functions: the instructions of each, and for each register the
/// last function that reads it (a function stores what a later one reads).
struct Plan {
    chunks: Vec<std::ops::Range<usize>>,
    last_read: Vec<usize>,
}

impl Plan {
    fn new(tape: &Tape) -> Plan {
        let n = tape.instrs.len();
        let count = n.div_ceil(CHUNK_INSTRUCTIONS).max(1);
        let chunks: Vec<_> = (0..count)
            .map(|c| c * CHUNK_INSTRUCTIONS..((c + 1) * CHUNK_INSTRUCTIONS).min(n))
            .collect();
        let mut last_read = vec![0; tape.registers()];
        for (i, ins) in tape.instrs.iter().enumerate() {
            for r in ins.operands(&tape.pool) {
                last_read[r as usize] = i / CHUNK_INSTRUCTIONS;
            }
        }
        for &o in &tape.outputs {
            last_read[o as usize] = count - 1;
        }
        Plan { chunks, last_read }
    }
}

/// Compiles `tape` to machine code for this processor, in functions of at most
/// `CHUNK_INSTRUCTIONS` instructions.
pub fn compile_native(tape: &Tape) -> Result<NativeTape> {
    if tape.len() > NATIVE_MAX_INSTRUCTIONS {
        return Err(Error::new(ErrorKind::Unsupported(format!(
            "a tape of {} instructions is longer than native code is built for ({})",
            tape.len(),
            NATIVE_MAX_INSTRUCTIONS
        ))));
    }
    let mut module = new_module()?;
    let imports = Imports::declare(&mut module)?;
    let plan = Plan::new(tape);
    let ptr = module.target_config().pointer_type();
    let mut signature = module.make_signature();
    signature.params.extend([AbiParam::new(ptr), AbiParam::new(ptr), AbiParam::new(ptr)]);
    let mut ctx = module.make_context();
    let mut builder_context = FunctionBuilderContext::new();
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
            values: vec![None; tape.registers()],
            defined: Vec::new(),
            scratch: params[2],
            callees: std::collections::HashMap::new(),
        };
        emitter.chunk(tape, &plan, c, params[0], params[1]);
        emitter.b.ins().return_(&[]);
        emitter.b.seal_all_blocks();
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
        registers: tape.registers(),
        inputs: tape.inputs().len(),
        outputs: tape.outputs(),
        module: Some(OwnedModule(module)),
    })
}

struct Emitter<'a> {
    b: FunctionBuilder<'a>,
    module: &'a mut JITModule,
    imports: &'a Imports,
    /// The SSA value currently in each tape register, in this function.
    values: Vec<Option<Value>>,
    /// The registers this function writes.
    defined: Vec<u32>,
    /// The scratch memory through which functions pass registers.
    scratch: Value,
    /// The kernels this function calls, each declared in it once.
    callees: std::collections::HashMap<FuncId, cranelift_codegen::ir::FuncRef>,
}

impl Emitter<'_> {
    /// Function `c` of `plan`: the first one loads the inputs and constants; each stores the
    /// registers it writes that a later function reads; the last one stores the outputs.
    fn chunk(&mut self, tape: &Tape, plan: &Plan, c: usize, input: Value, output: Value) {
        if c == 0 {
            for i in 0..tape.inputs().len() {
                let v = self.b.ins().load(types::F64, MemFlags::trusted(), input, (8 * i) as i32);
                self.set(i as u32, v);
            }
            for &(r, k) in &tape.constants {
                let v = self.b.ins().f64const(k);
                self.set(r, v);
            }
        }
        for ins in &tape.instrs[plan.chunks[c].clone()] {
            let v = self.instruction(ins, &tape.pool);
            self.set(ins.dst(), v);
        }
        let mut defined = std::mem::take(&mut self.defined);
        defined.sort_unstable();
        defined.dedup();
        for r in defined.into_iter().filter(|&r| plan.last_read[r as usize] > c) {
            let v = self.get(r);
            self.b.ins().store(MemFlags::trusted(), v, self.scratch, (8 * r) as i32);
        }
        if c + 1 == plan.chunks.len() {
            for (k, &o) in tape.outputs.iter().enumerate() {
                let v = self.get(o);
                self.b.ins().store(MemFlags::trusted(), v, output, (8 * k) as i32);
            }
        }
    }

    fn set(&mut self, r: u32, v: Value) {
        self.values[r as usize] = Some(v);
        self.defined.push(r);
    }

    /// The value of register `r`: computed in this function, or stored by an earlier one.
    fn get(&mut self, r: u32) -> Value {
        if let Some(v) = self.values[r as usize] {
            return v;
        }
        let flags = MemFlags::trusted();
        let v = self.b.ins().load(types::F64, flags, self.scratch, (8 * r) as i32);
        self.values[r as usize] = Some(v);
        v
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

    fn instruction(&mut self, ins: &Instr, pool: &[u32]) -> Value {
        let ops: Vec<Value> = ins.operands(pool).iter().map(|&r| self.get(r)).collect();
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
            Instr::LogSumExp { len, .. } => {
                let data = StackSlotData::new(StackSlotKind::ExplicitSlot, 8 * len, 3);
                let slot = self.b.create_sized_stack_slot(data);
                for (i, &v) in ops.iter().enumerate() {
                    self.b.ins().stack_store(v, slot, (8 * i) as i32);
                }
                let ptr = self.module.target_config().pointer_type();
                let address = self.b.ins().stack_addr(ptr, slot, 0);
                let count = self.b.ins().iconst(types::I64, i64::from(len));
                self.call(self.imports.logsumexp, &[address, count])
            }
        }
    }

    fn func_id(&self, f: Func) -> FuncId {
        // Imported in the order of `Func::ALL`, which is the order of the variants.
        self.imports.funcs[f as usize].1
    }
}

thread_local! {
    /// The registers that pass between the functions of a long tape, one buffer a thread.
    static SCRATCH: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
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
        if let [only] = self.chunks.as_slice() {
            only(inputs.as_ptr(), out.as_mut_ptr(), std::ptr::null_mut());
            return;
        }
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.resize(scratch.len().max(self.registers), 0.0);
            for chunk in &self.chunks {
                chunk(inputs.as_ptr(), out.as_mut_ptr(), scratch.as_mut_ptr());
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
            for row in start..end {
                for &(i, data) in &varying {
                    row_inputs[i] = data[row];
                }
                self.run_into(&row_inputs, &mut out);
                sink.row(row, &out);
            }
        })
    }
}
