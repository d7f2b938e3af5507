//! The shared emitter: the derived nodes as a straight-line program of named locals and
//! inline expressions, spelled by a language's [`Syntax`].
//!
//! Which nodes become locals is the decision `--cse` makes ([`Cse`]): every
//! node used more than once, under the user's name where the program assigned it. A few
//! more become locals because a language needs it: the operand a template repeats (SQL's
//! expanded `CASE WHEN x >= 0 ...`), and expressions past [`MAX_INLINE`] bytes, which keeps
//! lines readable and the work linear in the graph. Every other node is written inline in
//! its one user.
//!
//! The expression shapes follow the tape compiler's (`eval/compile.rs`), so generated code
//! performs the interpreter's operations in the interpreter's order: `a + -b` is `a - b`,
//! `a * b^-1` is `a / b` (when the reciprocal is not shared), `b^2` is `b * b`, `b^-1` is
//! `1 / b`, `b^0.5` is a square root and other whole exponents up to 64 a `powi`. One
//! exception: a sum too long for a line is written as independent partial sums, one per
//! line, then added ([`Emitter::sum`]), which rounds differently from the interpreter's one
//! chain of additions but lets the processor overlap them.

use super::names::Namer;
use crate::graph::{walk, Func, Graph, NodeId, Op};
use crate::operators::Constant;
use crate::print::Cse;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;

/// Precedence levels of generated expressions (the operator table's, loosest first).
pub(crate) const SUM: u8 = 1;
pub(crate) const PRODUCT: u8 = 2;
pub(crate) const UNARY: u8 = 3;
pub(crate) const POWER: u8 = 4;
pub(crate) const ATOM: u8 = 5;

/// An inline expression longer than this many bytes becomes a local.
pub(crate) const MAX_INLINE: usize = 100;

/// What an expression is, for the spellings that care (a Rust method on a literal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An identifier (a local, a variable).
    Name,
    /// A number literal.
    Number,
    /// Anything else.
    Other,
}

/// Source text of an expression with its precedence level.
#[derive(Clone, Debug)]
pub(crate) struct Expr {
    pub text: String,
    pub level: u8,
    pub kind: Kind,
}

impl Expr {
    pub(crate) fn new(text: impl Into<String>, level: u8) -> Expr {
        Expr { text: text.into(), level, kind: Kind::Other }
    }

    fn name(text: String) -> Expr {
        Expr { text, level: ATOM, kind: Kind::Name }
    }

