//! Native code for a tape: the same instructions compiled to machine code with Cranelift,
//! for f64. Straight-line code keeps every value in a machine register where it can, so
//! one point costs about what a hand-written function does; functions like `exp` are calls
//! to the same Rust code the interpreter runs, so both give the same bits. `sigmoid` is
//! written out in the code instead ([`fastmath`]'s exponential, operation for operation:
//! the same bits), and `f(x)` and `f(-x)` share their common part for `sigmoid` and
//! `softplus`, which a network's loss asks for in pairs (a sigmoid computed in a vector
//! lane, beside another, shares nothing with a later one). A `sin` and a `cos` of one
//! value (a forward pass and its derivative) are one call ([`fastmath::sin_cos`], the same
//! bits), which stores the later one in the register file where it is read far away.

use super::batch::{in_chunks, Sink};
use super::steps::scheduled;
use super::tape::{Instr, Tape};
use super::{Column, Reduce};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::Func;
use crate::operators::fastmath::{self, LN2_HI, LN2_LO, SHIFT, SHIFT_BITS};
use crate::operators::kernels::{logsumexp, softplus_tail};
use crate::operators::Kernel;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::entity::packed_option::PackedOption;
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{
    types, AbiParam, ExtFuncData, ExternalName, FuncRef, Function, InstBuilder, InstructionData,
    MemFlags, Signature, UserExternalName, UserFuncName, Value,
};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedMachReloc};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use rayon::prelude::*;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::f64::consts::LOG2_E;

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
    /// Cranelift's backtracking register allocator, rather than its single-pass one
    /// (about ten times faster to compile).
    backtracking: bool,
    /// A logsumexp of consecutive inputs reads them where they are, rather than having
    /// each copied by an instruction of its own.
    inputs_in_place: bool,
    /// The instructions in an order that keeps values short-lived ([`scheduled`]), rather
    /// than the tape's (the whole forward pass, then the whole backward pass, every
    /// forward value alive until its backward reader), with sigmoids paired
    /// ([`sigmoids_paired`]).
    reorder: bool,
    /// `sigmoid` written out in the code rather than called: where the backtracking
    /// allocator keeps its many temporaries in registers.
    write_out: bool,
}

/// Tapes up to this size (instructions, logsumexp arguments and outputs: about the
/// number of Cranelift instructions) become one function with every value in SSA form,
/// in the order of [`scheduled`], and Cranelift's backtracking register allocator (about
/// ten times slower to compile than its single-pass one: 3 ms for 1,000 instructions).
/// Cranelift's optimiser, which moves arithmetic to where stores and calls need it,
/// would undo that order (Rosenbrock 100: 260 ns a gradient with it, 165 ns without).
/// Longer tapes get code that compiles in linear time.
const SMALL_TAPE: usize = 2_500;

impl Config {
    /// The configuration for `tape`.
    fn for_tape(tape: &Tape) -> Config {
        let size = tape.len() + tape.pool.len() + tape.outputs();
        let small = size <= SMALL_TAPE;
        let (window, calls_spill, chunk) =
            if small { (usize::MAX, false, usize::MAX) } else { (24, true, 1_000) };
        Config {
            window,
            calls_spill,
            chunk,
            backtracking: small,
            inputs_in_place: !small,
            reorder: small,
            write_out: small,
        }
    }
}

/// An input read again this many instructions after it was last loaded is loaded again
/// (a load that folds into the operation that reads it) rather than kept in a register,
/// which would be spilled to the stack and read back from there.
const INPUT_REUSE: usize = 16;

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
extern "C" fn cr_softplus_tail(x: f64) -> f64 {
    softplus_tail(x)
}

/// A sine and a cosine, returned in two float registers where [`TWO_FLOAT_RETURNS`].
#[repr(C)]
struct SinCos {
    sin: f64,
    cos: f64,
}

extern "C" fn cr_sin_cos(x: f64) -> SinCos {
    let (sin, cos) = fastmath::sin_cos(x);
    SinCos { sin, cos }
}

/// Stores sin x and cos x in places `places & 0xffff_ffff` and `places >> 32` of `file`
/// (two places in one argument: one instruction fewer to make it).
///
/// # Safety
/// Both places are in the register file that `file` points to.
unsafe extern "C" fn cr_sin_cos_into(x: f64, file: *mut f64, places: u64) {
    let (sin, cos) = fastmath::sin_cos(x);
    // SAFETY: as the caller promises.
    unsafe {
        *file.add(places as u32 as usize) = sin;
        *file.add((places >> 32) as usize) = cos;
    }
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
    softplus_tail: FuncId,
    sin_cos: FuncId,
    sin_cos_into: FuncId,
    /// Each declared function's signature, indexed by its id (they are declared first).
    signatures: Vec<Signature>,
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
        let mut pair = one.clone();
        pair.returns.push(AbiParam::new(types::F64));
        let mut into = signature(&[types::F64, ptr, types::I64]);
        into.returns.clear();
        let mut signatures = Vec::new();
        let mut declare = |name: &str, sig: &Signature| {
            let id = module.declare_function(name, Linkage::Import, sig).map_err(jit_error)?;
            assert_eq!(id.as_u32() as usize, signatures.len(), "imports are declared first");
            signatures.push(sig.clone());
            Ok::<FuncId, Error>(id)
        };
        let mut funcs = Vec::new();
        for &f in Func::ALL {
            funcs.push((f, declare(&symbol(f).0, [&one, &two, &three][f.arity() - 1])?));
        }
        let powf = declare("cr_powf", &two)?;
        let powi = declare("cr_powi", &powi_sig)?;
        let logsumexp = declare("cr_logsumexp", &lse_sig)?;
        let softplus_tail = declare("cr_softplus_tail", &one)?;
        let sin_cos = declare("cr_sin_cos", &pair)?;
        let sin_cos_into = declare("cr_sin_cos_into", &into)?;
        Ok(Imports {
            funcs,
            powf,
            powi,
            logsumexp,
            softplus_tail,
            sin_cos,
            sin_cos_into,
            signatures,
        })
    }

    /// Imports function `id` into `func`, as `Module::declare_func_in_func` does, but
    /// without the module, so on any thread.
    fn import_into(&self, id: FuncId, func: &mut Function) -> FuncRef {
        let signature = func.import_signature(self.signatures[id.as_u32() as usize].clone());
        let name = UserExternalName { namespace: 0, index: id.as_u32() };
        let name = ExternalName::user(func.declare_imported_user_function(name));
        // Imports are not final (`Linkage::is_final`), so never colocated.
        func.import_function(ExtFuncData { name, signature, colocated: false })
    }
}

