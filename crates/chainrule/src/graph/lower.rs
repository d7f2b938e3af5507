//! Syntax tree to graph: resolves names (assignments, constants, variables), checks calls
//! (known function, arity, lists only where a reducer takes them) and expands the reducers
//! and losses into graph nodes. Lists never reach the graph.

use super::{reduce, Func, Graph, NodeId, VarId};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::operators::callables::{self, Args, Callable, CALLABLES};
use crate::operators::Constant;
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
    /// Each assigned name with the node of its value, in program order.
    pub definitions: Vec<(String, NodeId)>,
}

/// Lowers `program` into `g`.
pub fn lower(g: &mut Graph, program: &Program) -> Result<Lowered> {
    lower_with(g, program, &[])
}

/// Lowers `program` into `g` where the names of `outer` (another program's definitions, as
/// [`Lowered::definitions`] lists them) mean their nodes too, unless `program` defines the
/// name itself: a claimed derivative may use the formula's own names (`h1`, `out`).
pub fn lower_with(g: &mut Graph, program: &Program, outer: &[(String, NodeId)]) -> Result<Lowered> {
    let mut cx = Lowering {
        g,
        outer: outer.iter().cloned().collect(),
        defined: HashMap::default(),
        free: HashMap::default(),
        vars: Vec::new(),
        origins: HashMap::default(),
    };
    let mut result = None;
    let mut definitions = Vec::new();
    for statement in &program.statements {
        let value = cx.expr(&statement.expr)?;
        if let Some((name, span)) = &statement.target {
            cx.define(name, *span, value)?;
            definitions.push((name.clone(), value));
        }
        result = Some(value);
    }
    let root = result.ok_or_else(|| Error::new(ErrorKind::Empty))?;
    let assigned =
        program.statements.iter().filter_map(|s| s.target.as_ref().map(|t| t.0.clone())).collect();
    Ok(Lowered { root, vars: cx.vars, origins: cx.origins, assigned, definitions })
}

struct Lowering<'g> {
    g: &'g mut Graph,
    /// Names defined outside the program (see [`lower_with`]).
    outer: HashMap<String, NodeId>,
    defined: HashMap<String, NodeId>,
    /// Free names used so far, with their first use.
    free: HashMap<String, Span>,
    vars: Vec<VarId>,
    origins: HashMap<NodeId, Span>,
}

impl Lowering<'_> {
    fn define(&mut self, name: &str, span: Span, value: NodeId) -> Result<()> {
        if callables::is_reserved(name) {
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
        if let Some(&id) = self.defined.get(name).or_else(|| self.outer.get(name)) {
            return id;
        }
        if let Some(c) = Constant::from_name(name) {
            return self.g.named(c);
        }
        let v = self.g.intern_var(name);
        if !self.free.contains_key(name) {
            self.free.insert(name.to_string(), span);
            self.vars.push(v);
        }
        self.g.var_node(v)
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
        let Some(row) = callables::lookup(name) else {
            return Err(unknown_function(name, name_span, self.defined.contains_key(name)));
        };
        if !row.args.accepts(args.len()) {
            let kind = ErrorKind::Arity {
                name: name.into(),
                expected: row.args.describe(),
                got: args.len(),
            };
            return Err(Error::at(kind, span));
        }
        match row.callable {
            Callable::Func(f) => {
                let a = self.scalars(args, name)?;
                Ok(self.g.func(f, &a))
            }
            Callable::Log => {
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
            Callable::Pow => {
                let a = self.scalars(args, name)?;
                Ok(self.g.pow(a[0], a[1]))
            }
            Callable::Reduce(r) => self.reducer(name, r, row.args, args, span),
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

    fn reducer(
        &mut self,
        name: &str,
        r: callables::Reducer,
        takes: Args,
        args: &[Expr],
        span: Span,
    ) -> Result<NodeId> {
        let numbers_ok = matches!(takes, Args::TwoLists { numbers_ok: true });
        let a = self.items(name, &args[0], numbers_ok)?;
        let b = match args.get(1) {
            Some(arg) => self.items(name, arg, numbers_ok)?,
            None => Vec::new(),
        };
        if args.len() == 2 && a.len() != b.len() {
            return Err(Error::at(
                ErrorKind::List(format!(
                    "`{name}` needs two lists of one length; got {} and {} items",
                    a.len(),
                    b.len()
                )),
                span,
            ));
        }
        Ok(reduce::expand(self.g, r, &a, &b))
    }
}

fn list_here(span: Span) -> Error {
    Error::at(
        ErrorKind::List("a list `[...]` can only be an argument of a reducer or loss".into()),
        span,
    )
    .with_hint(format!("lists go into {}", list_takers().join(", ")))
}

fn unknown_function(name: &str, span: Span, is_defined: bool) -> Error {
    let error = Error::at(ErrorKind::UnknownFunction(name.into()), span);
    if is_defined {
        return error
            .with_hint(format!("`{name}` is a name defined in the program, not a function"));
    }
    match crate::error::closest(name, CALLABLES.iter().map(|c| c.name)) {
        Some(best) => error.with_hint(format!("did you mean `{best}`?")),
        None => error.with_hint(format!(
            "known functions: {}",
            CALLABLES.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The names of the callables that take lists.
fn list_takers() -> Vec<&'static str> {
    CALLABLES.iter().filter(|c| matches!(c.callable, Callable::Reduce(_))).map(|c| c.name).collect()
}