    /// The text, parenthesised when its level is below `level`.
    pub(crate) fn at(&self, level: u8) -> String {
        if self.level < level {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// The power shapes of the tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Power {
    /// `a^2` of an expression that is not a name (a name squares as `a * a`).
    Square,
    /// `a^n`, `n` a whole number: `$1` is the exponent as an integer literal.
    Powi,
    /// `a^b`
    Powf,
}

/// How a language spells numbers, names and operations.
pub(crate) trait Syntax {
    /// Words the language (or the generated file) reserves.
    fn is_reserved(&self, name: &str) -> bool;
    /// A number (any sign, NaN and infinities included).
    fn number(&self, v: f64) -> String;
    /// A number as the receiver of a method (Rust's `2.0_f64.sin()`).
    fn typed_number(&self, text: &str) -> String {
        text.to_string()
    }
    /// A named constant.
    fn constant(&self, c: Constant) -> String;
    /// The template of a function call over `$0`, `$1`, `$2` (see [`fill`]).
    fn func(&self, f: Func) -> String;
    /// The template of a power shape and the level of its result.
    fn power(&self, p: Power) -> (&'static str, u8);
    /// `logsumexp` of `args`.
    fn logsumexp(&self, args: &[Expr]) -> Expr;
    /// Whether `logsumexp`'s operands are repeated in its spelling (and must be names).
    fn logsumexp_repeats(&self) -> bool {
        false
    }
    /// Whether variables fixed by `--at` are locals (else literals at every use).
    fn fixed_as_locals(&self) -> bool {
        true
    }
    /// An identifier as written in an expression (SQL quotes some).
    fn identifier(&self, name: &str) -> String {
        name.to_string()
    }
}

/// The generated program, language-neutral but spelled: its input variables, its locals
/// in order, and its outputs.
pub(crate) struct Program {
    /// The variables read from the inputs: (position among the inputs, identifier).
    pub inputs: Vec<(usize, String)>,
    /// `name = expression` in order of computation.
    pub locals: Vec<(String, Expr)>,
    /// The value, then the gradient, then the Hessian row by row.
    pub outputs: Vec<Expr>,
    /// The `cr_` helpers the program calls.
    pub helpers: BTreeSet<String>,
}

/// What a variable of the graph is in the generated code.
#[derive(Clone, Debug)]
pub(crate) enum Binding {
    /// Read from the inputs, at this position.
    Input(usize),
    /// A number fixed at generation time (`--at`).
    Fixed(f64),
}

struct Emitter<'a> {
    g: &'a Graph,
    syntax: &'a dyn Syntax,
    /// Local names, and the inline expressions of the other nodes.
    named: HashMap<NodeId, String>,
    inline: HashMap<NodeId, Expr>,
    program: Program,
}

/// Emits `roots` of `g`. `bindings[v]` says what variable `v` of the graph is; `names`
/// gives identifiers to variables, user names and temporaries.
pub(crate) fn emit(
    g: &Graph,
    roots: &[NodeId],
    definitions: &[(String, NodeId)],
    bindings: &[Option<Binding>],
    names: &mut Namer,
    syntax: &dyn Syntax,
) -> Program {
    let outputs: Vec<(String, NodeId)> = roots.iter().map(|&r| (String::new(), r)).collect();
    let cse = Cse::new(g, &outputs, definitions);
    let assigned = |name: &str, n: NodeId| definitions.iter().any(|(d, id)| d == name && *id == n);
    let mut user: HashMap<NodeId, Option<String>> = cse
        .assignments
        .iter()
        .map(|(name, n)| (*n, assigned(name, *n).then(|| name.clone())))
        .collect();
    let prefix = temp_prefix(g, roots, definitions);
    for n in repeated_operands(g, roots, syntax) {
        user.entry(n).or_insert(None);
    }
    let mut e = Emitter {
        g,
        syntax,
        named: HashMap::default(),
        inline: HashMap::default(),
        program: Program {
            inputs: Vec::new(),
            locals: Vec::new(),
            outputs: Vec::new(),
            helpers: BTreeSet::new(),
        },
    };
    let mut temps = 0;
    let mut temp = |names: &mut Namer| {
        temps += 1;
        names.local(&format!("{prefix}{temps}"))
    };
    let inner = inner_sums(g, roots, &user);
    for n in walk::reachable(g, roots) {
        if inner.contains(&n) {
            continue;
        }
        if let Op::Var(v) = g.op(n) {
            let expr = match &bindings[v as usize] {
                Some(Binding::Input(i)) => {
                    let id = names.variable(g.var_name(v));
                    e.program.inputs.push((*i, id.clone()));
                    Expr::name(syntax.identifier(&id))
                }
                Some(Binding::Fixed(x)) if syntax.fixed_as_locals() => {
                    let id = names.variable(g.var_name(v));
                    let number = e.number(*x);
                    e.bind(n, id, number);
                    continue;
                }
                Some(Binding::Fixed(x)) => e.number(*x),
                None => unreachable!("every variable is an input or fixed"),
            };
            e.inline.insert(n, expr);
            continue;
        }
        let expr = match g.op(n) {
            Op::Add => {
                let terms = e.terms(n, &inner);
                e.sum(&terms, &mut || temp(names))
            }
            _ => e.render(n),
        };
        let long = expr.text.len() > MAX_INLINE && !roots.contains(&n);
        match user.get(&n) {
            Some(name) => {
                let id = match name {
                    Some(name) => names.local(name),
                    None => temp(names),
                };
                e.bind(n, id, expr);
            }
            None if long => {
                let id = temp(names);
                e.bind(n, id, expr);
            }
            None => {
                e.inline.insert(n, expr);
            }
        }
    }
    e.program.outputs = roots.iter().map(|&r| e.expr(r)).collect();
    e.program.inputs.sort();
    e.program
}

/// The sums inside longer sums: each `Add` that is the left operand of an `Add`, its only
/// use, and has no name. A sum is written from its terms ([`Emitter::terms`]).
fn inner_sums(
    g: &Graph,
    roots: &[NodeId],
    named: &HashMap<NodeId, Option<String>>,
) -> BTreeSet<NodeId> {
    let reachable = walk::reachable(g, roots);
    let mut uses: HashMap<NodeId, usize> = HashMap::default();
    for &n in &reachable {
        for &a in g.args(n) {
            *uses.entry(a).or_default() += 1;
        }
    }
    let mut inner = BTreeSet::new();
    for &n in &reachable {
        let a = match g.op(n) {
            Op::Add => g.args(n)[0],
            _ => continue,
        };
        let single = uses.get(&a) == Some(&1) && !named.contains_key(&a) && !roots.contains(&a);
        if g.op(a) == Op::Add && single {
            inner.insert(a);
        }
    }
    inner
}

/// `t`, or the first of `tmp`, `_t` whose numbered names no variable or assigned name
/// takes (temporaries are numbered here, as `--cse` numbers its own).
fn temp_prefix(g: &Graph, roots: &[NodeId], definitions: &[(String, NodeId)]) -> &'static str {
    let vars = walk::free_vars(g, roots);
    let names: Vec<&str> = vars.iter().filter_map(|&n| g.name_of(n)).collect();
    let taken = |p: &str| {
        let numbered = |n: &str| {
            n.strip_prefix(p)
                .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
        };
        names.iter().any(|n| numbered(n)) || definitions.iter().any(|(n, _)| numbered(n))
    };
    ["t", "tmp", "_t", "_t_"].into_iter().find(|p| !taken(p)).unwrap_or("__t")
}

/// The operands that a language's spelling repeats (so they must be names): those of
/// templates that name an argument twice, and of `logsumexp` where it repeats them.
fn repeated_operands(g: &Graph, roots: &[NodeId], syntax: &dyn Syntax) -> Vec<NodeId> {
    let mut out = Vec::new();
    let simple = |n: NodeId| matches!(g.op(n), Op::Var(_) | Op::Const(_) | Op::Named(_));
    for n in walk::reachable(g, roots) {
        let args = g.args(n);
        match g.op(n) {
            Op::Func(f) => {
                let template = syntax.func(f);
                for (k, &a) in args.iter().enumerate() {
                    if template.matches(&format!("${k}")).count() > 1 && !simple(a) {
                        out.push(a);
                    }
                }
            }
            Op::LogSumExp if syntax.logsumexp_repeats() => {
                out.extend(args.iter().copied().filter(|&a| !simple(a)))
            }
            _ => {}
        }
    }
    out
}

impl Emitter<'_> {
    fn bind(&mut self, n: NodeId, id: String, expr: Expr) {
        self.program.locals.push((id.clone(), expr));
        self.named.insert(n, id);
    }

