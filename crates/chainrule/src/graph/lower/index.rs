//! Whole-number constants and what is built from them: declared dimensions, subscripts
//! (`x[i]`, `W[i, :]`), ranges (`i = 1..n`), the indexed forms `sum`/`prod`/`max`/`min`
//! and array builders. A [`Budget`] counts the elements and terms built against the limit.

use super::value::{shape_error, Value};
use super::{Local, Lowering};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::graph::reduce;
use crate::graph::NodeId;
use crate::operators::callables::Reducer;
use crate::syntax::ast::{ChainOp, Expr, ExprKind, Range, Subscript};

/// The largest whole number an index, bound or dimension may be.
const MAX_WHOLE: i64 = 1_000_000_000_000_000;

/// The argument of a one-argument `ln` or `log`, as [`Lowering::log_argument`] finds it.
pub(super) enum LogArgument {
    /// `ln` of the argument: a logsumexp, made without the argument's own nodes.
    LogSumExp(NodeId),
    /// The argument's value.
    Value(Value),
}

/// The elements and terms a formula has built, against its limit. Inside ranges, a cost is
/// counted as often as the enclosing ranges will repeat it, so that a formula past the
/// limit is refused at its first term, not after building ten million.
///
/// Beside the elements and terms (the count SPEC "Arrays" documents), the budget counts the
/// work of lowering that the count does not see: each expression evaluated inside a range
/// or a function body, each element a reduction reads or a row copies, each call of a user
/// function. Its limit is
/// [`WORK_PER_ELEMENT`] times the element limit (and at least [`MIN_WORK`]), so that a
/// small body repeated ten million times, or a row of a large matrix taken in every term,
/// is refused at once rather than running for minutes.
pub(super) struct Budget {
    used: u64,
    limit: usize,
    work: u64,
    work_limit: u64,
    /// Iterations left (this one included) of each enclosing range, outermost first.
    pub(super) repeat: Vec<u64>,
}

/// The work of lowering allowed per element of the limit.
pub(super) const WORK_PER_ELEMENT: u64 = 4;

/// The least work allowed, whatever the element limit: a small `--max-elements` limits
/// arrays, not the scalar formulas around them.
pub(super) const MIN_WORK: u64 = 10_000_000;

impl Budget {
    pub(super) fn new(limit: usize) -> Budget {
        let work_limit = (limit as u64).saturating_mul(WORK_PER_ELEMENT).max(MIN_WORK);
        Budget { used: 0, limit, work: 0, work_limit, repeat: Vec::new() }
    }

    /// How many times a cost counted now will be repeated by the enclosing ranges.
    pub(super) fn repeats(&self) -> u64 {
        self.repeat.iter().fold(1u64, |acc, &r| acc.saturating_mul(r))
    }

    fn refuse(&self, span: Span) -> Error {
        Error::at(ErrorKind::TooManyElements { limit: self.limit }, span)
            .with_hint("check the bounds and shapes, or raise the limit (--max-elements N)")
    }

    fn refuse_work(&self, span: Span) -> Error {
        Error::at(ErrorKind::TooManyElements { limit: self.limit }, span).with_hint(
            "this is repeated too often (by ranges whose terms read or copy whole arrays, or by \
             calls of functions with ever new arguments): check the bounds, or raise the limit \
             (--max-elements N)",
        )
    }

    /// Counts `n` elements or terms built at `span` (work too).
    pub(super) fn spend(&mut self, n: u64, span: Span) -> Result<()> {
        let repeat = self.repeats();
        let projected = self.used.saturating_add(n.saturating_mul(repeat));
        if projected > self.limit as u64 {
            return Err(self.refuse(span));
        }
        self.used += n;
        self.work(n, span)
    }

    /// The work counted so far.
    pub(super) fn work_done(&self) -> u64 {
        self.work
    }

