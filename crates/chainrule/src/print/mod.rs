//! Printing nodes as text (the formula syntax, canonical and re-parseable), LaTeX, and
//! programs with shared subexpressions named once (`--cse`).
//!
//! Both notations share one iterative driver: a node expands into a list of pieces (text,
//! or an operand with the precedence level its position needs), and the driver works
//! through a stack of pieces. No recursion, so a sum of a million terms or a chain of a
//! thousand nested functions prints without touching the stack's limits.
//!
//! Parentheses follow precedence levels: an operand is wrapped when its own level is
//! below what its position needs. The printed structure is exactly the graph's, so the
//! text parses back to the same node.

mod cse;
pub mod graph;
mod number;

pub use cse::cse_program;
pub use number::{format_float, format_number, latex_name};

use crate::graph::{Func, Graph, NodeId, Op};
use crate::operators::{Operator, Precedence};
use rustc_hash::FxHashMap as HashMap;

/// Output notations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notation {
    /// The formula syntax of SPEC.md.
    Text,
    /// LaTeX math.
    Latex,
}

// The precedence levels of the operator table, as numbers the printer compares.
const SUM: u8 = Precedence::Sum as u8;
const PRODUCT: u8 = Precedence::Product as u8;
const UNARY: u8 = Precedence::Prefix as u8;
const POWER: u8 = Precedence::Power as u8;
const ATOM: u8 = Precedence::Atom as u8;

enum Piece {
    Text(String),
    Static(&'static str),
    Node { id: NodeId, level: u8, negate: bool },
}

/// The name of a derivative: `d/dx` for the first order, `d2/dx2` for the second, ...
pub fn derivative_label(var: &str, order: usize) -> String {
    if order == 1 {
        format!("d/d{var}")
    } else {
        format!("d{order}/d{var}{order}")
    }
}

/// About how many bytes the text of `id` takes: the subexpressions a DAG shares are
/// repeated at every use in one expression, so this can be exponential in the graph's
/// size (saturating at `u64::MAX`). `--cse` prints in space proportional to the graph.
pub fn text_size(g: &Graph, id: NodeId) -> u64 {
    let order = crate::graph::walk::reachable(g, &[id]);
    let mut size: HashMap<NodeId, u64> =
        HashMap::with_capacity_and_hasher(order.len(), Default::default());
    for &n in &order {
        let own: u64 = match g.op(n) {
            Op::Var(v) => g.var_name(v).len() as u64,
            Op::Const(_) => 8,
            Op::Func(f) => f.name().len() as u64 + 2,
            _ => 3,
        };
        let total = g.args(n).iter().fold(own, |acc, a| acc.saturating_add(size[a]));
        size.insert(n, total);
    }
    size[&id]
}

/// `id` in the formula syntax.
pub fn text(g: &Graph, id: NodeId) -> String {
    Printer { g, names: &HashMap::default(), notation: Notation::Text }.render(id)
}

/// `id` as LaTeX.
pub fn latex(g: &Graph, id: NodeId) -> String {
    Printer { g, names: &HashMap::default(), notation: Notation::Latex }.render(id)
}

/// `id` in `notation`.
pub fn render(g: &Graph, id: NodeId, notation: Notation) -> String {
    Printer { g, names: &HashMap::default(), notation }.render(id)
}

struct Printer<'a> {
    g: &'a Graph,
    /// Nodes printed as a name (the temporaries of `--cse`).
    names: &'a HashMap<NodeId, String>,
    notation: Notation,
}