    /// The expression that stands for `n` in its users: its local's name or its inline
    /// expression.
    fn expr(&self, n: NodeId) -> Expr {
        match self.named.get(&n) {
            Some(id) => Expr::name(self.syntax.identifier(id)),
            None => self.inline[&n].clone(),
        }
    }

    fn number(&self, v: f64) -> Expr {
        let text = self.syntax.number(v);
        let level = if text.starts_with('-') { UNARY } else { ATOM };
        Expr { text, level, kind: Kind::Number }
    }

    /// The node itself (never its local's name).
    fn render(&mut self, n: NodeId) -> Expr {
        let g = self.g;
        let args = g.args(n);
        match g.op(n) {
            Op::Const(x) => self.number(x.to_f64()),
            Op::Named(c) => Expr::new(self.syntax.constant(c), ATOM),
            Op::Var(_) => unreachable!("variables are bound before rendering"),
            Op::Add => self.add(args[0], args[1]),
            Op::Mul => match self.negated(n) {
                Some(positive) if g.value(args[0]) == Some(-1.0) => {
                    Expr::new(format!("-{}", positive.at(POWER)), UNARY)
                }
                _ => self.product(args[0], args[1]),
            },
            Op::Pow => self.power(args[0], args[1]),
            Op::Func(f) => {
                let template = self.syntax.func(f);
                self.note_helpers(&template);
                let operands: Vec<Expr> = args.iter().map(|&a| self.expr(a)).collect();
                fill(&template, &operands, ATOM, self.syntax)
            }
            Op::LogSumExp => {
                self.program.helpers.insert("cr_logsumexp".into());
                let operands: Vec<Expr> = args.iter().map(|&a| self.expr(a)).collect();
                self.syntax.logsumexp(&operands)
            }
        }
    }

    fn note_helpers(&mut self, template: &str) {
        let mut rest = template;
        while let Some(i) = rest.find("cr_") {
            let end = rest[i..].find('(').map_or(rest.len(), |j| i + j);
            self.program.helpers.insert(rest[i..end].to_string());
            rest = &rest[end..];
        }
    }

