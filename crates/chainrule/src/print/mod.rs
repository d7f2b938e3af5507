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
pub mod html;
mod number;
pub mod trace;

pub use cse::{cse_program, cse_program_named, Cse};
pub use number::{format_constant, format_float, latex_name};

use crate::graph::{Func, Graph, NodeId, Number, Op};
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
    /// A node to print at `level`, negated; with `numerator`, a product's exact coefficient
    /// `p/q` prints as `p` (the product's printer writes `/q` after it).
    Node {
        id: NodeId,
        level: u8,
        negate: bool,
        numerator: bool,
    },
}

/// The name of a derivative: `d/dx` for the first order, `d2/dx2` for the second, ...
pub fn derivative_label(var: &str, order: usize) -> String {
    derivative_label_of(None, var, order)
}

/// [`derivative_label`] of one element of an array result: `d out[2]/dx`, `d2 out[2]/dx2`.
pub fn derivative_label_of(of: Option<&str>, var: &str, order: usize) -> String {
    let d = if order == 1 { "d".to_string() } else { format!("d{order}") };
    let of = of.map_or(String::new(), |o| format!(" {o}"));
    let power = if order == 1 { String::new() } else { order.to_string() };
    format!("{d}{of}/d{var}{power}")
}

/// About how many bytes the text of `id` takes: the subexpressions a DAG shares are
/// repeated at every use in one expression, so this can be exponential in the graph's
/// size (saturating at `u64::MAX`). `--cse` prints in space proportional to the graph.
pub fn text_size(g: &Graph, id: NodeId) -> u64 {
    let order = crate::graph::walk::reachable(g, &[id]);
    text_sizes(g, &order)[&id]
}