impl Printer<'_> {
    fn latex(&self) -> bool {
        self.notation == Notation::Latex
    }

    /// How this notation writes `op`, from the operator table.
    fn spell(&self, op: Operator) -> &'static str {
        if self.latex() {
            op.row().latex
        } else {
            op.row().text
        }
    }

    /// Prints `root` in full (even when it has a name) and its operands by name where named.
    fn render(&self, root: NodeId) -> String {
        let mut out = String::new();
        let mut stack = vec![Piece::Node { id: root, level: 0, negate: false }];
        let mut first = true;
        while let Some(piece) = stack.pop() {
            let (id, level, negate) = match piece {
                Piece::Text(t) => {
                    out.push_str(&t);
                    continue;
                }
                Piece::Static(t) => {
                    out.push_str(t);
                    continue;
                }
                Piece::Node { id, level, negate } => (id, level, negate),
            };
            let named = !first && self.names.contains_key(&id);
            first = false;
            if named {
                if negate {
                    out.push('-');
                }
                out.push_str(&self.names[&id]);
                continue;
            }
            let mut pieces = Vec::new();
            let wrap = self.level(id, negate) < level;
            if wrap {
                pieces.push(Piece::Static(if self.latex() { "\\left(" } else { "(" }));
            }
            self.expand(id, if wrap { 0 } else { level }, negate, &mut pieces);
            if wrap {
                pieces.push(Piece::Static(if self.latex() { "\\right)" } else { ")" }));
            }
            stack.extend(pieces.into_iter().rev());
        }
        out
    }

    fn named(&self, id: NodeId) -> bool {
        self.names.contains_key(&id)
    }

    /// True when `id` prints with a leading minus that a sum can turn into ` - `.
    fn is_negative(&self, id: NodeId) -> bool {
        !self.named(id)
            && match self.g.op(id) {
                Op::Const(_) => self.g.value(id).is_some_and(|v| v < 0.0),
                Op::Mul => self.g.coefficient(id) < 0.0,
                _ => false,
            }
    }

    /// `Some(k)` when `id` is `base ^ -k` for a constant `k > 0` (printed `1/base^k`).
    /// A constant base keeps the `^-k` form: `0^-3` stays unfolded (it is infinite), and
    /// `1/0^3` would read back as `1/0`, another node.
    fn reciprocal(&self, id: NodeId) -> Option<(NodeId, f64)> {
        if self.named(id) || self.g.op(id) != Op::Pow || self.g.value(self.g.args(id)[0]).is_some()
        {
            return None;
        }
        let e = self.g.value(self.g.args(id)[1])?;
        (e < 0.0).then(|| (self.g.args(id)[0], -e))
    }

    /// The precedence level of `id` as printed (negated when `negate`).
    fn level(&self, id: NodeId, negate: bool) -> u8 {
        if self.named(id) {
            return if negate { UNARY } else { ATOM };
        }
        match self.g.op(id) {
            Op::Const(_) => {
                let v = self.g.value(id).unwrap_or(0.0);
                if (v < 0.0) != negate && v != 0.0 {
                    UNARY
                } else {
                    ATOM
                }
            }
            Op::Var(_) | Op::Func(_) | Op::LogSumExp => {
                if negate {
                    UNARY
                } else {
                    ATOM
                }
            }
            Op::Add => {
                if negate {
                    UNARY
                } else {
                    SUM
                }
            }
            Op::Pow if self.reciprocal(id).is_some() => PRODUCT,
            Op::Pow => {
                if negate {
                    UNARY
                } else {
                    POWER
                }
            }
            Op::Mul => self.product_level(id, negate),
        }
    }

    fn product_level(&self, id: NodeId, negate: bool) -> u8 {
        let (a, b) = (self.g.args(id)[0], self.g.args(id)[1]);
        if self.reciprocal(b).is_some() {
            return PRODUCT;
        }
        match self.g.value(a).filter(|_| !self.named(a)) {
            Some(v) => match if negate { -v } else { v } {
                1.0 => self.level(b, false),
                -1.0 => UNARY,
                _ => PRODUCT,
            },
            None if negate && self.g.coefficient(id) >= 0.0 => UNARY,
            None => PRODUCT,
        }
    }

    fn node(&self, id: NodeId, level: u8, negate: bool) -> Piece {
        Piece::Node { id, level, negate }
    }

    fn expand(&self, id: NodeId, level: u8, negate: bool, out: &mut Vec<Piece>) {
        let g = self.g;
        let args = g.args(id);
        match g.op(id) {
            Op::Const(_) => {
                let v = g.value(id).unwrap_or(0.0);
                out.push(Piece::Text(self.number(if negate { -v } else { v })));
            }
            Op::Mul => self.expand_product(id, level, negate, out),
            Op::Pow if self.reciprocal(id).is_some() => {
                out.push(Piece::Static(if negate { "-" } else { "" }));
                self.expand_fraction(None, id, out);
            }
            _ if negate => {
                out.push(Piece::Static("-"));
                out.push(self.node(id, POWER, false));
            }
            Op::Var(v) => out.push(Piece::Text(self.variable(g.var_name(v)))),
            Op::Add => {
                out.push(self.node(args[0], SUM, false));
                let minus = self.is_negative(args[1]);
                out.push(Piece::Static(self.spell(if minus {
                    Operator::Sub
                } else {
                    Operator::Add
                })));
                out.push(self.node(args[1], PRODUCT, minus));
            }
            Op::Pow => {
                out.push(self.node(args[0], ATOM, false));
                if self.latex() {
                    out.push(Piece::Static("^{"));
                    out.push(self.node(args[1], 0, false));
                    out.push(Piece::Static("}"));
                } else {
                    out.push(Piece::Static(self.spell(Operator::Pow)));
                    out.push(self.node(args[1], UNARY, false));
                }
            }
            Op::Func(f) => self.expand_call(f, args, out),
            Op::LogSumExp => {
                let (open, close) = if self.latex() {
                    ("\\operatorname{logsumexp}\\left(", "\\right)")
                } else {
                    ("logsumexp([", "])")
                };
                out.push(Piece::Static(open));
                self.push_list(args, out);
                out.push(Piece::Static(close));
            }
        }
    }

    fn push_list(&self, args: &[NodeId], out: &mut Vec<Piece>) {
        for (i, &a) in args.iter().enumerate() {
            if i > 0 {
                out.push(Piece::Static(", "));
            }
            out.push(self.node(a, 0, false));
        }
    }

    fn expand_product(&self, id: NodeId, level: u8, negate: bool, out: &mut Vec<Piece>) {
        let (a, b) = (self.g.args(id)[0], self.g.args(id)[1]);
        if self.reciprocal(b).is_some() {
            return self.expand_fraction(Some((a, negate)), b, out);
        }
        let times = self.spell(Operator::Mul);
        match self.g.value(a).filter(|_| !self.named(a)) {
            Some(v) => match if negate { -v } else { v } {
                1.0 => out.push(self.node(b, level, false)),
                -1.0 => {
                    out.push(Piece::Static("-"));
                    out.push(self.node(b, POWER, false));
                }
                c => {
                    out.push(Piece::Text(self.number(c)));
                    out.push(Piece::Static(times));
                    out.push(self.node(b, POWER, false));
                }
            },
            None if negate && self.g.coefficient(id) >= 0.0 => {
                out.push(Piece::Static("-"));
                out.push(self.node(id, POWER, false));
            }
            None => {
                out.push(self.node(a, PRODUCT, negate));
                out.push(Piece::Static(times));
                out.push(self.node(b, POWER, false));
            }
        }
    }

    /// `numerator / base^k` for `reciprocal = base^-k`; no numerator means `1`.
    fn expand_fraction(
        &self,
        numerator: Option<(NodeId, bool)>,
        reciprocal: NodeId,
        out: &mut Vec<Piece>,
    ) {
        let (base, k) = self.reciprocal(reciprocal).expect("a reciprocal");
        let latex = self.latex();
        out.push(Piece::Static(if latex { "\\frac{" } else { "" }));
        match numerator {
            Some((a, negate)) => out.push(self.node(a, if latex { 0 } else { PRODUCT }, negate)),
            None => out.push(Piece::Static("1")),
        }
        out.push(Piece::Static(if latex { "}{" } else { "/" }));
        if k == 1.0 {
            out.push(self.node(base, if latex { 0 } else { POWER }, false));
        } else {
            out.push(self.node(base, ATOM, false));
            out.push(Piece::Static(if latex { "^{" } else { "^" }));
            out.push(Piece::Text(self.number(k)));
            out.push(Piece::Static(if latex { "}" } else { "" }));
        }
        out.push(Piece::Static(if latex { "}" } else { "" }));
    }

    fn expand_call(&self, f: Func, args: &[NodeId], out: &mut Vec<Piece>) {
        if !self.latex() {
            out.push(Piece::Text(format!("{}(", f.name())));
            self.push_list(args, out);
            out.push(Piece::Static(")"));
            return;
        }
        // The row's template: text with `$0`, `$1`, `$2` where the arguments go.
        let mut rest = f.row().latex;
        while let Some(at) = rest.find('$') {
            out.push(Piece::Static(&rest[..at]));
            let k = usize::from(rest.as_bytes()[at + 1] - b'0');
            out.push(self.node(args[k], 0, false));
            rest = &rest[at + 2..];
        }
        out.push(Piece::Static(rest));
    }

    fn number(&self, v: f64) -> String {
        if self.latex() {
            number::latex_number(v)
        } else {
            format_number(v)
        }
    }

    fn variable(&self, name: &str) -> String {
        if self.latex() {
            number::latex_name(name)
        } else {
            name.to_string()
        }
    }
}