    /// `n` negated, when it is a negative number or a product with a negative coefficient
    /// that is not a local: what `a + n` writes as `a - ...` (the same value, bit for bit).
    fn negated(&self, n: NodeId) -> Option<Expr> {
        if self.named.contains_key(&n) {
            return None;
        }
        let g = self.g;
        match g.op(n) {
            Op::Const(x) if x.to_f64() < 0.0 => Some(self.number(-x.to_f64())),
            Op::Mul => {
                let (a, b) = (g.args(n)[0], g.args(n)[1]);
                if g.op(a) == Op::Mul {
                    // (-2*x)*y: the coefficient leads the left-nested product
                    return self.negated(a).map(|positive| self.product_of(positive, b));
                }
                let c = g.value(a).filter(|c| *c < 0.0)?;
                if c == -1.0 {
                    Some(self.expr(b))
                } else {
                    Some(self.product_of(self.number(-c), b))
                }
            }
            _ => None,
        }
    }

    /// The terms of the sum `n`, left to right: the right operands down its left spine of
    /// inner sums, then the innermost left operand.
    fn terms(&self, n: NodeId, inner: &BTreeSet<NodeId>) -> Vec<NodeId> {
        let mut terms = Vec::new();
        let mut at = n;
        loop {
            let args = self.g.args(at);
            terms.push(args[1]);
            if !inner.contains(&args[0]) {
                terms.push(args[0]);
                break;
            }
            at = args[0];
        }
        terms.reverse();
        terms
    }

    /// The sum of `terms` (two or more) in their order. One that fits on a line
    /// ([`MAX_INLINE`]) is one expression, added left to right as the interpreter adds; one
    /// of two lines is the first line as a local and the rest added to it. A longer one is
    /// cut into lines, each a partial sum in a new local, and the sum of the partial sums
    /// (cut again when it is long): the partial sums are independent, so their
    /// additions overlap, where one chain of additions would wait for each in turn (Rosenbrock
    /// in 100 variables: 198 additions in a row, four cycles each, were most of its time).
    /// The result differs from the interpreter's only by rounding.
    fn sum(&mut self, terms: &[NodeId], temp: &mut dyn FnMut() -> String) -> Expr {
        let (first, end) = self.line(terms, 0);
        if end == terms.len() {
            return first;
        }
        let first = self.local(first, temp);
        if self.line(terms, end).1 == terms.len() {
            // two lines: the second goes on adding to the first, the interpreter's order
            return terms[end..].iter().fold(first, |sum, &t| self.add_to(sum, t));
        }
        let mut partial = vec![first];
        let mut start = end;
        while start < terms.len() {
            let (line, end) = self.line(terms, start);
            partial.push(self.local(line, temp));
            start = end;
        }
        loop {
            let all = Self::fold_exprs(&partial);
            if all.text.len() <= MAX_INLINE || partial.len() <= 2 {
                return all;
            }
            let mut next = Vec::new();
            for chunk in partial.chunks(Self::fit(&partial)) {
                let line = Self::fold_exprs(chunk);
                next.push(if chunk.len() == 1 { line } else { self.local(line, temp) });
            }
            partial = next;
        }
    }

    /// The longest sum of `terms[start..]` that fits on a line (at least two terms, and
    /// never one term left over), and where it ends.
    fn line(&self, terms: &[NodeId], start: usize) -> (Expr, usize) {
        if start + 1 == terms.len() {
            return (self.expr(terms[start]), terms.len());
        }
        let mut line = self.add(terms[start], terms[start + 1]);
        let mut end = start + 2;
        while end < terms.len() {
            let longer = self.add_to(line.clone(), terms[end]);
            if longer.text.len() > MAX_INLINE && end + 1 < terms.len() {
                break;
            }
            line = longer;
            end += 1;
        }
        (line, end)
    }

    /// How many of `names` fit on a line as a sum (at least two).
    fn fit(names: &[Expr]) -> usize {
        let mut len = 0;
        let mut k = 0;
        for name in names {
            len += name.text.len() + 3;
            if len > MAX_INLINE + 3 && k >= 2 {
                break;
            }
            k += 1;
        }
        k
    }

    /// `expr` as a new local; its name.
    fn local(&mut self, expr: Expr, temp: &mut dyn FnMut() -> String) -> Expr {
        let id = temp();
        self.program.locals.push((id.clone(), expr));
        Expr::name(self.syntax.identifier(&id))
    }

    /// Names (locals) added left to right.
    fn fold_exprs(names: &[Expr]) -> Expr {
        let texts: Vec<&str> = names.iter().map(|e| e.text.as_str()).collect();
        match texts.len() {
            1 => names[0].clone(),
            _ => Expr::new(texts.join(" + "), SUM),
        }
    }

    /// `sum + b` for an expression `sum` that is not negated (a sum so far).
    fn add_to(&self, sum: Expr, b: NodeId) -> Expr {
        if let Some(positive) = self.negated(b) {
            return Expr::new(format!("{} - {}", sum.at(SUM), positive.at(PRODUCT)), SUM);
        }
        self.plus(sum, self.expr(b))
    }

