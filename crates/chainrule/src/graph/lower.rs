//! Syntax tree to graph: resolves names (assignments, constants, variables), checks calls
//! (known function, arity, lists only where a reducer takes them) and expands the reducers
//! and losses into graph nodes. Lists never reach the graph.

use super::{Func, Graph, NodeId, VarId};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::syntax::ast::{ChainOp, Expr, ExprKind, Program};
use rustc_hash::FxHashMap as HashMap;

/// A lowered program.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The program's result.
    pub root: NodeId,
    /// Its free variables in order of first appearance in the text.
    pub vars: Vec<VarId>,
    /// Where each node was first written, for pointing at a subexpression.
    pub origins: HashMap<NodeId, Span>,
    /// The names the program assigns, in order.
    pub assigned: Vec<String>,
}

/// The reducers and losses, which take lists.
const LIST_FUNCTIONS: [&str; 8] =
    ["sum", "mean", "dot", "logsumexp", "mse", "cross_entropy", "bce", "softmax_cross_entropy"];

/// Names that cannot be assigned.
fn is_reserved(name: &str) -> bool {
    matches!(name, "pi" | "e" | "log" | "pow")
        || Func::from_name(name).is_some()
        || LIST_FUNCTIONS.contains(&name)
}

/// Lowers `program` into `g`.
pub fn lower(g: &mut Graph, program: &Program) -> Result<Lowered> {
    let mut cx = Lowering {
        g,
        defined: HashMap::default(),
        free: HashMap::default(),
        vars: Vec::new(),
        origins: HashMap::default(),
    };
    let mut result = None;
    for statement in &program.statements {
        let value = cx.expr(&statement.expr)?;
        if let Some((name, span)) = &statement.target {
            cx.define(name, *span, value)?;
        }
        result = Some(value);
    }
    let root = result.ok_or_else(|| Error::new(ErrorKind::Empty))?;
    let assigned =
        program.statements.iter().filter_map(|s| s.target.as_ref().map(|t| t.0.clone())).collect();
    Ok(Lowered { root, vars: cx.vars, origins: cx.origins, assigned })
}

struct Lowering<'g> {
    g: &'g mut Graph,
    defined: HashMap<String, NodeId>,
    /// Free names used so far, with their first use.
    free: HashMap<String, Span>,
    vars: Vec<VarId>,
    origins: HashMap<NodeId, Span>,
}

