//! The syntax tree: what the user wrote, with spans, names not yet resolved.
//!
//! Left-associative runs (`a + b - c`, `a * b / c`) are kept as one flat [`ExprKind::Chain`]
//! rather than a left-leaning tree, so that a formula with a million terms is a wide node,
//! not a deep one: nothing that walks this tree recurses deeper than the text nests.

use crate::error::Span;

/// A whole program: statements in order; the last one is the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// Statements in source order.
    pub statements: Vec<Statement>,
}

/// `name = expr` or a bare `expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The assigned name and its span, for an assignment.
    pub target: Option<(String, Span)>,
    /// The right-hand side (or the whole statement).
    pub expr: Expr,
}

/// An expression with the span of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Binary operators that chain left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// The shapes of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Number(f64),
    /// A variable, a constant (`pi`, `e`) or an assigned name.
    Name(String),
    /// `name(args)`; `name_span` covers the function name.
    Call {
        /// The function name.
        name: String,
        /// Its span.
        name_span: Span,
        /// Arguments in order.
        args: Vec<Expr>,
    },
    /// `[a, b, c]`: only valid as an argument of a reducer or loss.
    List(Vec<Expr>),
    /// `-a` (or `+a`, which is `a`).
    Neg(Box<Expr>),
    /// `first op1 e1 op2 e2 ...` folded left to right; all ops of one precedence level.
    Chain(Box<Expr>, Vec<(ChainOp, Expr)>),
    /// `base ^ exponent` (right-associative).
    Pow(Box<Expr>, Box<Expr>),
}
