//! Syntax tree to graph: resolves names (assignments, declarations, constants, variables,
//! function parameters, index names), checks calls and shapes, and unrolls arrays, indexed
//! forms, builders and user functions into scalar nodes, as CasADi's SX does. Arrays are a
//! notion of this stage only: every element is an ordinary scalar node, so differentiation,
//! simplification and evaluation never see one.
//!
//! - `mod.rs`: statements, names, calls and elementwise arithmetic;
//! - `arrays.rs`: the functions of whole arrays (`@`, `transpose`, reductions, losses);
//! - `index.rs`: constant whole numbers, subscripts, ranges, indexed forms and builders, and
//!   the budget of elements that keeps a typo from building a billion of them;
//! - `value.rs`: [`Value`], a scalar or an array of nodes, and shapes in words;
//! - `origins.rs`: where each node was first written.

mod arrays;
mod index;
mod origins;
mod value;

pub use origins::Origins;
pub use value::{describe, shape_text, Value};

use super::{Func, Graph, NodeId, VarId};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::operators::callables::{self, Callable};
use crate::operators::Constant;
use crate::syntax::ast::{ChainOp, Expr, ExprKind, Form, Program, Statement};
use crate::syntax::DEFAULT_MAX_ELEMENTS;
use compact_str::CompactString;
use rustc_hash::FxHashMap as HashMap;
use value::{common_shape, element, shape_error};

/// A lowered program.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The program's result when it is a scalar; the first element of an array result.
    pub root: NodeId,
    /// The result: its shape and its elements (one, for a scalar).
    pub result: Value,
    /// The name the last statement assigns, if it is an assignment (`out = ...`).
    pub result_name: Option<String>,
    /// Its free variables (array elements included) in order of first appearance in the
    /// text; a declaration is an appearance.
    pub vars: Vec<VarId>,
    /// The declared array variables, in program order.
    pub arrays: Vec<ArrayVar>,
    /// Where each node was first written, for pointing at a subexpression.
    pub origins: Origins,
    /// The names the program assigns, in order.
    pub assigned: Vec<String>,
    /// Each name assigned a scalar, with the node of its value, in program order.
    pub definitions: Vec<(String, NodeId)>,
    /// Each name assigned an array, with its value, in program order.
    pub array_definitions: Vec<(String, Value)>,
}

/// A declared array variable: every element is a scalar variable named like `W[1,2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayVar {
    /// The declared name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its elements' variables, row by row.
    pub elements: Vec<VarId>,
}

/// The name of one element of an array: `x[2]`, `W[1,2]`; `flat` is its 0-based position,
/// row by row.
pub fn element_name(name: &str, shape: &[usize], flat: usize) -> CompactString {
    // No formatting machinery and, up to 24 bytes, no allocation: an array of a million
    // elements names a million variables. (Asking for more room would put it on the heap.)
    let (row, col) = match shape {
        [_] => (flat + 1, None),
        [_, cols] => (flat / cols + 1, Some(flat % cols + 1)),
        _ => return CompactString::new(name),
    };
    let mut digits = itoa::Buffer::new();
    let mut text = CompactString::new(name);
    text.push('[');
    text.push_str(digits.format(row));
    if let Some(col) = col {
        text.push(',');
        text.push_str(digits.format(col));
    }
    text.push(']');
    text
}

/// Lowers `program` into `g`.
pub fn lower(g: &mut Graph, program: &Program) -> Result<Lowered> {
    lower_with(g, program, &[])
}

/// Lowers `program` into `g` where the names of `outer` (another program's definitions, as
/// [`Lowered::definitions`] lists them) mean their nodes too, unless `program` defines the
/// name itself: a claimed derivative may use the formula's own names (`h1`, `out`).
pub fn lower_with(g: &mut Graph, program: &Program, outer: &[(String, NodeId)]) -> Result<Lowered> {
    lower_limited(g, program, outer, DEFAULT_MAX_ELEMENTS)
}