/// The module a tape's functions are built in, with the kernels it may call, and the
/// instruction set it compiles for (shared with the threads that compile functions).
fn new_module(config: &Config) -> Result<(JITModule, OwnedTargetIsa)> {
    let mut flags = settings::builder();
    // No optimiser (see `SMALL_TAPE`). Long tapes do not get the backtracking allocator
    // either: with every value's life bounded by `Config::window`, the single-pass
    // allocator spills little.
    let regalloc = if config.backtracking { "backtracking" } else { "single_pass" };
    flags.set("opt_level", "none").map_err(jit_error)?;
    flags.set("regalloc_algorithm", regalloc).map_err(jit_error)?;
    // The IR is built by this file and well formed; checking it took 40% of the time.
    flags.set("enable_verifier", "false").map_err(jit_error)?;
    flags.set("use_colocated_libcalls", "false").map_err(jit_error)?;
    flags.set("is_pic", "false").map_err(jit_error)?;
    let isa = cranelift_native::builder()
        .map_err(jit_error)?
        .finish(settings::Flags::new(flags))
        .map_err(jit_error)?;
    let mut builder = JITBuilder::with_isa(isa.clone(), default_libcall_names());
    for &f in Func::ALL {
        let (name, address) = symbol(f);
        builder.symbol(name, address);
    }
    builder.symbol("cr_powf", cr_powf as *const u8);
    builder.symbol("cr_powi", cr_powi as *const u8);
    builder.symbol("cr_logsumexp", cr_logsumexp as *const u8);
    builder.symbol("cr_softplus_tail", cr_softplus_tail as *const u8);
    builder.symbol("cr_sin_cos", cr_sin_cos as *const u8);
    builder.symbol("cr_sin_cos_into", cr_sin_cos_into as *const u8);
    Ok((JITModule::new(builder), isa))
}

/// Where a register's current value comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// Input `k`, read from the inputs.
    Input(u32),
    /// A constant, made where it is used.
    Constant(f64),
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
    /// Whether instruction `i` stores its value in the register file for a later reader
    /// (the first of a `sin` and a `cos` whose second is stored early: by the call).
    stored: Vec<bool>,
    /// For a `sin` and a `cos` of one value, made together by the first of them with one
    /// call ([`fastmath::sin_cos`]): the other's position; [`NONE`] for other instructions.
    partner: Vec<u32>,
    /// Where in the register file the first of a pair stores the value of the second, `j`,
    /// when it is not at hand at `j` ([`NONE`]: it is, or `j` is no such instruction):
    /// `j`'s register's place, so that `j` itself makes nothing, unless another value
    /// is kept there then; a place of its own after the registers then, and `j` loads it.
    early: Vec<u32>,
    /// Where each register's value comes from before any instruction writes it.
    initial: Vec<Source>,
    /// The outputs that instructions make, each stored by the instruction that makes it
    /// (held to the end of the last function instead, it would live until then, and for
    /// a gradient of many variables make that function as long as all the others
    /// together): `(instruction, output)`, in order.
    made_outputs: Vec<(usize, usize)>,
    /// The outputs that are inputs or constants, stored at the end: `(output, register)`.
    given_outputs: Vec<(usize, u32)>,
    /// The first instruction that writes each register (`usize::MAX`: none). From there
    /// on the register holds an instruction's value, so each function knows what its
    /// registers hold without the functions before it having been built.
    first_write: Vec<usize>,
    /// The tape's registers: the register file holds them, then the arguments of the
    /// longest logsumexp.
    registers: usize,
    /// Length of the register file the code needs (0: none).
    file_len: usize,
}

impl Plan {
    fn new(tape: &Tape, config: Config) -> Plan {
        let n = tape.instrs.len();
        let count = n.div_ceil(config.chunk).max(1);
        let chunks = (0..count).map(|c| c * config.chunk..((c + 1) * config.chunk).min(n));
        let mut plan = Plan {
            config,
            chunks: chunks.collect(),
            calls_before: Vec::new(),
            stored: vec![false; n],
            partner: sin_cos_partners(tape),
            early: vec![NONE; n],
            initial: initial_sources(tape),
            made_outputs: Vec::new(),
            given_outputs: Vec::new(),
            first_write: vec![usize::MAX; tape.registers()],
            registers: tape.registers(),
            file_len: 0,
        };
        for (i, ins) in tape.instrs.iter().enumerate().rev() {
            plan.first_write[ins.dst() as usize] = i;
        }
        plan.calls_before = plan.calls_before(tape);
        let (last_reads, writers) = plan.last_reads(tape);
        plan.stored = last_reads.iter().enumerate().map(|(i, &j)| !plan.at_hand(i, j)).collect();
        let arguments = tape.instrs.iter().map(|ins| match *ins {
            Instr::LogSumExp { len, .. } => len as usize,
            _ => 0,
        });
        let arguments = arguments.max().unwrap_or(0);
        let places = plan.place_early(tape, &last_reads, plan.registers + arguments);
        for (k, &o) in tape.outputs.iter().enumerate() {
            match writers[o as usize] {
                usize::MAX => plan.given_outputs.push((k, o)),
                i => plan.made_outputs.push((i, k)),
            }
        }
        plan.made_outputs.sort_unstable();
        let stored = plan.stored.contains(&true) || plan.early.iter().any(|&e| e != NONE);
        if arguments > 0 || stored {
            plan.file_len = plan.registers + arguments + places;
        }
        plan
    }

    /// Calls among instructions `0..i`, at `i` (one more entry than instructions).
    fn calls_before(&self, tape: &Tape) -> Vec<u32> {
        let mut calls_before = Vec::with_capacity(tape.instrs.len() + 1);
        calls_before.push(0);
        for (i, ins) in tape.instrs.iter().enumerate() {
            let call = is_call(ins, &self.config) && self.made_with(i).is_none();
            calls_before.push(calls_before.last().unwrap() + u32::from(call));
        }
        calls_before
    }

    /// For each instruction, the position of the last reader of its value (its own
    /// position when nothing reads it: an output is stored where it is made); and the
    /// last instruction to write each register (`usize::MAX`: none). The second of a
    /// `sin` and a `cos` reads nothing: its partner read the operand.
    fn last_reads(&self, tape: &Tape) -> (Vec<usize>, Vec<usize>) {
        let mut writer = vec![usize::MAX; tape.registers()];
        let mut last: Vec<usize> = (0..tape.instrs.len()).collect();
        for (j, ins) in tape.instrs.iter().enumerate() {
            if self.made_with(j).is_none() {
                for r in ins.operands(&tape.pool) {
                    let i = writer[r as usize];
                    if i != usize::MAX {
                        last[i] = j;
                    }
                }
            }
            writer[ins.dst() as usize] = j;
        }
        (last, writer)
    }

    /// The partner that makes instruction `j`'s value, if it is the second of a pair.
    fn made_with(&self, j: usize) -> Option<usize> {
        let i = self.partner[j];
        (i != NONE && (i as usize) < j).then_some(i as usize)
    }

    /// The partner that instruction `i` makes too, if it is the first of a pair.
    fn makes_too(&self, i: usize) -> Option<usize> {
        let j = self.partner[i];
        (j != NONE && (j as usize) > i).then_some(j as usize)
    }