    fn add(&self, a: NodeId, b: NodeId) -> Expr {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(positive) = self.negated(y) {
                let x = self.expr(x);
                return Expr::new(format!("{} - {}", x.at(SUM), positive.at(PRODUCT)), SUM);
            }
        }
        self.plus(self.expr(a), self.expr(b))
    }

    /// `a + b` of two expressions, `a - ...` when `b` is a negative number.
    fn plus(&self, a: Expr, b: Expr) -> Expr {
        match b.text.strip_prefix('-') {
            // a variable fixed to a negative number
            Some(positive) if b.kind == Kind::Number => {
                Expr::new(format!("{} - {positive}", a.at(SUM)), SUM)
            }
            _ => Expr::new(format!("{} + {}", a.at(SUM), b.at(PRODUCT)), SUM),
        }
    }

    /// A reciprocal `c^-1` that is not a local: its base `c`.
    fn reciprocal(&self, n: NodeId) -> Option<NodeId> {
        let g = self.g;
        let is = g.op(n) == Op::Pow && g.value(g.args(n)[1]) == Some(-1.0);
        (is && !self.named.contains_key(&n)).then(|| g.args(n)[0])
    }

    fn product(&self, a: NodeId, b: NodeId) -> Expr {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(c) = self.reciprocal(y) {
                let (x, c) = (self.expr(x), self.expr(c));
                return Expr::new(format!("{} / {}", x.at(PRODUCT), c.at(UNARY)), PRODUCT);
            }
        }
        self.product_of(self.expr(a), b)
    }

    /// `a * b` for an expression `a` (a number) and a node `b`, fusing `b = c^-1`.
    fn product_of(&self, a: Expr, b: NodeId) -> Expr {
        if let Some(c) = self.reciprocal(b) {
            let c = self.expr(c);
            return Expr::new(format!("{} / {}", a.at(PRODUCT), c.at(UNARY)), PRODUCT);
        }
        let b = self.expr(b);
        Expr::new(format!("{} * {}", a.at(PRODUCT), b.at(UNARY)), PRODUCT)
    }

    fn power(&mut self, base: NodeId, exponent: NodeId) -> Expr {
        let b = self.expr(base);
        let e = self.g.value(exponent);
        match e {
            Some(2.0) if b.kind == Kind::Name => {
                Expr::new(format!("{} * {}", b.text, b.text), PRODUCT)
            }
            Some(2.0) => self.power_shape(Power::Square, &[b]),
            Some(-1.0) => {
                Expr::new(format!("{} / {}", self.syntax.number(1.0), b.at(UNARY)), PRODUCT)
            }
            Some(0.5) => {
                let template = self.syntax.func(Func::Sqrt);
                fill(&template, &[b], ATOM, self.syntax)
            }
            Some(e) if e.fract() == 0.0 && e.abs() <= 64.0 => {
                let n = Expr::new(format!("{}", e as i32), ATOM);
                self.power_shape(Power::Powi, &[b, n])
            }
            _ => {
                let e = self.expr(exponent);
                self.power_shape(Power::Powf, &[b, e])
            }
        }
    }

    fn power_shape(&self, p: Power, operands: &[Expr]) -> Expr {
        let (template, level) = self.syntax.power(p);
        fill(template, operands, level, self.syntax)
    }
}

/// Fills `$0`, `$1`, `$2` of `template` with `operands`. An operand that stands alone
/// between a call's parentheses and commas is written as it is; anywhere else (before a
/// method call's `.`, beside `**` or `-`, in a `CASE`) it is parenthesised unless it is an
/// atom.
pub(crate) fn fill(template: &str, operands: &[Expr], level: u8, syntax: &dyn Syntax) -> Expr {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let k = (rest.as_bytes()[i + 1] - b'0') as usize;
        let after = &rest[i + 2..];
        let alone =
            out.trim_end().ends_with(['(', ',']) && after.trim_start().starts_with([')', ',']);
        let operand = &operands[k];
        let text = match (alone, operand.kind) {
            (true, _) => operand.text.clone(),
            (false, Kind::Number) if after.starts_with('.') => {
                Expr { text: syntax.typed_number(&operand.text), ..operand.clone() }.at(ATOM)
            }
            (false, _) => operand.at(ATOM),
        };
        out.push_str(&text);
        rest = after;
    }
    out.push_str(rest);
    Expr::new(out, level)
}