impl Lowering<'_> {
    fn define(&mut self, name: &str, span: Span, value: NodeId) -> Result<()> {
        if is_reserved(name) {
            return Err(Error::at(ErrorKind::ReservedName(name.into()), span)
                .with_hint("choose another name"));
        }
        if self.defined.contains_key(name) {
            return Err(Error::at(ErrorKind::Redefined(name.into()), span)
                .with_hint("give the new value a new name"));
        }
        if let Some(&used) = self.free.get(name) {
            return Err(Error::at(ErrorKind::UsedBeforeDefined(name.into()), used)
                .with_hint(format!("move the definition of `{name}` above its first use")));
        }
        self.defined.insert(name.to_string(), value);
        Ok(())
    }

    fn note(&mut self, id: NodeId, span: Span) -> NodeId {
        self.origins.entry(id).or_insert(span);
        id
    }

    fn expr(&mut self, e: &Expr) -> Result<NodeId> {
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || self.expr_unguarded(e))
    }

    fn expr_unguarded(&mut self, e: &Expr) -> Result<NodeId> {
        let id = match &e.kind {
            ExprKind::Number(v) => self.g.constant(*v),
            ExprKind::Name(name) => self.name(name, e.span),
            ExprKind::Neg(inner) => {
                let a = self.expr(inner)?;
                self.g.neg(a)
            }
            ExprKind::Pow(base, exponent) => {
                let a = self.expr(base)?;
                let b = self.expr(exponent)?;
                self.g.pow(a, b)
            }
            ExprKind::Chain(first, rest) => self.chain(first, rest)?,
            ExprKind::Call { name, name_span, args } => {
                self.call(name, *name_span, args, e.span)?
            }
            ExprKind::List(_) => return Err(list_here(e.span)),
        };
        Ok(self.note(id, e.span))
    }

    fn name(&mut self, name: &str, span: Span) -> NodeId {
        if let Some(&id) = self.defined.get(name) {
            return id;
        }
        match name {
            "pi" => self.g.constant(std::f64::consts::PI),
            "e" => self.g.constant(std::f64::consts::E),
            _ => {
                let v = self.g.intern_var(name);
                if !self.free.contains_key(name) {
                    self.free.insert(name.to_string(), span);
                    self.vars.push(v);
                }
                self.g.var_node(v)
            }
        }
    }

    fn chain(&mut self, first: &Expr, rest: &[(ChainOp, Expr)]) -> Result<NodeId> {
        let mut acc = self.expr(first)?;
        for (op, e) in rest {
            let b = self.expr(e)?;
            acc = match op {
                ChainOp::Add => self.g.add(acc, b),
                ChainOp::Sub => self.g.sub(acc, b),
                ChainOp::Mul => self.g.mul(acc, b),
                ChainOp::Div => self.g.div(acc, b),
            };
            acc = self.note(acc, crate::error::Span::new(first.span.start, e.span.end));
        }
        Ok(acc)
    }

    fn scalars(&mut self, args: &[Expr], fname: &str) -> Result<Vec<NodeId>> {
        args.iter()
            .map(|a| match a.kind {
                ExprKind::List(_) => Err(Error::at(
                    ErrorKind::List(format!("`{fname}` takes numbers, not a list")),
                    a.span,
                )),
                _ => self.expr(a),
            })
            .collect()
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) -> Result<NodeId> {
        let arity_error = |expected: &str| {
            Error::at(
                ErrorKind::Arity { name: name.into(), expected: expected.into(), got: args.len() },
                span,
            )
        };
        if let Some(f) = Func::from_name(name) {
            if args.len() != f.arity() {
                let words = if f.arity() == 1 { "1 argument" } else { "2 arguments" };
                return Err(arity_error(words));
            }
            let a = self.scalars(args, name)?;
            return Ok(self.g.func(f, &a));
        }
        match name {
            "log" => {
                if !(1..=2).contains(&args.len()) {
                    return Err(arity_error("1 or 2 arguments (log(x) or log(x, base))"));
                }
                let a = self.scalars(args, name)?;
                let ln_x = self.g.func(Func::Ln, &[a[0]]);
                Ok(match a.get(1) {
                    Some(&base) => {
                        let ln_b = self.g.func(Func::Ln, &[base]);
                        self.g.div(ln_x, ln_b)
                    }
                    None => ln_x,
                })
            }
            "pow" => {
                if args.len() != 2 {
                    return Err(arity_error("2 arguments"));
                }
                let a = self.scalars(args, name)?;
                Ok(self.g.pow(a[0], a[1]))
            }
            _ if LIST_FUNCTIONS.contains(&name) => self.reducer(name, args, span),
            _ => Err(unknown_function(name, name_span, self.defined.contains_key(name))),
        }
    }

    /// The items of a list argument (or, where `scalar_ok`, a single number as one item).
    fn items(&mut self, fname: &str, arg: &Expr, scalar_ok: bool) -> Result<Vec<NodeId>> {
        match &arg.kind {
            ExprKind::List(items) if items.is_empty() => Err(Error::at(
                ErrorKind::List(format!("`{fname}` needs a list with at least one item")),
                arg.span,
            )),
            ExprKind::List(items) => items.iter().map(|i| self.expr(i)).collect(),
            _ if scalar_ok => Ok(vec![self.expr(arg)?]),
            _ => Err(Error::at(
                ErrorKind::List(format!("`{fname}` takes a list like [a, b, c]")),
                arg.span,
            )),
        }
    }

    fn reducer(&mut self, name: &str, args: &[Expr], span: Span) -> Result<NodeId> {
        let want = if matches!(name, "sum" | "mean" | "logsumexp") { 1 } else { 2 };
        if args.len() != want {
            let words = if want == 1 { "1 list" } else { "2 lists" };
            return Err(Error::at(
                ErrorKind::Arity { name: name.into(), expected: words.into(), got: args.len() },
                span,
            ));
        }
        let scalar_ok = matches!(name, "mse" | "bce");
        let a = self.items(name, &args[0], scalar_ok)?;
        let b = match args.get(1) {
            Some(arg) => self.items(name, arg, scalar_ok)?,
            None => Vec::new(),
        };
        if want == 2 && a.len() != b.len() {
            return Err(Error::at(
                ErrorKind::List(format!(
                    "`{name}` needs two lists of one length; got {} and {} items",
                    a.len(),
                    b.len()
                )),
                span,
            ));
        }
        Ok(self.expand_reducer(name, &a, &b))
    }

    fn expand_reducer(&mut self, name: &str, a: &[NodeId], b: &[NodeId]) -> NodeId {
        let g = &mut *self.g;
        match name {
            "sum" => sum(g, a.iter().copied()),
            "mean" => mean(g, a.iter().copied()),
            "logsumexp" => g.logsumexp(a),
            "dot" => dot(g, a, b),
            "mse" => {
                let squares: Vec<NodeId> = a
                    .iter()
                    .zip(b)
                    .map(|(&p, &t)| {
                        let d = g.sub(p, t);
                        let two = g.constant(2.0);
                        g.pow(d, two)
                    })
                    .collect();
                mean(g, squares.into_iter())
            }
            "cross_entropy" => {
                let logs: Vec<NodeId> = a.iter().map(|&p| g.func(Func::Ln, &[p])).collect();
                let s = dot(g, b, &logs);
                g.neg(s)
            }
            "bce" => {
                let losses: Vec<NodeId> =
                    a.iter().zip(b).map(|(&p, &y)| bce_one(g, p, y)).collect();
                mean(g, losses.into_iter())
            }
            "softmax_cross_entropy" => {
                // -sum(y_i * (l_i - logsumexp(l))) = sum(y)*logsumexp(l) - dot(y, l)
                let lse = g.logsumexp(a);
                let total = sum(g, b.iter().copied());
                let first = g.mul(total, lse);
                let second = dot(g, b, a);
                g.sub(first, second)
            }
            _ => unreachable!("not a reducer: {name}"),
        }
    }
}