    /// Decides where the first of each pair stores the second's value if that is not at
    /// hand there ([`Plan::early`]), with the values last read at `last_reads`; the
    /// number of places of their own, from place `first` of the file on.
    fn place_early(&mut self, tape: &Tape, last_reads: &[usize], first: usize) -> usize {
        // Each register's values that go through memory, in the order they are written,
        // occupy its place from their store to their last read: one after another.
        let mut free_from = vec![0; tape.registers()];
        let mut places = 0;
        for (j, ins) in tape.instrs.iter().enumerate() {
            let d = ins.dst() as usize;
            let stored_at = match (self.made_with(j), self.makes_too(j)) {
                (Some(i), _) if !self.at_hand(i, j) => i,
                // The call stores both values (a call's result in a register would be
                // moved through the stack by the single-pass register allocator).
                (_, Some(k)) if !self.at_hand(j, k) => {
                    self.stored[j] = true;
                    j
                }
                _ if self.stored[j] => j,
                _ => continue,
            };
            if stored_at >= free_from[d] {
                self.early[j] = if stored_at < j { d as u32 } else { NONE };
                self.stored[j] &= stored_at == j;
                free_from[d] = last_reads[j];
            } else {
                // Still kept there (only a value stored early can find that): `j` loads
                // its value and stores it as it would its own.
                self.early[j] = (first + places) as u32;
                places += 1;
                if self.stored[j] {
                    free_from[d] = last_reads[j];
                }
            }
        }
        places
    }

    /// Whether an instruction before position `at` wrote register `r`: then its value is
    /// an instruction's, else its initial source's.
    fn written_before(&self, r: u32, at: usize) -> bool {
        self.first_write[r as usize] < at
    }

    /// Whether registers `args` hold consecutive inputs at position `at` (input `k` is in
    /// register `k` until an instruction writes it), to be read in place.
    fn inputs_in_place(&self, args: &[u32], at: usize) -> bool {
        let consecutive = args.windows(2).all(|w| w[1] == w[0] + 1);
        let input = |r: u32| {
            matches!(self.initial[r as usize], Source::Input(k) if k == r)
                && !self.written_before(r, at)
        };
        self.config.inputs_in_place
            && !args.is_empty()
            && consecutive
            && args.iter().all(|&r| input(r))
    }

    /// The function that runs instruction `i` (the outputs, at `len`, are in the last).
    fn chunk_of(&self, i: usize) -> usize {
        (i / self.config.chunk).min(self.chunks.len() - 1)
    }

    /// Whether a value made at position `born` is still in a register for a reader at
    /// `at`: same function, within the window, and no call in between.
    fn at_hand(&self, born: usize, at: usize) -> bool {
        self.chunk_of(born) == self.chunk_of(at)
            && at - born <= self.config.window
            && !(self.config.calls_spill
                && self.calls_before[at] > self.calls_before[(born + 1).min(at)])
    }
}

/// No instruction.
const NONE: u32 = u32::MAX;

/// Whether this target returns a `#[repr(C)]` pair of doubles from an `extern "C"` function
/// in the two registers where Cranelift puts a function's two float results (xmm0 and
/// xmm1, d0 and d1), as [`cr_sin_cos`] needs.
const TWO_FLOAT_RETURNS: bool =
    cfg!(any(all(target_arch = "x86_64", not(windows)), target_arch = "aarch64"));

/// For each `sin` and `cos` of one value ([`Tape::sin_cos_pairs`]), the other's position;
/// [`NONE`] for other instructions.
fn sin_cos_partners(tape: &Tape) -> Vec<u32> {
    let mut partner = vec![NONE; tape.instrs.len()];
    if TWO_FLOAT_RETURNS {
        for (i, j) in tape.sin_cos_pairs() {
            (partner[i], partner[j]) = (j as u32, i as u32);
        }
    }
    partner
}

/// Whether instruction `ins` is a call, which clobbers every float register.
fn is_call(ins: &Instr, config: &Config) -> bool {
    match ins {
        Instr::Func1 { f, .. } => !(config.write_out && *f == Func::Sigmoid),
        Instr::Powi { .. }
        | Instr::Powf { .. }
        | Instr::Func2 { .. }
        | Instr::Func3 { .. }
        | Instr::LogSumExp { .. } => true,
        _ => false,
    }
}

/// `order` (of `instrs`, whose operand instructions are `producers`) with the sigmoids
/// within [`PAIR_REACH`] after a call that do not depend on it (nor on another call)
/// brought before it, with what they need: a network's output sigmoid and the call of
/// its loss (softplus) then run side by side, rather than the sigmoid's long chain after
/// the call. A call that `config` writes out is none.
fn sigmoids_before_calls(
    instrs: &[Instr],
    order: Vec<usize>,
    producers: &[SmallVec<[u32; 3]>],
    config: &Config,
) -> Vec<usize> {
    let call = |i: usize| is_call(&instrs[i], config);
    Reorder::rebuild(&order, producers, |moved, p, i| {
        if call(i) {
            for &k in &order[p + 1..order.len().min(p + PAIR_REACH)] {
                if !moved.placed[k]
                    && is_sigmoid(&instrs[k])
                    && moved.place_needs(i, k, |j| !call(j))
                {
                    moved.place(k);
                }
            }
        }
    })
}

/// Longest stretch of tape searched for a sigmoid to pair with another.
const PAIR_REACH: usize = 256;

/// `order` (of `instrs`, whose operand instructions are `producers`) with each sigmoid
/// followed by the next sigmoid within [`PAIR_REACH`] if that one does not depend on it,
/// the instructions that the second needs and the first does not brought before both:
/// two sigmoids side by side, which [`Emitter`] computes in the two lanes of one vector.
/// Ahead of each pair also comes what the next `lead` sigmoids need (but no call), where
/// it does not depend on the pair: a network's next weighted sums are computed while the
/// pair's exponentials run, rather than after them (with [`LEAD`]: the 10-32-1 net 7%
/// faster, the 2-4-1 net 4%). Otherwise the order is kept. An order of fewer than two
/// sigmoids is returned as it is.
fn sigmoids_paired(
    instrs: &[Instr],
    order: Vec<usize>,
    producers: &[SmallVec<[u32; 3]>],
    config: &Config,
    lead: usize,
) -> Vec<usize> {
    let sigmoid = |i: usize| is_sigmoid(&instrs[i]);
    let call = |i: usize| is_call(&instrs[i], config);
    if order.iter().filter(|&&i| sigmoid(i)).nth(1).is_none() {
        return order;
    }
    Reorder::rebuild(&order, producers, |paired, p, i| {
        if sigmoid(i) {
            let ahead = &order[p + 1..order.len().min(p + PAIR_REACH)];
            let unplaced = |paired: &Reorder, k: usize| !paired.placed[k] && sigmoid(k);
            let next = ahead.iter().copied().find(|&k| unplaced(paired, k));
            if let Some(k) = next.filter(|&k| paired.place_needs(i, k, |_| true)) {
                let after = ahead.iter().copied().filter(|&n| n != k && unplaced(paired, n));
                for n in after.take(lead).collect::<SmallVec<[usize; LEAD]>>() {
                    paired.place_needs(i, n, |j| j != k && !call(j));
                }
                paired.place(i);
                paired.place(k);
            }
        }
    })
}

