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

/// Tapes longer than this are not worth compiling: Cranelift's time grows faster than
/// linearly with the size of one function, and the interpreter is close in batches.
pub const NATIVE_MAX_INSTRUCTIONS: usize = 20_000;

/// A tape compiled to machine code: `run_into(inputs, outputs)`.
pub struct NativeTape {
    function: extern "C" fn(*const f64, *mut f64),
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
            // SAFETY: `function` points into this module's memory and dies with `self`.
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

/// Compiles `tape` to machine code for this processor.
pub fn compile_native(tape: &Tape) -> Result<NativeTape> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(jit_error)?;
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
    let mut module = JITModule::new(builder);
    let imports = Imports::declare(&mut module)?;

    let ptr = module.target_config().pointer_type();
    let mut signature = module.make_signature();
    signature.params.push(AbiParam::new(ptr));
    signature.params.push(AbiParam::new(ptr));
    let id = module.declare_function("tape", Linkage::Local, &signature).map_err(jit_error)?;
    let mut ctx = module.make_context();
    ctx.func.signature = signature;
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    let mut builder_context = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut builder_context);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let (input, output) = (b.block_params(block)[0], b.block_params(block)[1]);
        let mut emitter = Emitter {
            b,
            module: &mut module,
            imports: &imports,
            values: vec![None; tape.registers()],
        };
        emitter.body(tape, input, output);
        emitter.b.ins().return_(&[]);
        emitter.b.seal_all_blocks();
        emitter.b.finalize();
    }
    module.define_function(id, &mut ctx).map_err(jit_error)?;
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(jit_error)?;
    let code = module.get_finalized_function(id);
    // SAFETY: `code` is the function just defined with the signature (ptr, ptr) -> (),
    // which is what `extern "C" fn(*const f64, *mut f64)` is on this target.
    let function =
        unsafe { std::mem::transmute::<*const u8, extern "C" fn(*const f64, *mut f64)>(code) };
    Ok(NativeTape {
        function,
        inputs: tape.inputs().len(),
        outputs: tape.outputs(),
        module: Some(OwnedModule(module)),
    })
}

struct Emitter<'a> {
    b: FunctionBuilder<'a>,
    module: &'a mut JITModule,
    imports: &'a Imports,
    /// The SSA value currently in each tape register.
    values: Vec<Option<Value>>,
}

impl Emitter<'_> {
    fn body(&mut self, tape: &Tape, input: Value, output: Value) {
        for i in 0..tape.inputs().len() {
            let v = self.b.ins().load(types::F64, MemFlags::trusted(), input, (8 * i) as i32);
            self.values[i] = Some(v);
        }
        for &(r, c) in &tape.constants {
            self.values[r as usize] = Some(self.b.ins().f64const(c));
        }
        for ins in &tape.instrs {
            let v = self.instruction(ins, &tape.pool);
            self.values[ins.dst() as usize] = Some(v);
        }
        for (k, &o) in tape.outputs.iter().enumerate() {
            let v = self.get(o);
            self.b.ins().store(MemFlags::trusted(), v, output, (8 * k) as i32);
        }
    }

    fn get(&self, r: u32) -> Value {
        self.values[r as usize].expect("a register is written before it is read")
    }

    fn call(&mut self, id: FuncId, args: &[Value]) -> Value {
        let callee = self.module.declare_func_in_func(id, self.b.func);
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
        (self.function)(inputs.as_ptr(), out.as_mut_ptr());
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
