//! The operator table: the one place where an operator of the formula language is declared.
//!
//! - [`OPERATORS`]: the arithmetic operators with their precedence, which the parser's Pratt
//!   table and every printer read.
//! - [`Func`] and its rows (`functions.rs`): every function node: name, arity, how it
//!   evaluates (one kernel for the interpreter and native code), LaTeX, and its spelling in
//!   each code-generation target.
//! - [`callables`]: every name that may be called, functions, aliases, `log`, `pow`, and the
//!   reducers and losses that take lists, with the constants `pi` and `e`.
//!
//! Derivative rules (`diff/rules.rs`) and the evaluator (`eval/run.rs`) are exhaustive
//! `match`es over these enums, so the compiler points at every place a new operator needs.

pub mod callables;
pub mod fastmath;
mod functions;
pub mod kernels;

pub use callables::{Callable, Constant, Reducer};
pub use functions::{Code, Func, FuncRow, Kernel};

/// How tightly an operator binds, loosest first. An operand is parenthesised when its own
/// level is below what its position needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precedence {
    /// `a + b`, `a - b`
    Sum = 1,
    /// `a * b`, `a / b`
    Product = 2,
    /// `-a`, `+a`
    Prefix = 3,
    /// `a ^ b`
    Power = 4,
    /// numbers, names, calls, parenthesised expressions
    Atom = 5,
}

/// Whether an operator is written between or before its operands, and how a chain of equal
/// operators groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fixity {
    /// `a op b op c` is `(a op b) op c`.
    InfixLeft,
    /// `a op b op c` is `a op (b op c)`.
    InfixRight,
    /// `op a`.
    Prefix,
}

/// The arithmetic operators of the syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `-a`
    Neg,
    /// `+a`
    Pos,
    /// `a ^ b` (also written `**`)
    Pow,
    /// `A @ B`, the matrix product (of arrays; it never reaches the scalar graph)
    MatMul,
}

/// One row of the operator table.
#[derive(Clone, Copy, Debug)]
pub struct OperatorRow {
    /// The operator.
    pub op: Operator,
    /// How the text form writes it (with its spaces).
    pub text: &'static str,
    /// How LaTeX writes it.
    pub latex: &'static str,
    /// How tightly it binds.
    pub precedence: Precedence,
    /// Infix (and its grouping) or prefix.
    pub fixity: Fixity,
}

/// Every arithmetic operator, loosest first.
pub const OPERATORS: [OperatorRow; 8] = [
    row(Operator::Add, " + ", " + ", Precedence::Sum, Fixity::InfixLeft),
    row(Operator::Sub, " - ", " - ", Precedence::Sum, Fixity::InfixLeft),
    // LaTeX: a space between factors; the printer writes `\\cdot` before a number.
    row(Operator::Mul, "*", " ", Precedence::Product, Fixity::InfixLeft),
    row(Operator::Div, "/", "/", Precedence::Product, Fixity::InfixLeft),
    row(Operator::MatMul, " @ ", " ", Precedence::Product, Fixity::InfixLeft),
    row(Operator::Neg, "-", "-", Precedence::Prefix, Fixity::Prefix),
    row(Operator::Pos, "+", "+", Precedence::Prefix, Fixity::Prefix),
    row(Operator::Pow, "^", "^", Precedence::Power, Fixity::InfixRight),
];

const fn row(
    op: Operator,
    text: &'static str,
    latex: &'static str,
    precedence: Precedence,
    fixity: Fixity,
) -> OperatorRow {
    OperatorRow { op, text, latex, precedence, fixity }
}

impl Operator {
    /// The operator's row.
    pub fn row(self) -> &'static OperatorRow {
        OPERATORS.iter().find(|r| r.op == self).expect("every operator has a row")
    }

    /// How tightly it binds.
    pub fn precedence(self) -> Precedence {
        self.row().precedence
    }
}

/// The precedence levels that operators have, loosest first (for building a parser).
pub fn operator_levels() -> Vec<(Precedence, Vec<&'static OperatorRow>)> {
    let mut levels: Vec<(Precedence, Vec<&'static OperatorRow>)> = Vec::new();
    for r in &OPERATORS {
        match levels.last_mut() {
            Some((p, rows)) if *p == r.precedence => rows.push(r),
            _ => levels.push((r.precedence, vec![r])),
        }
    }
    levels
}