/// [`lower_with`], building at most `max_elements` array elements and indexed terms.
pub fn lower_limited(
    g: &mut Graph,
    program: &Program,
    outer: &[(String, NodeId)],
    max_elements: usize,
) -> Result<Lowered> {
    let outer: Vec<(String, Value)> =
        outer.iter().map(|(name, id)| (name.clone(), Value::scalar(*id))).collect();
    lower_scoped(g, program, &outer, max_elements)
}

/// [`lower_limited`] where the names of `outer` may be arrays too (another program's array
/// variables and assignments: a claimed derivative may use `W`, `h`).
pub fn lower_scoped(
    g: &mut Graph,
    program: &Program,
    outer: &[(String, Value)],
    max_elements: usize,
) -> Result<Lowered> {
    let mut cx = Lowering::new(g, outer, max_elements);
    let mut result = None;
    let mut definitions = Vec::new();
    let mut array_definitions = Vec::new();
    let assigned: Vec<String> = program
        .statements
        .iter()
        .filter(|s| s.form == Form::Value)
        .filter_map(|s| s.target.as_ref().map(|t| t.0.clone()))
        .collect();
    let assigned_names: rustc_hash::FxHashSet<&str> = assigned.iter().map(String::as_str).collect();
    for statement in &program.statements {
        result = None;
        let Some((name, span)) = &statement.target else {
            result = Some(cx.expr(&statement.expr)?);
            continue;
        };
        match &statement.form {
            Form::Declaration => {
                // (a name assigned before its declaration is refused by `declare` first)
                let assigned_later = assigned_names.contains(name.as_str());
                cx.declare(name, *span, &statement.expr, assigned_later)?;
            }
            Form::Function(params) => cx.define_function(name, *span, params, &statement.expr)?,
            Form::Value => {
                let value = cx.expr(&statement.expr)?;
                cx.define(name, *span, value.clone())?;
                match value.as_scalar() {
                    Some(id) => definitions.push((name.clone(), id)),
                    None => array_definitions.push((name.clone(), value.clone())),
                }
                result = Some(value);
            }
        }
    }
    let last = program.statements.last().ok_or_else(|| Error::new(ErrorKind::Empty))?;
    let result = result.ok_or_else(|| no_result(last))?;
    let lowered = Lowered {
        root: result.elems[0],
        result_name: result_name(last),
        result,
        vars: cx.vars,
        arrays: cx.arrays,
        origins: cx.origins,
        assigned,
        definitions,
        array_definitions,
    };
    Ok(lowered)
}

/// The name of the result: the last statement's target, or the name it is (`...; out`).
fn result_name(last: &Statement) -> Option<String> {
    match (&last.target, &last.expr.kind) {
        (Some((name, _)), _) | (None, ExprKind::Name(name)) => Some(name.clone()),
        _ => None,
    }
}

fn no_result(last: &Statement) -> Error {
    let span = last.target.as_ref().map_or(last.expr.span, |t| t.1);
    let what = match last.form {
        Form::Declaration => "a declaration",
        _ => "a function definition",
    };
    Error::at(ErrorKind::Syntax(format!("the program ends with {what}, not a result")), span)
        .with_hint("the last statement is the result: end with an expression that uses it")
}

/// The values of a call's arguments (inline up to three, the most a built-in takes).
type Values = smallvec::SmallVec<[Value; 3]>;

/// What a local name stands for: an index's number, made a node only where the body reads
/// it as a value (a subscript such as `x[i + 1]` reads it as a number, see
/// `Lowering::whole`), or a function parameter's value.
#[derive(Clone)]
enum Local {
    Index(i64),
    Value(Value),
}

/// A name the program defined, with its place in the program (for what a function sees).
#[derive(Clone, Debug)]
struct Named {
    value: Value,
    order: usize,
}