    /// Refuses at `span` when the work of one iteration, `each`, repeated for every
    /// iteration left of the enclosing ranges (the current one done), passes the limit.
    pub(super) fn project(&self, each: u64, span: Span) -> Result<()> {
        let left = self.repeats().saturating_sub(1);
        match self.work.saturating_add(each.saturating_mul(left)) > self.work_limit {
            true => Err(self.refuse_work(span)),
            false => Ok(()),
        }
    }

    /// Counts `n` units of work at `span`: elements read or copied, expressions evaluated.
    pub(super) fn work(&mut self, n: u64, span: Span) -> Result<()> {
        let projected = self.work.saturating_add(n.saturating_mul(self.repeats()));
        if projected > self.work_limit {
            return Err(self.refuse_work(span));
        }
        self.work += n;
        Ok(())
    }
}

impl Lowering<'_, '_> {
    /// The value of a whole-number constant expression (`3`, `n`, `i + 1`, `len(x)`).
    pub(super) fn whole(&mut self, e: &Expr, what: &str) -> Result<i64> {
        if let Some((k, parts)) = self.index_number(e) {
            self.count_parts(parts, e.span)?;
            return Ok(k);
        }
        let value = self.expr(e)?;
        let index_error = |message: String| Err(Error::at(ErrorKind::Index(message), e.span));
        let Some(node) = value.as_scalar() else {
            return index_error(format!("{what} must be a whole number, not {}", value.describe()));
        };
        let Some(number) = self.g.number_of(node) else {
            return Err(self.not_constant(what, node, e.span));
        };
        let v = number.to_f64();
        if v.fract() != 0.0 {
            return index_error(format!("{what} must be a whole number; got {v}"));
        }
        if v.abs() > MAX_WHOLE as f64 {
            return index_error(format!(
                "{what} must be a whole number of at most 1e15; got {v:e}"
            ));
        }
        Ok(v as i64)
    }

