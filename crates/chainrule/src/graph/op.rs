//! A node's operation. The functions themselves are rows of the operator table
//! ([`crate::operators`]); their numeric kernels live there too.

pub use super::number::Number;
pub use crate::operators::kernels::{logsumexp, sigmoid, softplus};
pub use crate::operators::{Constant, Func};

/// A node's operation. Operands live in the node, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A number: exact, or a float the user wrote.
    Const(Number),
    /// A named constant (`pi`, `e`), kept symbolic in printed output.
    Named(Constant),
    /// A free variable, by its index in the graph's variable table.
    Var(u32),
    /// `a + b`
    Add,
    /// `a * b`
    Mul,
    /// `a ^ b`
    Pow,
    /// A function of one to three operands.
    Func(Func),
    /// `logsumexp([a, b, ...])` of any number of operands.
    LogSumExp,
}

impl Op {
    /// The constant with value `v` (exact when `v` is whole).
    pub fn constant(v: f64) -> Op {
        Op::Const(Number::float(v))
    }

    /// The value of a number (not of a named constant), as the nearest f64.
    pub fn value(self) -> Option<f64> {
        self.number().map(Number::to_f64)
    }

    /// The number of a constant.
    pub fn number(self) -> Option<Number> {
        match self {
            Op::Const(n) => Some(n),
            _ => None,
        }
    }

    /// A short lower-case name for exports (`add`, `mul`, `sin`, ...).
    pub fn kind_name(self) -> &'static str {
        match self {
            Op::Const(_) | Op::Named(_) => "const",
            Op::Var(_) => "var",
            Op::Add => "add",
            Op::Mul => "mul",
            Op::Pow => "pow",
            Op::Func(f) => f.name(),
            Op::LogSumExp => "logsumexp",
        }
    }
}