/// An argument of a call as the memo of calls knows it: a scalar by its node; an array by
/// its shared elements (the memo keeps them, so that the address names them alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ArgKey {
    /// One node (a scalar, or an array of one element), with the dimensions.
    One(NodeId, usize, usize),
    /// The address of the shared elements, and the dimensions.
    Shared(usize, usize, usize),
}

impl ArgKey {
    fn of(v: &Value) -> ArgKey {
        let rows = v.shape.first().copied().unwrap_or(0);
        let cols = v.shape.get(1).copied().unwrap_or(0);
        match v.elems.shared_address() {
            None => ArgKey::One(v.elems[0], rows, cols),
            Some(address) => ArgKey::Shared(address, rows, cols),
        }
    }
}

/// The work a call of a user function counts (beside the expressions of its body): its
/// frame and its memo. A tree of calls whose arguments all differ (`f(sin(a)) + f(cos(a))`
/// nested 40 deep) is refused after some hundred thousand calls, in seconds.
const CALL_WORK: u64 = 64;

/// A call's value, with the arguments its key points at, kept alive.
#[derive(Debug)]
struct Memo {
    value: Value,
    _args: Values,
}

/// A user function: its parameters and body, and its place in the program.
#[derive(Clone, Copy, Debug)]
struct Function<'p> {
    params: &'p [(String, Span)],
    body: &'p Expr,
    order: usize,
}

struct Lowering<'g, 'p> {
    g: &'g mut Graph,
    /// Names defined outside the program (see [`lower_with`], [`lower_scoped`]).
    outer: HashMap<String, Value>,
    /// Assigned names and declared variables.
    defined: HashMap<String, Named>,
    functions: HashMap<String, Function<'p>>,
    /// Declared shapes that an assignment further down will give a value.
    pending: HashMap<String, Vec<usize>>,
    /// Index names and function parameters in scope, innermost last.
    locals: Vec<(String, Local)>,
    /// Only definitions made before this place are visible (inside a function body).
    visible: usize,
    /// The place of the next definition.
    order: usize,
    /// The functions being called, outermost first.
    calling: Vec<String>,
    /// The value of each call made, by function and arguments: a call again with the same
    /// arguments (as in `g(a) = f(a) + f(a)`, nested) is the same nodes, found, not built
    /// again, so that nested calls take time linear in the text, not exponential.
    memo: HashMap<(usize, smallvec::SmallVec<[ArgKey; 4]>), Memo>,
    /// Free names used so far, with their first use.
    free: HashMap<String, Span>,
    vars: Vec<VarId>,
    arrays: Vec<ArrayVar>,
    origins: Origins,
    budget: index::Budget,
}

impl<'g, 'p> Lowering<'g, 'p> {
    fn new(g: &'g mut Graph, outer: &[(String, Value)], max_elements: usize) -> Self {
        Lowering {
            g,
            outer: outer.iter().cloned().collect(),
            defined: HashMap::default(),
            functions: HashMap::default(),
            pending: HashMap::default(),
            locals: Vec::new(),
            visible: usize::MAX,
            order: 0,
            calling: Vec::new(),
            memo: HashMap::default(),
            free: HashMap::default(),
            vars: Vec::new(),
            arrays: Vec::new(),
            origins: Origins::default(),
            budget: index::Budget::new(max_elements),
        }
    }

    /// Refuses a name that cannot be given a meaning here: a built-in, a name already
    /// defined, or one used before this line as a variable.
    fn claim(&mut self, name: &str, span: Span) -> Result<()> {
        if callables::is_reserved(name) {
            return Err(Error::at(ErrorKind::ReservedName(name.into()), span)
                .with_hint("choose another name"));
        }
        if self.defined.contains_key(name) || self.functions.contains_key(name) {
            return Err(Error::at(ErrorKind::Redefined(name.into()), span)
                .with_hint("give the new value a new name"));
        }
        if let Some(&used) = self.free.get(name) {
            return Err(Error::at(ErrorKind::UsedBeforeDefined(name.into()), used)
                .with_hint(format!("move the definition of `{name}` above its first use")));
        }
        Ok(())
    }

