//! Numeric evaluation: a DAG compiled into a flat tape of instructions over registers.
//!
//! The tape lists the needed nodes in topological order; each instruction reads registers
//! written earlier. Running it is one loop with no recursion, no hashing and no allocation
//! beyond the caller's work buffer. It is generic over `num_traits::Float` (f64 and f32),
//! and runs one point at a time or a block of rows at a time (see `run.rs`).

mod batch;
mod compile;
pub mod data;
#[cfg(feature = "native")]
mod native;
mod program;
mod run;
#[cfg(feature = "native")]
mod schedule;
mod steps;
mod tape;

pub use compile::{compile, compile_with, CompileOptions};
#[cfg(feature = "native")]
pub use native::{compile_native, NativeTape, NATIVE_MAX_INSTRUCTIONS};
pub use run::{Column, Reduce, BLOCK};
pub use tape::{Instr, Reg, Tape};

use crate::error::Result;
use crate::graph::{Graph, NodeId, VarId};

/// Compiles and runs `roots` once at `values` (one per variable of `inputs`).
pub fn evaluate(g: &Graph, roots: &[NodeId], inputs: &[VarId], values: &[f64]) -> Result<Vec<f64>> {
    let tape = compile(g, roots, inputs)?;
    Ok(tape.run(values, &mut Vec::new()))
}

/// The gradient tape of Rosenbrock's function of `n` variables `x1..xn`, for unit tests
/// of the runners' programs.
#[cfg(test)]
fn rosenbrock_gradient_tape(n: usize) -> Tape {
    let terms: Vec<String> =
        (1..n).map(|i| format!("100*(x{} - x{i}^2)^2 + (1 - x{i})^2", i + 1)).collect();
    let mut f = crate::Formula::parse(&terms.join(" + ")).unwrap();
    let names: Vec<String> = (1..=n).map(|i| format!("x{i}")).collect();
    f.gradient_tape(&names).unwrap()
}
