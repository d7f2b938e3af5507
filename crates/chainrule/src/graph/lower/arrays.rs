//! The functions of whole arrays: the matrix product, `transpose`, `outer`, `softmax`,
//! `len`/`rows`/`cols`, the reductions and the losses. Each checks its shapes first, then
//! builds scalar nodes (the reductions and losses through [`super::super::reduce`]).

use super::value::{named_shape, shape_error, Value};
use super::Lowering;
use crate::error::{Error, ErrorKind, Result, Span};
use crate::graph::{reduce, Func, NodeId};
use crate::operators::callables::{ArrayFn, Reducer};
use crate::syntax::ast::Expr;

impl Lowering<'_, '_> {
    /// `a @ b`: matrix by matrix, matrix by vector, vector by matrix, or vector by vector.
    pub(super) fn matmul(&mut self, a: &Value, b: &Value, span: Span) -> Result<Value> {
        let (m, n, p) = match (a.shape.as_slice(), b.shape.as_slice()) {
            ([], _) | (_, []) => {
                return Err(shape_error(
                    format!(
                        "`@` multiplies arrays; got {} and {}",
                        named_shape(&a.shape),
                        named_shape(&b.shape)
                    ),
                    span,
                )
                .with_hint("multiply by a scalar with `*`"))
            }
            ([m, n], [k, p]) if n == k => (Some(*m), *n, Some(*p)),
            ([m, n], [k]) if n == k => (Some(*m), *n, None),
            ([n], [k, p]) if n == k => (None, *n, Some(*p)),
            ([n], [k]) if n == k => (None, *n, None),
            _ => {
                return Err(shape_error(
                    format!(
                        "`@` needs the inner dimensions to agree; got {} @ {}",
                        named_shape(&a.shape),
                        named_shape(&b.shape)
                    ),
                    span,
                ))
            }
        };
        let (rows, cols) = (m.unwrap_or(1), p.unwrap_or(1));
        self.budget.spend((rows * n * cols) as u64, span)?;
        let b_cols = p.unwrap_or(1);
        let mut elems = Vec::with_capacity(rows * cols);
        let mut column = Vec::with_capacity(n);
        for i in 0..rows {
            let row = &a.elems[i * n..(i + 1) * n];
            for j in 0..cols {
                column.clear();
                column.extend((0..n).map(|k| b.elems[k * b_cols + j]));
                elems.push(reduce::expand(self.g, Reducer::Dot, row, &column));
            }
        }
        let shape = m.into_iter().chain(p).collect();
        Ok(Value::array(shape, elems))
    }

    /// A reduction or loss of `values` (the arguments of `args`).
    pub(super) fn reduce(
        &mut self,
        name: &str,
        r: Reducer,
        values: &[Value],
        args: &[Expr],
        span: Span,
    ) -> Result<Value> {
        self.budget.work(values.iter().map(|v| v.elems.len() as u64).sum(), span)?;
        let node = match r {
            Reducer::Sum
            | Reducer::Mean
            | Reducer::Prod
            | Reducer::Max
            | Reducer::Min
            | Reducer::Norm => {
                let a = self.array(name, &values[0], args[0].span)?;
                reduce::expand(self.g, r, &a.elems, &[])
            }
            Reducer::LogSumExp => {
                let a = self.vector(name, &values[0], args[0].span)?;
                reduce::expand(self.g, r, &a.elems, &[])
            }
            Reducer::Dot => {
                let a = self.vector(name, &values[0], args[0].span)?;
                let b = self.vector(name, &values[1], args[1].span)?;
                same_shape(name, a, b, span)?;
                reduce::expand(self.g, r, &a.elems, &b.elems)
            }
            Reducer::Mse | Reducer::Bce => {
                same_shape(name, &values[0], &values[1], span)?;
                reduce::expand(self.g, r, &values[0].elems, &values[1].elems)
            }
            Reducer::CrossEntropy | Reducer::SoftmaxCrossEntropy => {
                let a = self.array(name, &values[0], args[0].span)?;
                let b = self.array(name, &values[1], args[1].span)?;
                same_shape(name, a, b, span)?;
                self.per_row(r, a, b)
            }
        };
        Ok(Value::scalar(node))
    }

    /// A loss of vectors, or of matrices one sample per row, averaged over the rows.
    fn per_row(&mut self, r: Reducer, a: &Value, b: &Value) -> NodeId {
        if a.shape.len() == 1 {
            return reduce::expand(self.g, r, &a.elems, &b.elems);
        }
        let rows: Vec<NodeId> =
            (0..a.shape[0]).map(|i| reduce::expand(self.g, r, a.row(i), b.row(i))).collect();
        reduce::expand(self.g, Reducer::Mean, &rows, &[])
    }

