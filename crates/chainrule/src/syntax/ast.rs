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

impl Drop for Program {
    /// Takes the trees apart one node at a time: a tree nested as deep as the parser allows
    /// (`x[1][1]...`, `-(-(...))`) would otherwise be dropped by a recursion as deep, which
    /// can overflow a small stack after parsing on a grown one.
    fn drop(&mut self) {
        let mut stack: Vec<Expr> = Vec::new();
        for statement in &mut self.statements {
            stack.push(std::mem::replace(&mut statement.expr, Expr::leaf()));
        }
        while let Some(mut e) = stack.pop() {
            e.take_children(&mut stack);
        }
    }
}

impl Expr {
    /// A placeholder without children.
    fn leaf() -> Expr {
        Expr { kind: ExprKind::Number(0.0), span: Span::new(0, 0) }
    }

    /// Moves this expression's children onto `out`, leaving it childless.
    fn take_children(&mut self, out: &mut Vec<Expr>) {
        let mut take = |e: &mut Expr| out.push(std::mem::replace(e, Expr::leaf()));
        match &mut self.kind {
            ExprKind::Number(_) | ExprKind::Name(_) => {}
            ExprKind::Call { args, .. } | ExprKind::List(args) => args.iter_mut().for_each(take),
            ExprKind::Indexed { ranges, body, .. } | ExprKind::Builder { body, ranges } => {
                take(body);
                for range in ranges {
                    take(&mut range.lo);
                    take(&mut range.hi);
                }
            }
            ExprKind::Index(base, subscripts) => {
                take(base);
                for subscript in subscripts {
                    if let Subscript::At(e) = subscript {
                        take(e);
                    }
                }
            }
            ExprKind::Neg(a) => take(a),
            ExprKind::Chain(first, rest) => {
                take(first);
                rest.iter_mut().for_each(|(_, e)| take(e));
            }
            ExprKind::Pow(a, b) => {
                take(a);
                take(b);
            }
        }
    }
}

/// `name = expr`, a bare `expr`, a declaration `name: [dims]` or a function definition
/// `name(params) = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The assigned, declared or defined name and its span (none for a bare expression).
    pub target: Option<(String, Span)>,
    /// The right-hand side, the whole statement, a declaration's `[dims]` list or a
    /// function's body.
    pub expr: Expr,
    /// Which of the four it is.
    pub form: Form,
}

/// What a statement does with its name.
#[derive(Debug, Clone, PartialEq)]
pub enum Form {
    /// A bare expression, or `name = expr`.
    Value,
    /// `name: [dims]`: `expr` is the list of dimensions.
    Declaration,
    /// `name(params) = body`: `expr` is the body.
    Function(Vec<(String, Span)>),
}

/// `i = lo..hi` in an indexed form or an array builder.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// The index name.
    pub name: String,
    /// Its span.
    pub name_span: Span,
    /// The first value.
    pub lo: Expr,
    /// The last value (inclusive).
    pub hi: Expr,
}

/// One subscript of `a[...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Subscript {
    /// `:`, a whole row or column.
    All(Span),
    /// A whole-number constant expression.
    At(Expr),
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
    /// `@`, the matrix product
    MatMul,
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
    /// `[a, b, c]`: a vector, or a matrix when the items are vectors.
    List(Vec<Expr>),
    /// `name(i = 1..n, body)`: an indexed `sum`, `prod`, `max` or `min`.
    Indexed {
        /// The reducer's name.
        name: String,
        /// Its span.
        name_span: Span,
        /// The index ranges, outermost first.
        ranges: Vec<Range>,
        /// The expression reduced.
        body: Box<Expr>,
    },
    /// `[body for i = 1..m, j = 1..n]`.
    Builder {
        /// One element (or one row, when it is a vector).
        body: Box<Expr>,
        /// The index ranges, one per dimension.
        ranges: Vec<Range>,
    },
    /// `base[subscripts]`.
    Index(Box<Expr>, Vec<Subscript>),
    /// `-a` (or `+a`, which is `a`).
    Neg(Box<Expr>),
    /// `first op1 e1 op2 e2 ...` folded left to right; all ops of one precedence level.
    Chain(Box<Expr>, Vec<(ChainOp, Expr)>),
    /// `base ^ exponent` (right-associative).
    Pow(Box<Expr>, Box<Expr>),
}