fn sum(g: &mut Graph, items: impl Iterator<Item = NodeId>) -> NodeId {
    let zero = g.constant(0.0);
    items.fold(zero, |acc, x| g.add(acc, x))
}

fn mean(g: &mut Graph, items: impl ExactSizeIterator<Item = NodeId>) -> NodeId {
    let n = items.len() as f64;
    let s = sum(g, items);
    let inv = g.constant(1.0 / n);
    g.mul(inv, s)
}

fn dot(g: &mut Graph, a: &[NodeId], b: &[NodeId]) -> NodeId {
    let products: Vec<NodeId> = a.iter().zip(b).map(|(&x, &y)| g.mul(x, y)).collect();
    sum(g, products.into_iter())
}

/// -(y*ln(p) + (1-y)*ln(1-p))
fn bce_one(g: &mut Graph, p: NodeId, y: NodeId) -> NodeId {
    let one = g.constant(1.0);
    let ln_p = g.func(Func::Ln, &[p]);
    let q = g.sub(one, p);
    let ln_q = g.func(Func::Ln, &[q]);
    let r = g.sub(one, y);
    let t1 = g.mul(y, ln_p);
    let t2 = g.mul(r, ln_q);
    let s = g.add(t1, t2);
    g.neg(s)
}

fn list_here(span: Span) -> Error {
    Error::at(
        ErrorKind::List("a list `[...]` can only be an argument of a reducer or loss".into()),
        span,
    )
    .with_hint(format!("lists go into {}", LIST_FUNCTIONS.join(", ")))
}

fn unknown_function(name: &str, span: Span, is_defined: bool) -> Error {
    let error = Error::at(ErrorKind::UnknownFunction(name.into()), span);
    if is_defined {
        return error
            .with_hint(format!("`{name}` is a name defined in the program, not a function"));
    }
    let known = crate::graph::op::FUNCS
        .iter()
        .map(|f| f.name())
        .chain(["log", "pow"])
        .chain(LIST_FUNCTIONS);
    match known.min_by_key(|k| edit_distance(name, k)) {
        Some(best) if edit_distance(name, best) <= 1.max(name.len() / 3) => {
            error.with_hint(format!("did you mean `{best}`?"))
        }
        _ => error.with_hint(format!(
            "known functions: {}, log, pow, {}",
            crate::graph::op::FUNCS.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "),
            LIST_FUNCTIONS.join(", ")
        )),
    }
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