    /// `transpose`, `outer`, `softmax`, `len`, `rows` or `cols` of `values`.
    pub(super) fn array_fn(
        &mut self,
        name: &str,
        f: ArrayFn,
        values: &[Value],
        args: &[Expr],
        span: Span,
    ) -> Result<Value> {
        let at = args[0].span;
        if matches!(f, ArrayFn::Transpose | ArrayFn::Softmax) {
            self.budget.work(values[0].elems.len() as u64, span)?;
        }
        match f {
            ArrayFn::Transpose => {
                let a = self.matrix(name, &values[0], at)?;
                let (m, n) = (a.shape[0], a.shape[1]);
                let elems = (0..n * m).map(|k| a.elems[(k % m) * n + k / m]).collect();
                Ok(Value::array(vec![n, m], elems))
            }
            ArrayFn::Outer => {
                let a = self.vector(name, &values[0], at)?.clone();
                let b = self.vector(name, &values[1], args[1].span)?.clone();
                self.budget.spend((a.elems.len() * b.elems.len()) as u64, span)?;
                let mut elems = Vec::with_capacity(a.elems.len() * b.elems.len());
                for &x in a.elems.iter() {
                    for &y in b.elems.iter() {
                        elems.push(self.g.mul(x, y));
                    }
                }
                Ok(Value::array(vec![a.elems.len(), b.elems.len()], elems))
            }
            ArrayFn::Softmax => {
                let v = self.vector(name, &values[0], at)?.clone();
                let lse = self.g.logsumexp(&v.elems);
                let elems = v
                    .elems
                    .iter()
                    .map(|&x| {
                        let d = self.g.sub(x, lse);
                        self.g.func(Func::Exp, &[d])
                    })
                    .collect();
                Ok(Value::array(v.shape.clone(), elems))
            }
            ArrayFn::Len => {
                let v = self.vector(name, &values[0], at)?;
                Ok(Value::scalar(self.g.constant(v.shape[0] as f64)))
            }
            ArrayFn::Rows | ArrayFn::Cols => {
                let a = self.matrix(name, &values[0], at)?;
                let n = a.shape[usize::from(f == ArrayFn::Cols)];
                Ok(Value::scalar(self.g.constant(n as f64)))
            }
        }
    }

    /// `v` when it is an array (what the reductions take).
    fn array<'v>(&self, name: &str, v: &'v Value, span: Span) -> Result<&'v Value> {
        if v.is_scalar() {
            return Err(Error::at(
                ErrorKind::List(format!(
                    "`{name}` takes a list like [a, b, c] or an array, not a scalar"
                )),
                span,
            ));
        }
        Ok(v)
    }

    /// `v` when it is a vector.
    fn vector<'v>(&self, name: &str, v: &'v Value, span: Span) -> Result<&'v Value> {
        let hint = match name {
            "len" => "a matrix has `rows(A)` and `cols(A)`",
            _ => "take a row `A[i, :]` or a column `A[:, j]`",
        };
        of_rank(name, self.array(name, v, span)?, 1, span, hint)
    }

    /// `v` when it is a matrix.
    fn matrix<'v>(&self, name: &str, v: &'v Value, span: Span) -> Result<&'v Value> {
        let hint = match name {
            "transpose" => "of vectors, use `outer(a, b)` or `dot(a, b)`",
            _ => "a vector has `len(v)`",
        };
        of_rank(name, v, 2, span, hint)
    }
}

/// `v` when it has `rank` dimensions (1: a vector, 2: a matrix), else a shape error.
fn of_rank<'v>(name: &str, v: &'v Value, rank: usize, span: Span, hint: &str) -> Result<&'v Value> {
    if v.shape.len() == rank {
        return Ok(v);
    }
    let takes = if rank == 1 { "a vector" } else { "a matrix" };
    Err(shape_error(format!("`{name}` takes {takes}; got {}", v.describe()), span).with_hint(hint))
}

/// Both arguments of a two-array function have one shape.
fn same_shape(name: &str, a: &Value, b: &Value, span: Span) -> Result<()> {
    if a.shape == b.shape {
        return Ok(());
    }
    Err(shape_error(
        format!(
            "`{name}` needs two arrays of one shape; got {} and {}",
            named_shape(&a.shape),
            named_shape(&b.shape)
        ),
        span,
    ))
}