/// Sigmoids after a pair whose operands [`sigmoids_paired`] computes ahead of it.
const LEAD: usize = 2;

/// `order` as native code wants it: sigmoids before calls, then paired and led.
fn reorder_for_native(
    instrs: &[Instr],
    order: Vec<usize>,
    producers: &[SmallVec<[u32; 3]>],
    config: &Config,
) -> Vec<usize> {
    let order = sigmoids_before_calls(instrs, order, producers, config);
    sigmoids_paired(instrs, order, producers, config, LEAD)
}

/// Whether `ins` is a sigmoid.
fn is_sigmoid(ins: &Instr) -> bool {
    matches!(ins, Instr::Func1 { f: Func::Sigmoid, .. })
}

/// An order of instructions rebuilt from another, each placed once, some brought ahead of
/// where they stood together with the instructions they need.
struct Reorder<'a> {
    /// Each instruction's operand instructions.
    producers: &'a [SmallVec<[u32; 3]>],
    /// Where each instruction stood in the old order.
    position: Vec<usize>,
    /// Whether each instruction is placed already.
    placed: Vec<bool>,
    /// The instructions placed, in order.
    order: Vec<usize>,
}

impl<'a> Reorder<'a> {
    fn new(order: &[usize], producers: &'a [SmallVec<[u32; 3]>]) -> Reorder<'a> {
        let mut position = vec![0; order.len()];
        for (p, &i) in order.iter().enumerate() {
            position[i] = p;
        }
        let (placed, order) = (vec![false; order.len()], Vec::with_capacity(order.len()));
        Reorder { producers, position, placed, order }
    }

    /// `order` rebuilt: each instruction not placed yet is handed, with its position, to
    /// `ahead`, which may place others before it (or it and others), then placed.
    fn rebuild(
        order: &[usize],
        producers: &'a [SmallVec<[u32; 3]>],
        mut ahead: impl FnMut(&mut Reorder<'a>, usize, usize),
    ) -> Vec<usize> {
        let mut reorder = Reorder::new(order, producers);
        for (p, &i) in order.iter().enumerate() {
            if !reorder.placed[i] {
                ahead(&mut reorder, p, i);
            }
            if !reorder.placed[i] {
                reorder.place(i);
            }
        }
        reorder.order
    }

    /// Places instruction `i` next.
    fn place(&mut self, i: usize) {
        self.placed[i] = true;
        self.order.push(i);
    }

    /// Places the instructions not yet placed that `k` needs (itself excluded), in the
    /// old order, unless `i` is among them or `allowed` refuses one: what must come before
    /// `k` can sit beside `i`. Whether it placed them.
    fn place_needs(&mut self, i: usize, k: usize, allowed: impl Fn(usize) -> bool) -> bool {
        let unplaced = |j: &u32| !self.placed[*j as usize];
        let mut needed = Vec::new();
        let mut stack: Vec<u32> = self.producers[k].iter().copied().filter(unplaced).collect();
        let mut seen = std::collections::HashSet::new();
        while let Some(j) = stack.pop() {
            if j as usize == i || !allowed(j as usize) {
                return false;
            }
            if seen.insert(j) {
                needed.push(j as usize);
                stack.extend(self.producers[j as usize].iter().copied().filter(unplaced));
            }
        }
        needed.sort_unstable_by_key(|&j| self.position[j]);
        for j in needed {
            self.place(j);
        }
        true
    }
}

/// Compiles `tape` to machine code for this processor: one function for a small tape,
/// several for a long one, each built and compiled on one of rayon's threads, then placed
/// in the module in order.
pub fn compile_native(tape: &Tape) -> Result<NativeTape> {
    if tape.len() > NATIVE_MAX_INSTRUCTIONS {
        return Err(Error::new(ErrorKind::Unsupported(format!(
            "a tape of {} instructions is longer than native code is built for ({})",
            tape.len(),
            NATIVE_MAX_INSTRUCTIONS
        ))));
    }
    let config = Config::for_tape(tape);
    let reordered;
    let tape = match config.reorder {
        true => {
            reordered = scheduled(tape, |order, producers| {
                reorder_for_native(&tape.instrs, order, producers, &config)
            });
            &reordered
        }
        false => tape,
    };
    let (mut module, isa) = new_module(&config)?;
    let imports = Imports::declare(&mut module)?;
    let plan = Plan::new(tape, config);
    let ptr = module.target_config().pointer_type();
    let mut signature = module.make_signature();
    signature.params.extend([AbiParam::new(ptr), AbiParam::new(ptr), AbiParam::new(ptr)]);
    let ids = (0..plan.chunks.len())
        .map(|c| {
            module
                .declare_function(&format!("tape{c}"), Linkage::Local, &signature)
                .map_err(jit_error)
        })
        .collect::<Result<Vec<FuncId>>>()?;
    let job = Job { tape, plan: &plan, imports: &imports, signature: &signature, isa: &*isa };
    let compile = |worker: &mut Worker, (c, &id): (usize, &FuncId)| worker.compile(&job, c, id);
    // One function, or one thread: compiled here, with no hand-over to another thread (on
    // a busy processor, waiting for one to be scheduled can take longer than the work).
    let compiled = if ids.len() == 1 || rayon::current_num_threads() == 1 {
        let mut worker = Worker::new(tape);
        ids.iter().enumerate().map(|job| compile(&mut worker, job)).collect::<Result<Vec<_>>>()?
    } else {
        let parallel = ids.par_iter().enumerate().map_init(|| Worker::new(tape), compile);
        parallel.collect::<Result<Vec<Compiled>>>()?
    };
    for (&id, code) in ids.iter().zip(&compiled) {
        module
            .define_function_bytes(id, &code.names, code.alignment, &code.bytes, &code.relocs)
            .map_err(jit_error)?;
    }
    drop(compiled);
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

/// What every function of a tape is built from; shared by the threads that build them.
struct Job<'a> {
    tape: &'a Tape,
    plan: &'a Plan,
    imports: &'a Imports,
    /// Every function's signature: `(inputs, outputs, file)`.
    signature: &'a Signature,
    isa: &'a dyn cranelift_codegen::isa::TargetIsa,
}

/// One function's machine code, ready to be placed in the module.
struct Compiled {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<FinalizedMachReloc>,
    /// An empty function declaring the names the relocations refer to, as the function
    /// compiled did.
    names: Function,
}

/// One thread's means of building and compiling functions, reused from one to the next.
struct Worker {
    ctx: Context,
    builder_context: FunctionBuilderContext,
    control: ControlPlane,
    /// See [`Emitter::values`]; what is left from other functions is never at hand.
    values: Vec<Held>,
}

impl Worker {
    fn new(tape: &Tape) -> Worker {
        Worker {
            ctx: Context::new(),
            builder_context: FunctionBuilderContext::new(),
            control: ControlPlane::default(),
            values: vec![Held::none(); tape.registers()],
        }
    }

    /// Builds function `c` of the plan, declared as `id`, and compiles it.
    fn compile(&mut self, job: &Job, c: usize, id: FuncId) -> Result<Compiled> {
        self.ctx.clear();
        self.ctx.func.signature = job.signature.clone();
        self.ctx.func.name = UserFuncName::user(0, id.as_u32());
        let mut b = FunctionBuilder::new(&mut self.ctx.func, &mut self.builder_context);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let params = b.block_params(block).to_vec();
        let mut emitter = Emitter {
            b,
            imports: job.imports,
            plan: job.plan,
            values: &mut self.values,
            pointers: [params[0], params[1], params[2]],
            callees: vec![None; job.imports.signatures.len()],
            negated: HashMap::new(),
            shared: HashMap::new(),
            partners: HashMap::new(),
        };
        emitter.chunk(job.tape, c);
        emitter.b.ins().return_(&[]);
        emitter.b.seal_all_blocks();
        emitter.b.finalize();
        let mut names = Function::new();
        for (_, name) in self.ctx.func.params.user_named_funcs().iter() {
            names.declare_imported_user_function(name.clone());
        }
        let code = self.ctx.compile(job.isa, &mut self.control).map_err(|e| jit_error(e.inner))?;
        Ok(Compiled {
            bytes: code.code_buffer().to_vec(),
            alignment: u64::from(code.buffer.alignment),
            relocs: code.buffer.relocs().to_vec(),
            names,
        })
    }
}

/// The SSA value last made for a tape register in the function being built, and the
/// position it was made at: 8 bytes, as the emitter reads one for each operand, scattered
/// over the registers of a long tape (positions are below [`NATIVE_MAX_INSTRUCTIONS`]).
#[derive(Clone, Copy)]
struct Held {
    value: PackedOption<Value>,
    born: u32,
}

impl Held {
    fn none() -> Held {
        Held { value: PackedOption::default(), born: 0 }
    }

    fn new(value: Value, born: usize) -> Held {
        Held { value: value.into(), born: born as u32 }
    }

    fn get(self) -> Option<(Value, usize)> {
        self.value.expand().map(|v| (v, self.born as usize))
    }
}

/// An operation with a constant.
#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
}

/// Builds one function of a plan.
struct Emitter<'a> {
    b: FunctionBuilder<'a>,
    imports: &'a Imports,
    plan: &'a Plan,
    /// The SSA value last made for each tape register in this function, and where.
    values: &'a mut Vec<Held>,
    /// The function's parameters: inputs, outputs and the register file.
    pointers: [Value; 3],
    /// The kernels this function calls, each declared in it once, by the kernel's id.
    callees: Vec<Option<FuncRef>>,
    /// For each value made as `-x`: `x` (or what `x` negates), whose |x| is the same.
    negated: HashMap<Value, Value>,
    /// What `f(x)` and `f(-x)` share, by `f` and `x` (see `negated`), and where it was made.
    shared: HashMap<(Func, Value), ([Value; 2], usize)>,
    /// The values made by the first of a `sin` and a `cos` for the second, by its
    /// position, where that one finds it at hand.
    partners: HashMap<usize, Value>,
}