    /// `e` as a whole number without making a node, and the number of its parts, when it
    /// is made of index names and whole numbers with `+`, `-` and `*`, every part at most
    /// [`MAX_WHOLE`] (so that it is the number lowering it would give): the common subscripts
    /// `x[i]`, `x[i + 1]`, `A[2*i - 1, j]`. Else `None`, and the caller lowers it. (An index
    /// is within the bound already: its range's bounds were.)
    fn index_number(&self, e: &Expr) -> Option<(i64, u64)> {
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || match &e.kind {
            ExprKind::Number(v) if v.fract() == 0.0 && v.abs() <= MAX_WHOLE as f64 => {
                Some((*v as i64, 1))
            }
            ExprKind::Name(name) => match self.local(name)? {
                Local::Index(k) => Some((*k, 1)),
                Local::Value(_) => None,
            },
            ExprKind::Neg(inner) => self.index_number(inner).map(|(k, parts)| (-k, parts + 1)),
            ExprKind::Chain(first, rest) => {
                let (mut k, mut parts) = self.index_number(first)?;
                for (op, operand) in rest {
                    let (b, more) = self.index_number(operand)?;
                    k = match op {
                        ChainOp::Add => k.checked_add(b)?,
                        ChainOp::Sub => k.checked_sub(b)?,
                        ChainOp::Mul => k.checked_mul(b)?,
                        ChainOp::Div | ChainOp::MatMul => return None,
                    };
                    if k.abs() > MAX_WHOLE {
                        return None;
                    }
                    parts += more;
                }
                Some((k, parts + 1))
            }
            _ => None,
        })
    }

    /// The error for an index, bound or dimension that is not a constant: it names the
    /// variable it depends on (an unknown index name is such a variable) and the index
    /// names in scope.
    fn not_constant(&self, what: &str, node: crate::graph::NodeId, span: Span) -> Error {
        use crate::graph::Op;
        let variable = crate::graph::walk::reachable(self.g, &[node]).into_iter().find_map(|n| {
            match self.g.op(n) {
                Op::Var(v) => Some(self.g.var_name(v).to_string()),
                _ => None,
            }
        });
        let message = match &variable {
            Some(name) => format!(
                "{what} must be a constant whole number, but it depends on the variable `{name}`"
            ),
            None => format!("{what} must be a constant whole number"),
        };
        let indices: Vec<&str> = self
            .locals
            .iter()
            .filter(|(_, local)| match local {
                Local::Index(_) => true,
                Local::Value(v) => v.as_scalar().is_some_and(|n| self.g.number_of(n).is_some()),
            })
            .map(|(n, _)| n.as_str())
            .collect();
        let hint = match (variable, indices.as_slice()) {
            (Some(name), []) if !name.contains('[') => format!(
                "`{name}` is not an index name here: index names are those of the enclosing \
                 `sum(i = 1..n, ...)` or `[... for i = 1..n]`"
            ),
            (Some(name), names) if !name.contains('[') => format!(
                "`{name}` is not an index name here; the index names here are {}",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
            _ => "it may use numbers, index names, len(v), rows(A), cols(A), names assigned a \
                  whole number, and + - * of those"
                .to_string(),
        };
        Error::at(ErrorKind::Index(message), span).with_hint(hint)
    }

    /// The dimensions of a declaration: `[4, 2]`, each at least 1, one or two of them.
    pub(super) fn dimensions(&mut self, dims: &Expr) -> Result<Vec<usize>> {
        let ExprKind::List(items) = &dims.kind else {
            unreachable!("the grammar gives a declaration a list");
        };
        if items.is_empty() || items.len() > 2 {
            return Err(shape_error(
                format!("a declaration gives one or two dimensions; got {}", items.len()),
                dims.span,
            )
            .with_hint(
                "a vector is `x: [3]`, a matrix `W: [4, 2]`; an undeclared name is a scalar",
            ));
        }
        items
            .iter()
            .map(|item| match self.whole(item, "a dimension")? {
                n if n >= 1 => Ok(n as usize),
                n => Err(Error::at(
                    ErrorKind::Index(format!("a dimension must be at least 1; got {n}")),
                    item.span,
                )),
            })
            .collect()
    }

    /// `base[subscripts]`: an element, a row, a column, or the whole array.
    pub(super) fn index(
        &mut self,
        base: &Expr,
        subscripts: &[Subscript],
        span: Span,
    ) -> Result<Value> {
        let value = self.expr(base)?;
        if value.is_scalar() {
            return Err(Error::at(
                ErrorKind::Index("only an array can be indexed; this is a scalar".into()),
                base.span,
            ));
        }
        if subscripts.len() != value.shape.len() {
            return Err(Error::at(
                ErrorKind::Index(format!(
                    "{} takes {} subscript{}; got {}",
                    value.describe(),
                    value.shape.len(),
                    if value.shape.len() == 1 { "" } else { "s" },
                    subscripts.len()
                )),
                span,
            )
            .with_hint(
                "write `x[i]` for a vector, `W[i, j]`, `W[i, :]` or `W[:, j]` for a matrix",
            ));
        }
        let mut picks = smallvec::SmallVec::<[Option<usize>; 2]>::new();
        for (subscript, &dim) in subscripts.iter().zip(&value.shape) {
            picks.push(match subscript {
                Subscript::All(_) => None,
                Subscript::At(e) => Some(self.subscript(e, dim, &value)?),
            });
        }
        if picks.len() == 2 && picks.iter().any(Option::is_none) {
            // a row or a column: a copy of its elements
            self.budget.work(value.shape.iter().max().copied().unwrap_or(0) as u64, span)?;
        }
        Ok(match (value.shape.as_slice(), picks.as_slice()) {
            (_, [Some(i)]) => Value::scalar(value.elems[*i]),
            ([_, cols], [Some(i), Some(j)]) => Value::scalar(value.elems[i * cols + j]),
            ([_, _], [Some(i), None]) => Value::array(vec![value.shape[1]], value.row(*i).to_vec()),
            ([rows, cols], [None, Some(j)]) => {
                Value::array(vec![*rows], (0..*rows).map(|i| value.elems[i * cols + j]).collect())
            }
            _ => value,
        })
    }

    /// A subscript's 0-based position in a dimension of `dim`.
    fn subscript(&mut self, e: &Expr, dim: usize, of: &Value) -> Result<usize> {
        let k = self.whole(e, "an index")?;
        if k < 1 || k > dim as i64 {
            return Err(Error::at(
                ErrorKind::Index(format!(
                    "index {k} is out of range for {} (indices 1..{dim})",
                    of.describe()
                )),
                e.span,
            ));
        }
        Ok(k as usize - 1)
    }

    /// Calls `each` once per value of the ranges (later ranges may use earlier indices),
    /// with the index names bound to their numbers.
    fn each_index(
        &mut self,
        ranges: &[Range],
        each: &mut dyn FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let Some((range, inner)) = ranges.split_first() else { return each(self) };
        if let Some(again) = inner.iter().find(|r| r.name == range.name) {
            return Err(Error::at(
                ErrorKind::Index(format!("the index `{}` is named twice", range.name)),
                again.name_span,
            )
            .with_hint("give each range of one form its own index name"));
        }
        if crate::operators::callables::is_reserved(&range.name) {
            return Err(Error::at(ErrorKind::ReservedName(range.name.clone()), range.name_span)
                .with_hint("choose another index name"));
        }
        let lo = self.whole(&range.lo, "a range bound")?;
        let hi = self.whole(&range.hi, "a range bound")?;
        let count = (hi - lo + 1).max(0) as u64;
        let span = Span::new(range.name_span.start, range.hi.span.end);
        self.budget.spend(count, span)?;
        self.budget.repeat.push(count);
        let mut result = Ok(());
        let before = self.budget.work_done();
        let nodes_before = self.g.len();
        // The index name is bound once, its number set at each index (a name in scope for
        // the body and the inner ranges, and only there).
        let slot = self.locals.len();
        for k in lo..=hi {
            *self.budget.repeat.last_mut().expect("pushed above") = (hi - k + 1) as u64;
            let number = Local::Index(k);
            match k == lo {
                true => self.locals.push((range.name.clone(), number)),
                false => self.locals[slot].1 = number,
            }
            result = self.each_index(inner, each);
            if result.is_ok() && k == lo {
                // The first iteration's work, as often as the ranges will repeat it.
                let first = self.budget.work_done() - before;
                result = self.budget.project(first, span);
                // Room for as many new nodes again at every index left, made once rather
                // than grown (and the interning table built again) a few times on the way.
                let left = self.budget.repeats().saturating_sub(1);
                let nodes = (self.g.len() - nodes_before) as u64;
                self.g.reserve(nodes.saturating_mul(left).min(self.g.node_limit() as u64) as usize);
            }
            if result.is_err() {
                break;
            }
        }
        self.locals.truncate(slot);
        self.budget.repeat.pop();
        result
    }

    /// The body's value at every index of `ranges`, in order.
    fn collect(&mut self, ranges: &[Range], body: &Expr) -> Result<Vec<Value>> {
        let mut values = Vec::new();
        self.each_index(ranges, &mut |cx| {
            values.push(cx.expr(body)?);
            Ok(())
        })?;
        Ok(values)
    }

    /// `sum(i = 1..n, body)`, `prod`, `max`, `min`: the terms combined element by element.
    pub(super) fn indexed(
        &mut self,
        name: &str,
        name_span: Span,
        ranges: &[Range],
        body: &Expr,
    ) -> Result<Value> {
        let (reducer, terms) = self.indexed_terms(name, name_span, ranges, body)?;
        self.reduce_terms(reducer, name, name_span, body, terms)
    }

    /// The argument of a one-argument `ln` or `log`. When it is an indexed sum whose terms
    /// are `exp` calls, the constructors would rewrite `ln` of it to the logsumexp of their
    /// exponents: that is found from the terms at once, without the additions of the sum,
    /// which the rewrite would leave unused.
    pub(super) fn log_argument(&mut self, arg: &Expr) -> Result<LogArgument> {
        let ExprKind::Indexed { name, name_span, ranges, body } = &arg.kind else {
            return Ok(LogArgument::Value(self.expr(arg)?));
        };
        if name != "sum" {
            return Ok(LogArgument::Value(self.expr(arg)?));
        }
        // What `expr` does for `arg`, the logsumexp aside.
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || {
            self.count(arg)?;
            let (reducer, terms) = self.indexed_terms(name, *name_span, ranges, body)?;
            let scalars: Option<Vec<NodeId>> = terms.iter().map(Value::as_scalar).collect();
            if let Some(lse) = scalars.and_then(|t| self.g.ln_of_sum_of_exps(&t)) {
                return Ok(LogArgument::LogSumExp(lse));
            }
            let value = self.reduce_terms(reducer, name, *name_span, body, terms)?;
            self.note(&value, arg.span);
            Ok(LogArgument::Value(value))
        })
    }

    /// The reducer of the indexed form `name` and its terms, one per index.
    fn indexed_terms(
        &mut self,
        name: &str,
        name_span: Span,
        ranges: &[Range],
        body: &Expr,
    ) -> Result<(Reducer, Vec<Value>)> {
        let reducer = match name {
            "sum" => Reducer::Sum,
            "prod" => Reducer::Prod,
            "max" => Reducer::Max,
            "min" => Reducer::Min,
            _ => {
                return Err(Error::at(
                    ErrorKind::Syntax(format!("`{name}` has no indexed form")),
                    name_span,
                )
                .with_hint("the indexed forms are sum, prod, max and min: `sum(i = 1..n, x[i])`"))
            }
        };
        Ok((reducer, self.collect(ranges, body)?))
    }

    /// The terms of the indexed form `name` combined element by element.
    fn reduce_terms(
        &mut self,
        reducer: Reducer,
        name: &str,
        name_span: Span,
        body: &Expr,
        terms: Vec<Value>,
    ) -> Result<Value> {
        let Some(first) = terms.first() else {
            return match reducer {
                Reducer::Sum => Ok(Value::scalar(self.g.constant(0.0))),
                Reducer::Prod => Ok(Value::scalar(self.g.constant(1.0))),
                _ => Err(empty_range(&format!("`{name}`"), name_span)),
            };
        };
        let shape = first.shape.clone();
        if let Some(odd) = terms.iter().find(|t| t.shape != shape) {
            return Err(shape_error(
                format!(
                    "the terms of `{name}` must have one shape; got {} and {}",
                    super::value::named_shape(&first.shape),
                    super::value::named_shape(&odd.shape)
                ),
                body.span,
            ));
        }
        let count = shape.iter().product::<usize>();
        let mut column = Vec::with_capacity(terms.len());
        let elems = (0..count)
            .map(|k| {
                column.clear();
                column.extend(terms.iter().map(|t| t.elems[k]));
                reduce::expand(self.g, reducer, &column, &[])
            })
            .collect();
        Ok(Value::array(shape, elems))
    }

    /// `[body for i = 1..m]` (a vector, or a matrix when the body is a vector) and
    /// `[body for i = 1..m, j = 1..n]` (a matrix).
    pub(super) fn builder(&mut self, body: &Expr, ranges: &[Range], span: Span) -> Result<Value> {
        if ranges.len() > 2 {
            return Err(shape_error(
                format!(
                    "a builder makes a vector or a matrix: one or two ranges, not {}",
                    ranges.len()
                ),
                span,
            ));
        }
        let mut rows = Vec::new();
        self.each_index(&ranges[..1], &mut |cx| {
            let row = cx.collect(&ranges[1..], body)?;
            rows.push(match ranges.len() {
                1 => row.into_iter().next().expect("one value without inner ranges"),
                _ => cx.stack(row, span, "the elements of a builder")?,
            });
            Ok(())
        })?;
        if rows.is_empty() {
            return Err(empty_range("a builder", span));
        }
        self.stack(rows, span, "the rows of a builder")
    }
}

fn empty_range(what: &str, span: Span) -> Error {
    Error::at(ErrorKind::Index(format!("the range of {what} is empty")), span)
        .with_hint("only `sum` (0) and `prod` (1) have a value over an empty range")
}