    fn define(&mut self, name: &str, span: Span, value: Value) -> Result<()> {
        match self.pending.remove(name) {
            Some(shape) if shape != value.shape => {
                return Err(shape_error(
                    format!(
                        "`{name}` is declared {} but assigned {}",
                        shape_text(&shape),
                        value.describe()
                    ),
                    span,
                ))
            }
            Some(_) => {}
            None => self.claim(name, span)?,
        }
        self.defined.insert(name.to_string(), Named { value, order: self.order });
        self.order += 1;
        Ok(())
    }

    /// `name: [dims]`: a shape for a later assignment, or an array of variables.
    fn declare(&mut self, name: &str, span: Span, dims: &Expr, assigned_later: bool) -> Result<()> {
        self.claim(name, span)?;
        if self.pending.contains_key(name) {
            return Err(Error::at(ErrorKind::Redefined(name.into()), span)
                .with_hint("a name is declared once"));
        }
        let shape = self.dimensions(dims)?;
        // (saturating: `[1e15, 1e15]` must be refused, not wrap round to a small count)
        let size = shape.iter().fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
        self.budget.spend(size, dims.span)?;
        if assigned_later {
            self.pending.insert(name.to_string(), shape);
            return Ok(());
        }
        let count: usize = shape.iter().product();
        self.g.reserve_vars(count);
        self.g.reserve(count);
        let elements: Vec<VarId> =
            (0..count).map(|k| self.g.intern_var_owned(element_name(name, &shape, k))).collect();
        self.vars.extend(&elements);
        let nodes: Vec<NodeId> = elements.iter().map(|&v| self.g.var_node(v)).collect();
        for &node in &nodes {
            self.origins.note(node, span);
        }
        self.arrays.push(ArrayVar { name: name.to_string(), shape: shape.clone(), elements });
        self.defined.insert(
            name.to_string(),
            Named { value: Value::array(shape, nodes), order: self.order },
        );
        self.order += 1;
        Ok(())
    }

    fn define_function(
        &mut self,
        name: &str,
        span: Span,
        params: &'p [(String, Span)],
        body: &'p Expr,
    ) -> Result<()> {
        self.claim(name, span)?;
        for (k, (param, at)) in params.iter().enumerate() {
            if params[..k].iter().any(|(p, _)| p == param) {
                return Err(Error::at(ErrorKind::Redefined(param.clone()), *at)
                    .with_hint("give each parameter its own name"));
            }
            if callables::is_reserved(param) {
                return Err(Error::at(ErrorKind::ReservedName(param.clone()), *at)
                    .with_hint("choose another name"));
            }
        }
        self.functions.insert(name.to_string(), Function { params, body, order: self.order });
        self.order += 1;
        Ok(())
    }