impl Emitter<'_> {
    /// Function `c` of the plan: its instructions, each value stored for the readers that
    /// find it in memory and as the outputs it is; the last function also stores the
    /// outputs that are inputs or constants.
    fn chunk(&mut self, tape: &Tape, c: usize) {
        let plan = self.plan;
        let range = plan.chunks[c].clone();
        let made = &plan.made_outputs;
        let mut next_output = made.partition_point(|&(i, _)| i < range.start);
        let mut at = range.start;
        while at < range.end {
            let made_here: SmallVec<[Option<Value>; 2]> =
                match self.sigmoid_pair(tape, at, range.end) {
                    Some([x0, x1]) => {
                        let [s0, s1] = self.sigmoid_lanes(x0, x1);
                        SmallVec::from_slice(&[Some(s0), Some(s1)])
                    }
                    None => SmallVec::from_slice(&[self.made(tape, at)]),
                };
            for v in made_here {
                let d = tape.instrs[at].dst() as usize;
                // `None`: the value is in the register file already, stored by a call.
                self.values[d] = v.map_or(Held::none(), |v| Held::new(v, at));
                if let (Some(v), true) = (v, plan.stored[at]) {
                    self.store(self.pointers[2], v, d);
                }
                while let Some(&(_, k)) = made.get(next_output).filter(|&&(i, _)| i == at) {
                    let v = match v {
                        Some(v) => v,
                        None => self.load_place(d),
                    };
                    self.store(self.pointers[1], v, k);
                    next_output += 1;
                }
                at += 1;
            }
        }
        if c + 1 == plan.chunks.len() {
            for &(k, o) in &plan.given_outputs {
                let v = self.get(o, tape.instrs.len());
                self.store(self.pointers[1], v, k);
            }
        }
    }

    /// The value of instruction `at` (`None` where it is in its register's place in the
    /// file, stored by a call): computed, made with its partner, or made by its partner.
    fn made(&mut self, tape: &Tape, at: usize) -> Option<Value> {
        if self.plan.made_with(at).is_some() {
            let place = self.plan.early[at] as usize;
            return match self.partners.remove(&at) {
                Some(v) => Some(v),
                None if place == tape.instrs[at].dst() as usize => None,
                None => Some(self.load_place(place)),
            };
        }
        if let Some(j) = self.plan.makes_too(at) {
            return self.sin_cos(tape, at, j);
        }
        Some(self.instruction(&tape.instrs[at], &tape.pool, at))
    }

    /// The `sin` or `cos` at `i` and the other at `j` of the same value, by one call: the
    /// other's value kept for `j`; or both stored in the register file by the call, `i`'s
    /// in its register's place (`None`), where `j`'s is stored early.
    fn sin_cos(&mut self, tape: &Tape, i: usize, j: usize) -> Option<Value> {
        let Instr::Func1 { f, a, d } = tape.instrs[i] else { unreachable!("a sin or cos") };
        let x = self.get(a, i);
        let early = self.plan.early[j];
        if early != NONE {
            let (sin, cos) = if f == Func::Sin { (d, early) } else { (early, d) };
            let places =
                self.b.ins().iconst(types::I64, (u64::from(cos) << 32 | u64::from(sin)) as i64);
            self.call_results::<0>(self.imports.sin_cos_into, &[x, self.pointers[2], places]);
            return None;
        }
        let [sin, cos] = self.call_results(self.imports.sin_cos, &[x]);
        let (mine, other) = if f == Func::Sin { (sin, cos) } else { (cos, sin) };
        self.partners.insert(j, other);
        Some(mine)
    }

    /// Place `r` of the register file loaded.
    fn load_place(&mut self, r: usize) -> Value {
        self.b.ins().load(types::F64, MemFlags::trusted(), self.pointers[2], (8 * r) as i32)
    }

    fn store(&mut self, base: Value, v: Value, index: usize) {
        self.b.ins().store(MemFlags::trusted(), v, base, (8 * index) as i32);
    }

    /// The value of register `r` for a reader at position `at`: still in a register, or
    /// made again from its source (the register file once an instruction has written it,
    /// else an input or a constant).
    fn get(&mut self, r: u32, at: usize) -> Value {
        let plan = self.plan;
        let file = || plan.written_before(r, at);
        if let Some((v, born)) = self.values[r as usize].get() {
            // Found where it was, unless it is an input last loaded long before.
            let input = || matches!(plan.initial[r as usize], Source::Input(_)) && !file();
            if plan.at_hand(born, at) && (at - born <= INPUT_REUSE || !input()) {
                return v;
            }
        }
        let file = file();
        let flags = MemFlags::trusted();
        let v = match self.plan.initial[r as usize] {
            Source::Input(k) if !file => {
                self.b.ins().load(types::F64, flags, self.pointers[0], (8 * k) as i32)
            }
            Source::Constant(c) if !file => self.b.ins().f64const(c),
            _ => self.b.ins().load(types::F64, flags, self.pointers[2], (8 * r) as i32),
        };
        self.values[r as usize] = Held::new(v, at);
        v
    }

    fn call(&mut self, id: FuncId, args: &[Value]) -> Value {
        let [v] = self.call_results(id, args);
        v
    }

    /// The `N` results of a call of `id`.
    fn call_results<const N: usize>(&mut self, id: FuncId, args: &[Value]) -> [Value; N] {
        let slot = id.as_u32() as usize;
        let callee = match self.callees[slot] {
            Some(callee) => callee,
            None => *self.callees[slot].insert(self.imports.import_into(id, self.b.func)),
        };
        let call = self.b.ins().call(callee, args);
        std::array::from_fn(|k| self.b.inst_results(call)[k])
    }

    fn instruction(&mut self, ins: &Instr, pool: &[u32], at: usize) -> Value {
        if let Instr::LogSumExp { start, len, .. } = *ins {
            return self.logsumexp(&pool[start as usize..(start + len) as usize], at);
        }
        let ops: SmallVec<[Value; 3]> =
            ins.operands(pool).iter().map(|&r| self.get(r, at)).collect();
        match *ins {
            Instr::Add { .. } => {
                let (a, b) = self.constant_last(ops[0], ops[1]);
                self.b.ins().fadd(a, b)
            }
            Instr::Sub { .. } => self.b.ins().fsub(ops[0], ops[1]),
            Instr::Mul { .. } => {
                let (a, b) = self.constant_last(ops[0], ops[1]);
                self.b.ins().fmul(a, b)
            }
            Instr::Div { .. } => self.b.ins().fdiv(ops[0], ops[1]),
            Instr::MulAdd { .. } => {
                let (a, b) = self.constant_last(ops[0], ops[1]);
                let p = self.b.ins().fmul(a, b);
                self.b.ins().fadd(p, ops[2])
            }
            Instr::Neg { .. } => {
                let v = self.b.ins().fneg(ops[0]);
                let unsigned = self.unsigned(ops[0]);
                self.negated.insert(v, unsigned);
                v
            }
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
            Instr::Func1 { f: Func::Sigmoid, .. } if self.plan.config.write_out => {
                self.sigmoid(ops[0], at)
            }
            Instr::Func1 { f: Func::Softplus, .. } => self.softplus(ops[0], at),
            Instr::Func1 { f, .. } | Instr::Func2 { f, .. } | Instr::Func3 { f, .. } => {
                self.call(self.func_id(f), &ops)
            }
            Instr::LogSumExp { .. } => unreachable!("handled first"),
        }
    }

    /// `logsumexp` of registers `args`: each copied to the end of the register file (not
    /// the stack, which a long list would overflow) as soon as it is read.
    /// Arguments that are consecutive inputs are read in place instead, where the plan
    /// allows it.
    fn logsumexp(&mut self, args: &[u32], at: usize) -> Value {
        let (base, first) = if self.plan.inputs_in_place(args, at) {
            (self.pointers[0], args[0] as usize)
        } else {
            let first = self.plan.registers;
            for (i, &r) in args.iter().enumerate() {
                let v = self.get(r, at);
                self.store(self.pointers[2], v, first + i);
            }
            (self.pointers[2], first)
        };
        let address = self.b.ins().iadd_imm(base, (8 * first) as i64);
        let count = self.b.ins().iconst(types::I64, args.len() as i64);
        self.call(self.imports.logsumexp, &[address, count])
    }

    /// The operands of a sum or product with a constant (not NaN) second, where an x86
    /// instruction reads it from memory (first, it is made in a register by two): the
    /// same bits, sums and products being commutative to the bit but for NaN's payload.
    fn constant_last(&self, a: Value, b: Value) -> (Value, Value) {
        let constant = |v: Value| {
            let dfg = &self.b.func.dfg;
            let inst = dfg.value_def(v).inst()?;
            match dfg.insts[inst] {
                InstructionData::UnaryIeee64 { imm, .. } => Some(f64::from_bits(imm.bits())),
                _ => None,
            }
        };
        match (constant(a), constant(b)) {
            (Some(c), None) if !c.is_nan() => (b, a),
            _ => (a, b),
        }
    }

    /// `x`, or what it negates: `f(x)` and `f(-x)` share work through it.
    fn unsigned(&self, x: Value) -> Value {
        self.negated.get(&x).copied().unwrap_or(x)
    }

    /// The part of `f(x)` that `f(-x)` shares, made by `make` unless one of them was
    /// made at hand.
    fn shared(
        &mut self,
        f: Func,
        x: Value,
        at: usize,
        make: impl FnOnce(&mut Self) -> [Value; 2],
    ) -> [Value; 2] {
        let key = (f, self.unsigned(x));
        match self.shared.get(&key) {
            Some(&(values, born)) if self.plan.at_hand(born, at) => values,
            _ => {
                let values = make(self);
                self.shared.insert(key, (values, at));
                values
            }
        }
    }

    /// The operands of the sigmoids at `at` and `at + 1` (before `end`), where neither
    /// reads the other: [`sigmoids_paired`] put them side by side.
    fn sigmoid_pair(&mut self, tape: &Tape, at: usize, end: usize) -> Option<[Value; 2]> {
        let [first, second] = tape.instrs.get(at..(at + 2).min(end))? else { return None };
        match (*first, *second) {
            (
                Instr::Func1 { f: Func::Sigmoid, d, a: a0 },
                Instr::Func1 { f: Func::Sigmoid, a: a1, .. },
            ) if a1 != d && self.plan.config.write_out && self.plan.config.reorder => {
                Some([self.get(a0, at), self.get(a1, at + 1)])
            }
            _ => None,
        }
    }

    /// [`fastmath::sigmoid`], operation for operation: with `e = e^-|x|` (shared with
    /// `sigmoid(-x)`), `1/(1 + e)` for x >= 0 and `e/(1 + e)` below.
    fn sigmoid(&mut self, x: Value, at: usize) -> Value {
        let [e, sum] = self.shared(Func::Sigmoid, x, at, |s| s.sigmoid_shared(x));
        self.sigmoid_quotient(x, e, sum)
    }

    /// `e^-|x|` and `1 + e^-|x|`, for `x` of type f64 or f64x2.
    fn sigmoid_shared(&mut self, x: Value) -> [Value; 2] {
        // -|x|: the sign bit set.
        let sign = self.constant(x, -0.0);
        let minus = self.b.ins().bor(x, sign);
        let e = self.exp(minus);
        [e, self.with_constant(e, 1.0, Op::Add)]
    }

    /// `1/sum` for x >= 0, `e/sum` below.
    fn sigmoid_quotient(&mut self, x: Value, e: Value, sum: Value) -> Value {
        let zero = self.constant(x, 0.0);
        let one = self.constant(x, 1.0);
        let numerator = self.choose(FloatCC::GreaterThanOrEqual, x, zero, one, e);
        self.b.ins().fdiv(numerator, sum)
    }

    /// [`Emitter::sigmoid`] of `x0` and `x1` in the two lanes of a vector: the same
    /// operations on each, so the same bits.
    fn sigmoid_lanes(&mut self, x0: Value, x1: Value) -> [Value; 2] {
        let x = self.b.ins().scalar_to_vector(types::F64X2, x0);
        let x = self.b.ins().insertlane(x, x1, 1);
        let [e, sum] = self.sigmoid_shared(x);
        let s = self.sigmoid_quotient(x, e, sum);
        [self.b.ins().extractlane(s, 0), self.b.ins().extractlane(s, 1)]
    }

    /// `f64const c`, or `c` in every lane, of the type of `like`.
    fn constant(&mut self, like: Value, c: f64) -> Value {
        match self.b.func.dfg.value_type(like) {
            types::F64 => self.b.ins().f64const(c),
            ty => self.vector_constant(ty, c.to_bits()),
        }
    }

    /// A whole number `c` of the integer type of the same shape as `like` (i64, i64x2).
    fn integer(&mut self, like: Value, c: i64) -> Value {
        match self.b.func.dfg.value_type(like) {
            types::F64 | types::I64 => self.b.ins().iconst(types::I64, c),
            _ => self.vector_constant(types::I64X2, c as u64),
        }
    }

    /// A vector of type `ty` with `bits` in both lanes.
    fn vector_constant(&mut self, ty: types::Type, bits: u64) -> Value {
        let data: Vec<u8> = [bits, bits].iter().flat_map(|b| b.to_le_bytes()).collect();
        let handle = self.b.func.dfg.constants.insert(data.into());
        self.b.ins().vconst(ty, handle)
    }

    /// `a` where `x cc y`, else `b` (lane by lane for vectors).
    fn choose(&mut self, cc: FloatCC, x: Value, y: Value, a: Value, b: Value) -> Value {
        let test = self.b.ins().fcmp(cc, x, y);
        match self.b.func.dfg.value_type(x) {
            types::F64 => self.b.ins().select(test, a, b),
            ty => {
                let mask = self.b.ins().bitcast(ty, MemFlags::new(), test);
                self.b.ins().bitselect(mask, a, b)
            }
        }
    }

    /// The integer of the same bits as `x` (i64 for f64, i64x2 for f64x2), or back.
    fn reinterpret(&mut self, x: Value, to_integer: bool) -> Value {
        let ty = match (self.b.func.dfg.value_type(x), to_integer) {
            (types::F64, true) => types::I64,
            (types::I64, false) => types::F64,
            (_, true) => types::I64X2,
            (_, false) => types::F64X2,
        };
        self.b.ins().bitcast(ty, MemFlags::new(), x)
    }

    /// [`crate::operators::kernels::softplus`]: `max(x, 0) + softplus_tail(x)`, the tail
    /// (a call) shared with `softplus(-x)`; NaN stays the NaN it is.
    fn softplus(&mut self, x: Value, at: usize) -> Value {
        let [tail, _] = self.shared(Func::Softplus, x, at, |s| {
            let tail = s.call(s.imports.softplus_tail, &[x]);
            [tail, tail]
        });
        let zero = self.b.ins().f64const(0.0);
        let positive = self.b.ins().fcmp(FloatCC::GreaterThan, x, zero);
        let max = self.b.ins().select(positive, x, zero);
        let sum = self.b.ins().fadd(max, tail);
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.b.ins().select(nan, x, sum)
    }

    /// `x op c`, the constant second (where a scalar one is read from memory), which gives
    /// the bits of `c op x` too: sums and products are commutative to the bit.
    fn with_constant(&mut self, x: Value, c: f64, op: Op) -> Value {
        let c = self.constant(x, c);
        match op {
            Op::Add => self.b.ins().fadd(x, c),
            Op::Sub => self.b.ins().fsub(x, c),
            Op::Mul => self.b.ins().fmul(x, c),
        }
    }

    /// `fastmath::exp_nonpositive`, operation for operation: `x` clamped below at -746,
    /// `x = k ln2 + r`, e^r by its polynomial, times the normal 2^(k + 512), times 2^-512.
    fn exp(&mut self, x: Value) -> Value {
        let floor = self.constant(x, fastmath::EXP_FLOOR);
        let x = self.choose(FloatCC::LessThan, x, floor, floor, x);
        let scaled = self.with_constant(x, LOG2_E, Op::Mul);
        let (kf, k) = self.round_split(scaled);
        let high = self.with_constant(kf, LN2_HI, Op::Mul);
        let low = self.with_constant(kf, LN2_LO, Op::Mul);
        let r = self.b.ins().fsub(x, high);
        let r = self.b.ins().fsub(r, low);
        let y = self.exp_polynomial(r);
        let scale = self.pow2(k, fastmath::DOWNSCALE);
        let y = self.b.ins().fmul(y, scale);
        self.with_constant(y, fastmath::DOWNSCALED_ONE, Op::Mul)
    }

    /// `e^r` for |r| <= ln2/2 as [`fastmath::exp`] sums its Taylor series (Estrin's scheme).
    fn exp_polynomial(&mut self, r: Value) -> Value {
        let e = fastmath::E;
        let r2 = self.b.ins().fmul(r, r);
        let r4 = self.b.ins().fmul(r2, r2);
        let r8 = self.b.ins().fmul(r4, r4);
        let mut pair = |i: usize| {
            let t = self.with_constant(r, e[i + 1], Op::Mul);
            self.with_constant(t, e[i], Op::Add)
        };
        let p = [0, 2, 4, 6, 8, 10].map(&mut pair);
        let fma = |s: &mut Self, a: Value, b: Value, c: Value| {
            let t = s.b.ins().fmul(b, c);
            s.b.ins().fadd(a, t)
        };
        let low_a = fma(self, p[0], r2, p[1]);
        let low_b = fma(self, p[2], r2, p[3]);
        let low = fma(self, low_a, r4, low_b);
        let high = fma(self, p[4], r2, p[5]);
        let sum = fma(self, low, r8, high);
        let sum = fma(self, r, r2, sum);
        self.with_constant(sum, 1.0, Op::Add)
    }

    /// [`fastmath`]'s `round_split`: `v` rounded to a whole number, as a double and as
    /// the low bits of a word, by adding and subtracting `1.5 * 2^52`.
    fn round_split(&mut self, v: Value) -> (Value, Value) {
        let t = self.with_constant(v, SHIFT, Op::Add);
        let rounded = self.with_constant(t, SHIFT, Op::Sub);
        let bits = self.reinterpret(t, true);
        let shift = self.integer(v, (SHIFT_BITS as i64).wrapping_neg());
        (rounded, self.b.ins().iadd(bits, shift))
    }

    /// 2^(k + offset) for a whole `k` (the low bits of a word), `k + offset` in the normal
    /// range: one integer addition (bias and offset together) and a shift.
    fn pow2(&mut self, k: Value, offset: u64) -> Value {
        let bias = self.integer(k, (fastmath::EXPONENT_BIAS + offset) as i64);
        let biased = self.b.ins().iadd(k, bias);
        let bits = self.b.ins().ishl_imm(biased, 52);
        self.reinterpret(bits, false)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A long sum of waves: each `sin` of the forward pass makes the `cos` of the backward
    /// pass, one call for both; the `cos` is stored in its register's place, or where
    /// another value is kept there until after the `sin`, in a place of its own.
    #[test]
    #[cfg_attr(
        not(any(all(target_arch = "x86_64", not(windows)), target_arch = "aarch64")),
        ignore
    )]
    fn far_pairs_are_one_call_and_stored_in_place_or_apart() {
        let terms: Vec<String> = (1..=3_000)
            .map(|k| format!("sin({}*x + {}/{k})", (k % 37) as f64 / 8.0, k % 11))
            .collect();
        let mut f = crate::Formula::parse(&terms.join(" + ")).unwrap();
        let tape = f.gradient_tape(&["x"]).unwrap();
        let plan = Plan::new(&tape, Config::for_tape(&tape));
        let count = |g| {
            let same = |i: &&Instr| matches!(i, Instr::Func1 { f, .. } if *f == g);
            tape.instrs.iter().filter(same).count()
        };
        let (sines, cosines) = (count(Func::Sin), count(Func::Cos));
        let pairs = plan.partner.iter().filter(|&&p| p != NONE).count() / 2;
        assert_eq!(pairs, cosines, "every cos paired with its sin ({sines} sines)");
        assert_eq!(*plan.calls_before.last().unwrap() as usize, sines, "one call a pair");
        let seconds = (0..tape.len()).filter(|&j| plan.made_with(j).is_some());
        let (mut in_hand, mut in_place, mut apart) = (0, 0, 0);
        for j in seconds {
            match plan.early[j] as usize {
                e if e == NONE as usize => in_hand += 1,
                e if e == tape.instrs[j].dst() as usize => in_place += 1,
                e if e >= plan.registers && e < plan.file_len => apart += 1,
                e => panic!("instruction {j} stored early at {e}"),
            }
        }
        let counts = format!("{in_hand} at hand, {in_place} in place, {apart} apart");
        assert!(in_place > sines / 2 && apart > 0, "{counts}");
        println!("{counts}");
    }

    /// A network's loss: the output sigmoid and its pair `sigmoid(-s)` come before the
    /// softplus call, which reads the same sum.
    #[test]
    fn sigmoids_that_need_no_call_come_before_it() {
        let source = "h = sigmoid(w*x + b)\nout = sigmoid(v*h + c)\nbce(out, y)";
        let mut f = crate::Formula::parse(source).unwrap();
        let tape = f.gradient_tape(&["w", "b", "v", "c"]).unwrap();
        let config = Config::for_tape(&tape);
        let mut checked = false;
        scheduled(&tape, |order, producers| {
            let order = sigmoids_before_calls(&tape.instrs, order, producers, &config);
            let at = |want: fn(&Instr) -> bool| order.iter().position(|&i| want(&tape.instrs[i]));
            let last_sigmoid = order
                .iter()
                .rposition(|&i| matches!(tape.instrs[i], Instr::Func1 { f: Func::Sigmoid, .. }));
            let first_call = at(|ins| matches!(ins, Instr::Func1 { f: Func::Softplus, .. }));
            assert!(last_sigmoid.unwrap() < first_call.unwrap(), "{order:?}");
            checked = true;
            order
        });
        assert!(checked);
    }

    /// A hidden layer of six: each pair of sigmoids stays side by side, with the sums
    /// of the next two sigmoids computed before it.
    #[test]
    fn each_sigmoid_pair_follows_the_sums_of_the_next_two() {
        let hidden: Vec<String> =
            (1..=6).map(|j| format!("h_{j} = sigmoid(w_{j}*x + u_{j}*z + b_{j})")).collect();
        let out: Vec<String> = (1..=6).map(|j| format!("v_{j}*h_{j}")).collect();
        let source = format!("{}\nbce(sigmoid({} + c), y)", hidden.join("\n"), out.join(" + "));
        let mut f = crate::Formula::parse(&source).unwrap();
        let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
        let tape = f.gradient_tape(&names).unwrap();
        let config = Config::for_tape(&tape);
        let sigmoid = |i: usize| matches!(tape.instrs[i], Instr::Func1 { f: Func::Sigmoid, .. });
        let adjacent =
            |order: &[usize]| order.windows(2).filter(|w| sigmoid(w[0]) && sigmoid(w[1])).count();
        scheduled(&tape, |order, producers| {
            let paired = sigmoids_paired(&tape.instrs, order.clone(), producers, &config, 0);
            let led = sigmoids_paired(&tape.instrs, order, producers, &config, LEAD);
            assert_eq!(adjacent(&led), adjacent(&paired), "pairs kept: {led:?}");
            let at = |i: usize| led.iter().position(|&k| k == i).unwrap();
            let sigmoids: Vec<usize> = led.iter().copied().filter(|&i| sigmoid(i)).collect();
            // The hidden layer's first two pairs: the sums of the two sigmoids after each.
            for pair in [0, 2] {
                for next in &sigmoids[pair + 2..pair + 4] {
                    let sum = producers[*next][0] as usize;
                    assert!(at(sum) < at(sigmoids[pair]), "{led:?}");
                }
            }
            led
        });
    }
}
