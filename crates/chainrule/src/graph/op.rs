//! A node's operation. The functions themselves are rows of the operator table
//! ([`crate::operators`]); their numeric kernels live there too.

pub use crate::operators::kernels::{logsumexp, sigmoid, softplus};
pub use crate::operators::Func;

/// A node's operation. Operands live in the node, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A number, stored as its bits so that nodes can be hashed (`-0.0` is stored as `0.0`).
    Const(u64),
    /// A free variable, by its index in the graph's variable table.
    Var(u32),
    /// `a + b`
    Add,
    /// `a * b`
    Mul,
    /// `a ^ b`
    Pow,
    /// A function of one or two operands.
    Func(Func),
    /// `logsumexp([a, b, ...])` of any number of operands.
    LogSumExp,
}

impl Op {
    /// The constant with value `v`.
    pub fn constant(v: f64) -> Op {
        let v = if v == 0.0 { 0.0 } else { v };
        Op::Const(v.to_bits())
    }

    /// The value of a constant.
    pub fn value(self) -> Option<f64> {
        match self {
            Op::Const(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    /// A short lower-case name for exports (`add`, `mul`, `sin`, ...).
    pub fn kind_name(self) -> &'static str {
        match self {
            Op::Const(_) => "const",
            Op::Var(_) => "var",
            Op::Add => "add",
            Op::Mul => "mul",
            Op::Pow => "pow",
            Op::Func(f) => f.name(),
            Op::LogSumExp => "logsumexp",
        }
    }
}