    fn note(&mut self, value: &Value, span: Span) {
        for &id in value.elems.iter() {
            self.origins.note(id, span);
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<Value> {
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || self.expr_unguarded(e))
    }

    fn expr_unguarded(&mut self, e: &Expr) -> Result<Value> {
        self.count(e)?;
        let value = match &e.kind {
            ExprKind::Number(v) => Value::scalar(self.g.constant(*v)),
            ExprKind::Name(name) => self.name(name, e.span)?,
            ExprKind::Neg(inner) => {
                let a = self.operand(inner)?;
                self.zip(&[a], "-", e.span, |g, x| g.neg(x[0]))?
            }
            ExprKind::Pow(base, exponent) => {
                let values = [self.operand(base)?, self.operand(exponent)?];
                self.zip(&values, "^", e.span, |g, x| g.pow(x[0], x[1]))?
            }
            ExprKind::Chain(first, rest) => self.chain(first, rest)?,
            ExprKind::Call { name, name_span, args } => {
                self.call(name, *name_span, args, e.span)?
            }
            ExprKind::List(items) => self.list(items, e.span)?,
            ExprKind::Indexed { name, name_span, ranges, body } => {
                self.indexed(name, *name_span, ranges, body)?
            }
            ExprKind::Builder { body, ranges } => self.builder(body, ranges, e.span)?,
            ExprKind::Index(base, subscripts) => self.index(base, subscripts, e.span)?,
        };
        // A name or an element stands for nodes made (and noted) where they were defined.
        if value.is_scalar() || !matches!(e.kind, ExprKind::Name(_) | ExprKind::Index(..)) {
            self.note(&value, e.span);
        }
        Ok(value)
    }

    /// Counts the evaluation of `e` against the budget when it is repeated work.
    fn count(&mut self, e: &Expr) -> Result<()> {
        self.count_parts(1, e.span)
    }

    /// Counts the evaluation of `parts` expressions at `span`.
    fn count_parts(&mut self, parts: u64, span: Span) -> Result<()> {
        if !self.budget.repeat.is_empty() || !self.calling.is_empty() {
            // Repeated work: each evaluation counts (outside ranges and functions, the
            // text's own size bounds it).
            self.budget.work(parts, span)?;
        }
        Ok(())
    }

    /// The innermost binding of `name` among the indices and parameters in scope.
    fn local(&self, name: &str) -> Option<&Local> {
        self.locals.iter().rev().find(|(n, _)| n == name).map(|(_, local)| local)
    }

    fn name(&mut self, name: &str, span: Span) -> Result<Value> {
        match self.local(name) {
            Some(&Local::Index(k)) => return Ok(Value::scalar(self.g.constant(k as f64))),
            Some(Local::Value(v)) => return Ok(v.clone()),
            None => {}
        }
        if let Some(named) = self.defined.get(name) {
            if named.order < self.visible {
                return Ok(named.value.clone());
            }
            return Err(defined_after_function(name, span));
        }
        if let Some(value) = self.outer.get(name) {
            return Ok(value.clone());
        }
        if let Some(c) = Constant::from_name(name) {
            return Ok(Value::scalar(self.g.named(c)));
        }
        if self.pending.contains_key(name) {
            return Err(Error::at(ErrorKind::UsedBeforeDefined(name.into()), span)
                .with_hint(format!("`{name}` is declared; assign it before using it")));
        }
        if self.functions.contains_key(name) {
            return Err(Error::at(ErrorKind::List(format!("`{name}` is a function")), span)
                .with_hint(format!("call it: `{name}(...)`")));
        }
        let v = self.g.intern_var(name);
        if !self.free.contains_key(name) {
            self.free.insert(name.to_string(), span);
            self.vars.push(v);
        }
        Ok(Value::scalar(self.g.var_node(v)))
    }

    /// An operand of an arithmetic operator. A one-item list literal there is refused: in
    /// Python `[x]*2` repeats the list, here it would silently be the vector `[2*x]`.
    fn operand(&mut self, e: &Expr) -> Result<Value> {
        if let ExprKind::List(items) = &e.kind {
            if items.len() == 1 {
                return Err(Error::at(
                    ErrorKind::List(
                        "a one-item list `[a]` cannot be an operand of arithmetic".into(),
                    ),
                    e.span,
                )
                .with_hint(
                    "for the number, drop the brackets; arithmetic on lists is element by \
                     element (`[a, b]*2` is `[2*a, 2*b]`), it never repeats a list",
                ));
            }
        }
        self.expr(e)
    }

    fn chain(&mut self, first: &Expr, rest: &[(ChainOp, Expr)]) -> Result<Value> {
        let mut acc = self.operand(first)?;
        for (op, e) in rest {
            let b = self.operand(e)?;
            let span = Span::new(first.span.start, e.span.end);
            let pair = [acc, b];
            acc = match op {
                ChainOp::Add => self.zip(&pair, "+", span, |g, x| g.add(x[0], x[1]))?,
                ChainOp::Sub => self.zip(&pair, "-", span, |g, x| g.sub(x[0], x[1]))?,
                ChainOp::Mul => self.zip(&pair, "*", span, |g, x| g.mul(x[0], x[1]))?,
                ChainOp::Div => self.zip(&pair, "/", span, |g, x| g.div(x[0], x[1]))?,
                ChainOp::MatMul => self.matmul(&pair[0], &pair[1], span)?,
            };
            self.note(&acc, span);
        }
        Ok(acc)
    }

    /// `f` applied element by element to `values` of one shape, a scalar standing for every
    /// element; any other mix of shapes is an error naming them, at `span`.
    fn zip(
        &mut self,
        values: &[Value],
        what: &str,
        span: Span,
        mut f: impl FnMut(&mut Graph, &[NodeId]) -> NodeId,
    ) -> Result<Value> {
        if values.iter().all(Value::is_scalar) {
            // (the common case, at once: one element, nothing to check or count)
            let args: smallvec::SmallVec<[NodeId; 3]> = values.iter().map(|v| v.elems[0]).collect();
            return Ok(Value::scalar(f(self.g, &args)));
        }
        let shape = common_shape(values).map_err(|(a, b)| {
            shape_error(
                format!(
                    "`{what}` needs arrays of one shape, or an array and a scalar; got {} and {}",
                    value::named_shape(&a),
                    value::named_shape(&b)
                ),
                span,
            )
        })?;
        let count: usize = shape.iter().product();
        if !shape.is_empty() {
            self.budget.spend(count as u64, span)?;
        }
        let mut args = smallvec::SmallVec::<[NodeId; 3]>::new();
        let elems = (0..count)
            .map(|k| {
                args.clear();
                args.extend(values.iter().map(|v| element(v, k)));
                f(self.g, &args)
            })
            .collect();
        Ok(Value::of(shape, elems))
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) -> Result<Value> {
        if let Some(&function) = self.functions.get(name) {
            return self.call_user(name, function, args, span);
        }
        let Some(row) = callables::lookup_call(name, args.len()) else {
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
        let takes_log = matches!(row.callable, Callable::Func(Func::Ln) | Callable::Log);
        let values = match takes_log && args.len() == 1 {
            true => match self.log_argument(&args[0])? {
                index::LogArgument::LogSumExp(lse) => return Ok(Value::scalar(lse)),
                index::LogArgument::Value(value) => smallvec::smallvec![value],
            },
            false => self.values(args)?,
        };
        match row.callable {
            Callable::Func(f) => self.zip(&values, name, span, |g, x| g.func(f, x)),
            Callable::Log => self.zip(&values, name, span, |g, x| {
                let ln_x = g.func(Func::Ln, &[x[0]]);
                match x.get(1) {
                    Some(&base) => {
                        let ln_b = g.func(Func::Ln, &[base]);
                        g.div(ln_x, ln_b)
                    }
                    None => ln_x,
                }
            }),
            Callable::Pow => self.zip(&values, name, span, |g, x| g.pow(x[0], x[1])),
            Callable::Reduce(r) => self.reduce(name, r, &values, args, span),
            Callable::Array(f) => self.array_fn(name, f, &values, args, span),
        }
    }

    fn values(&mut self, args: &[Expr]) -> Result<Values> {
        args.iter().map(|a| self.expr(a)).collect()
    }

    /// A call of a user function: its arguments are lowered where the call stands, its body
    /// with only the parameters and what was defined before the function.
    fn call_user(
        &mut self,
        name: &str,
        function: Function<'p>,
        args: &[Expr],
        span: Span,
    ) -> Result<Value> {
        if function.order >= self.visible {
            return Err(if self.calling.iter().any(|c| c == name) {
                Error::at(ErrorKind::Recursion(name.into()), span)
            } else {
                defined_after_function(name, span)
            });
        }
        if args.len() != function.params.len() {
            let n = function.params.len();
            let expected = format!("{n} argument{}", if n == 1 { "" } else { "s" });
            let kind = ErrorKind::Arity { name: name.into(), expected, got: args.len() };
            return Err(Error::at(kind, span));
        }
        let values = self.values(args)?;
        let key = (function.order, values.iter().map(ArgKey::of).collect());
        if let Some(memo) = self.memo.get(&key) {
            return Ok(memo.value.clone());
        }
        self.budget.spend(1, span)?;
        self.budget.work(CALL_WORK, span)?;
        let args = values.clone();
        let params = function
            .params
            .iter()
            .map(|(p, _)| p.clone())
            .zip(values.into_iter().map(Local::Value))
            .collect();
        let locals = std::mem::replace(&mut self.locals, params);
        let visible = std::mem::replace(&mut self.visible, function.order);
        self.calling.push(name.to_string());
        let result = self.expr(function.body);
        self.calling.pop();
        self.visible = visible;
        self.locals = locals;
        if let Ok(value) = &result {
            self.memo.insert(key, Memo { value: value.clone(), _args: args });
        }
        result
    }

    /// `[a, b, c]`: a vector of scalars, or a matrix whose rows are vectors of one length.
    fn list(&mut self, items: &[Expr], span: Span) -> Result<Value> {
        let values = self.values(items)?;
        self.stack(values.into_vec(), span, "the items of a list")
    }

    /// Scalars as a vector, or vectors of one length as the rows of a matrix.
    fn stack(&mut self, values: Vec<Value>, span: Span, what: &str) -> Result<Value> {
        let Some(first) = values.first() else {
            return Err(Error::at(ErrorKind::List("a list needs at least one item".into()), span));
        };
        let shape = first.shape.clone();
        if let Some(odd) = values.iter().find(|v| v.shape != shape) {
            return Err(shape_error(
                format!(
                    "{what} must have one shape; got {} and {}",
                    value::named_shape(&first.shape),
                    value::named_shape(&odd.shape)
                ),
                span,
            ));
        }
        if shape.len() > 1 {
            return Err(shape_error(
                format!("arrays have at most two dimensions; {what} are matrices"),
                span,
            ));
        }
        self.budget.spend((values.len() * first.elems.len()) as u64, span)?;
        let mut dims = vec![values.len()];
        dims.extend(shape);
        let elems = values.iter().flat_map(|v| v.elems.iter().copied()).collect();
        Ok(Value::array(dims, elems))
    }
}

fn defined_after_function(name: &str, span: Span) -> Error {
    Error::at(ErrorKind::UsedBeforeDefined(name.into()), span)
        .with_hint(format!("a function sees only what is defined above it; move `{name}` up"))
}

fn unknown_function(name: &str, span: Span, is_defined: bool) -> Error {
    let error = Error::at(ErrorKind::UnknownFunction(name.into()), span);
    if is_defined {
        return error
            .with_hint(format!("`{name}` is a name defined in the program, not a function"));
    }
    let names = callables::names();
    match crate::error::closest(name, names.iter().copied()) {
        Some(best) => error.with_hint(format!("did you mean `{best}`?")),
        None => error.with_hint(format!("known functions: {}", names.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::element_name;

    /// Element names read as the user indexes them and, being short, are kept inline: a
    /// declaration of a large array allocates nothing a name.
    #[test]
    fn element_names_are_written_out_without_an_allocation() {
        let names = [
            (element_name("x", &[160_000], 0), "x[1]"),
            (element_name("x", &[160_000], 159_999), "x[160000]"),
            (element_name("W", &[300, 300], 301), "W[2,2]"),
            (
                element_name("weights", &[1_000_000, 1_000_000], 999_999_999_999),
                "weights[1000000,1000000]",
            ),
        ];
        for (name, text) in &names {
            assert_eq!(name, text);
            assert!(!name.is_heap_allocated(), "{name} on the heap");
        }
    }
}