/// [`text_size`] of every node of `order` (operands before users, closed under operands)
/// in one pass.
pub fn text_sizes(g: &Graph, order: &[NodeId]) -> HashMap<NodeId, u64> {
    let mut size: HashMap<NodeId, u64> =
        HashMap::with_capacity_and_hasher(order.len(), Default::default());
    for &n in order {
        let own: u64 = match g.op(n) {
            Op::Var(v) => g.var_name(v).len() as u64,
            Op::Named(c) => c.name().len() as u64,
            Op::Const(_) => 8,
            Op::Func(f) => f.name().len() as u64 + 2,
            _ => 3,
        };
        let total = g.args(n).iter().fold(own, |acc, a| acc.saturating_add(size[a]));
        size.insert(n, total);
    }
    size
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

/// The canonical text of `id` where each node of `names` is written as its name, however
/// often it is used (a formula's own names: `h1*(1 - h1)`).
pub fn text_named(g: &Graph, id: NodeId, names: &HashMap<NodeId, String>) -> String {
    match names.get(&id) {
        Some(name) => name.clone(),
        None => text_expanded(g, id, names),
    }
}

/// The text of `id` in full, with every other node of `names` written as its name.
pub fn text_expanded(g: &Graph, id: NodeId, names: &HashMap<NodeId, String>) -> String {
    Printer { g, names, notation: Notation::Text }.render(id)
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
        let mut stack = vec![self.node(root, 0, false)];
        let mut first = true;
        while let Some(piece) = stack.pop() {
            let (id, level, negate, numerator) = match piece {
                Piece::Text(t) => {
                    out.push_str(&t);
                    continue;
                }
                Piece::Static(t) => {
                    out.push_str(t);
                    continue;
                }
                Piece::Node { id, level, negate, numerator } => (id, level, negate, numerator),
            };
            let named = !first && self.names.contains_key(&id);
            first = false;
            if named {
                if negate {
                    out.push('-');
                }
                match self.notation {
                    Notation::Latex => out.push_str(&latex_name(&self.names[&id])),
                    Notation::Text => out.push_str(&self.names[&id]),
                }
                continue;
            }
            let mut pieces = Vec::new();
            let wrap = self.level(id, negate) < level;
            if wrap {
                pieces.push(Piece::Static(if self.latex() { "\\left(" } else { "(" }));
            }
            self.expand(id, if wrap { 0 } else { level }, negate, numerator, &mut pieces);
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
    fn reciprocal(&self, id: NodeId) -> Option<(NodeId, Number)> {
        if self.named(id) || self.g.op(id) != Op::Pow || self.g.value(self.g.args(id)[0]).is_some()
        {
            return None;
        }
        let e = self.g.number_of(self.g.args(id)[1])?;
        e.is_negative().then(|| (self.g.args(id)[0], (-e)))
    }

    /// The denominator `q > 1` of the exact coefficient of product `id` (negated when
    /// `negate`), printed after the product: `x*y/3`, `1/(3*x^2)`.
    fn coefficient_denominator(&self, id: NodeId) -> Option<i64> {
        let (mut leaf, mut partner) = (id, id);
        while self.g.op(leaf) == Op::Mul && !self.named(leaf) {
            (leaf, partner) = (self.g.args(leaf)[0], self.g.args(leaf)[1]);
        }
        // An unfoldable pair of numbers (an underflow) prints as it is.
        if self.named(leaf) || self.g.number_of(partner).is_some() {
            return None;
        }
        let (_, q) = self.g.number_of(leaf)?.fraction();
        (q > 1).then_some(q)
    }

    /// The precedence level of `id` as printed (negated when `negate`).
    fn level(&self, id: NodeId, negate: bool) -> u8 {
        if self.named(id) {
            return if negate { UNARY } else { ATOM };
        }
        match self.g.op(id) {
            Op::Const(n) => {
                let v = n.to_f64();
                if (v < 0.0) != negate && v != 0.0 {
                    UNARY
                } else if n.fraction().1 > 1 {
                    PRODUCT
                } else {
                    ATOM
                }
            }
            // LaTeX writes exp(u) as a power, `e^{u}`: a power's base, it takes parentheses
            // (`e^{u}^{2}` is a double superscript, which LaTeX refuses).
            Op::Func(Func::Exp) if self.latex() && !negate => POWER,
            Op::Var(_) | Op::Named(_) | Op::Func(_) | Op::LogSumExp => {
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
        if self.reciprocal(b).is_some() || self.coefficient_denominator(id).is_some() {
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
        Piece::Node { id, level, negate, numerator: false }
    }

    /// `id` with its exact coefficient's numerator only (see [`Piece::Node`]).
    fn numerator(&self, id: NodeId, level: u8, negate: bool) -> Piece {
        Piece::Node { id, level, negate, numerator: true }
    }

    fn expand(&self, id: NodeId, level: u8, negate: bool, numerator: bool, out: &mut Vec<Piece>) {
        let g = self.g;
        let args = g.args(id);
        match g.op(id) {
            Op::Const(n) => {
                let n = if negate { -n } else { n };
                let n = if numerator { n.fraction().0 } else { n };
                out.push(Piece::Text(self.number(n)));
            }
            Op::Mul => self.expand_product(id, level, negate, numerator, out),
            Op::Pow if self.reciprocal(id).is_some() => {
                out.push(Piece::Static(if negate { "-" } else { "" }));
                self.expand_fraction(None, None, id, out);
            }
            _ if negate => {
                out.push(Piece::Static("-"));
                out.push(self.node(id, POWER, false));
            }
            Op::Var(v) => out.push(Piece::Text(self.variable(g.var_name(v)))),
            Op::Named(c) => {
                out.push(Piece::Static(if self.latex() { c.latex() } else { c.name() }))
            }
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

    fn expand_product(
        &self,
        id: NodeId,
        level: u8,
        negate: bool,
        numerator: bool,
        out: &mut Vec<Piece>,
    ) {
        let (a, b) = (self.g.args(id)[0], self.g.args(id)[1]);
        let denominator = if numerator { None } else { self.coefficient_denominator(id) };
        if self.reciprocal(b).is_some() {
            let top = Piece::Node {
                id: a,
                level: PRODUCT,
                negate,
                numerator: numerator || denominator.is_some(),
            };
            return self.expand_fraction(Some(top), denominator, b, out);
        }
        if let Some(q) = denominator {
            let top = self.numerator(id, PRODUCT, negate);
            return self.push_over(top, q, out);
        }
        let times = self.times_before(b);
        let coefficient = self.g.number_of(a).filter(|_| !self.named(a));
        match coefficient.map(|c| if negate { -c } else { c }) {
            Some(c) => {
                let c = if numerator { c.fraction().0 } else { c };
                match c.to_f64() {
                    1.0 => out.push(self.node(b, level, false)),
                    -1.0 => {
                        out.push(Piece::Static("-"));
                        out.push(self.node(b, POWER, false));
                    }
                    _ => {
                        out.push(Piece::Text(self.number(c)));
                        out.push(Piece::Static(times));
                        out.push(self.node(b, POWER, false));
                    }
                }
            }
            None if negate && self.g.coefficient(id) >= 0.0 => {
                out.push(Piece::Static("-"));
                out.push(Piece::Node { id, level: POWER, negate: false, numerator });
            }
            None => {
                out.push(Piece::Node { id: a, level: PRODUCT, negate, numerator });
                out.push(Piece::Static(times));
                out.push(self.node(b, POWER, false));
            }
        }
    }

    /// `top / q` (`\frac{top}{q}`, with the sign before the fraction in LaTeX).
    fn push_over(&self, top: Piece, q: i64, out: &mut Vec<Piece>) {
        if !self.latex() {
            return out.extend([top, Piece::Text(format!("/{q}"))]);
        }
        let top = match top {
            Piece::Node { id, level, negate, numerator } if self.is_negative(id) != negate => {
                out.push(Piece::Static("-"));
                Piece::Node { id, level, negate: !negate, numerator }
            }
            other => other,
        };
        out.extend([Piece::Static("\\frac{"), top, Piece::Text(format!("}}{{{q}}}"))]);
    }

    /// The multiplication sign before factor `b`: `*` in text; in LaTeX a space, or
    /// `\cdot` where `b` starts with a number (`2 x`, `2 \cdot 3^{x}`).
    fn times_before(&self, b: NodeId) -> &'static str {
        if !self.latex() {
            return self.spell(Operator::Mul);
        }
        let mut first = b;
        while !self.named(first) && matches!(self.g.op(first), Op::Mul | Op::Pow) {
            first = self.g.args(first)[0];
        }
        match self.g.op(first) {
            Op::Const(_) if !self.named(first) => " \\cdot ",
            _ => self.spell(Operator::Mul),
        }
    }

    /// `numerator / (q*base^k)` for `reciprocal = base^-k`; no numerator means `1`, no
    /// `q` means 1.
    fn expand_fraction(
        &self,
        numerator: Option<Piece>,
        q: Option<i64>,
        reciprocal: NodeId,
        out: &mut Vec<Piece>,
    ) {
        let (base, k) = self.reciprocal(reciprocal).expect("a reciprocal");
        let latex = self.latex();
        // LaTeX writes the sign before the fraction: `-\\frac{1}{2 x}`.
        let numerator = numerator.map(|piece| match piece {
            Piece::Node { id, negate, numerator, .. }
                if latex && self.is_negative(id) != negate =>
            {
                out.push(Piece::Static("-"));
                Piece::Node { id, level: 0, negate: !negate, numerator }
            }
            Piece::Node { id, negate, numerator, .. } => {
                Piece::Node { id, level: if latex { 0 } else { PRODUCT }, negate, numerator }
            }
            other => other,
        });
        out.push(Piece::Static(if latex { "\\frac{" } else { "" }));
        out.push(numerator.unwrap_or(Piece::Static("1")));
        out.push(Piece::Static(if latex { "}{" } else { "/" }));
        let grouped = q.is_some() && !latex;
        if grouped {
            out.push(Piece::Static("("));
        }
        if let Some(q) = q {
            out.push(Piece::Text(q.to_string()));
            out.push(Piece::Static(self.times_before(base)));
        }
        if k.is_one() {
            // After `q*` inside brackets a product base needs no brackets of its own.
            let level = match (latex, q) {
                (true, _) => 0,
                (false, Some(_)) => PRODUCT,
                (false, None) => POWER,
            };
            out.push(self.node(base, level, false));
        } else {
            out.push(self.node(base, ATOM, false));
            out.push(Piece::Static(if latex { "^{" } else { "^" }));
            let text = self.number(k);
            let wrap = !latex && k.fraction().1 > 1;
            out.push(Piece::Text(if wrap { format!("({text})") } else { text }));
            out.push(Piece::Static(if latex { "}" } else { "" }));
        }
        if grouped {
            out.push(Piece::Static(")"));
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

    fn number(&self, n: Number) -> String {
        if self.latex() {
            number::latex_constant(n)
        } else {
            format_constant(n)
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
