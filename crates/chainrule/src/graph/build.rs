//! The only way to make nodes. Each constructor canonicalises locally before interning:
//! constants fold (when the result is finite, so that a NaN keeps its subexpression),
//! `x+0`, `x*1`, `x*0`, `x^1`, `x^0` vanish, constants go first, the two operands of a
//! commutative operator are put in [`Graph::canonical_cmp`] order, and a few cheap
//! identities apply (`x + x = 2*x`, `x*x = x^2`, `(x^a)^n = x^(a*n)` for whole `n`,
//! `e^x = exp(x)`, `ln(exp(x)) = x`, and the stable forms of `ln(sigmoid(x))`).
//! Every rule is O(1) except [`Graph::scale`], which walks a product's left spine.

use super::{Func, Graph, NodeId, Op, VarId};
use std::f64::consts::E;

impl Graph {
    /// The constant `v`.
    pub fn constant(&mut self, v: f64) -> NodeId {
        self.intern(Op::constant(v), &[])
    }

    /// The variable `name`.
    pub fn var(&mut self, name: &str) -> NodeId {
        let v = self.intern_var(name);
        self.var_node(v)
    }

    /// The node of variable `v`.
    pub fn var_node(&mut self, v: VarId) -> NodeId {
        self.intern(Op::Var(v.index() as u32), &[])
    }

    /// A folded constant is kept only when it is exact enough to stand for its formula:
    /// finite, and not an underflow of non-zero operands to zero or a subnormal.
    pub(crate) fn foldable(result: f64, operands: &[f64]) -> bool {
        result.is_finite() && (result.is_normal() || (result == 0.0 && operands.contains(&0.0)))
    }

    fn is_const(&self, id: NodeId, v: f64) -> bool {
        self.value(id) == Some(v)
    }

    /// `a + b`.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if let (Some(x), Some(y)) = (self.value(a), self.value(b)) {
            if (x + y).is_finite() {
                return self.constant(x + y);
            }
        }
        if self.is_const(a, 0.0) {
            return b;
        }
        if self.is_const(b, 0.0) {
            return a;
        }
        if let Some(sum) = self.fold_constant_into_sum(a, b) {
            return sum;
        }
        let (ca, ta) = self.split_shallow(a);
        let (cb, tb) = self.split_shallow(b);
        if ta == tb && self.value(ta).is_none() {
            let c = self.constant(ca + cb);
            return self.mul(c, ta);
        }
        let (a, b) = self.order_sum_operands(a, b);
        self.intern(Op::Add, &[a, b])
    }

    /// `c + (d + t)` is `(c+d) + t`, whichever side the constants stand on.
    fn fold_constant_into_sum(&mut self, a: NodeId, b: NodeId) -> Option<NodeId> {
        let (c, t) = match (self.value(a), self.value(b)) {
            (Some(c), None) => (c, b),
            (None, Some(c)) => (c, a),
            _ => return None,
        };
        if self.op(t) != Op::Add {
            return None;
        }
        let (x, y) = (self.args(t)[0], self.args(t)[1]);
        let (d, rest) = match (self.value(x), self.value(y)) {
            (Some(d), _) => (d, y),
            (_, Some(d)) => (d, x),
            _ => return None,
        };
        let folded = self.constant(c + d);
        Some(self.add(folded, rest))
    }

    /// A constant goes last (`x + 1`, `x - 1`), except a positive one before a negative
    /// term (`1 - x`); else canonical order unless one side already is a sum (a chain keeps
    /// its left-to-right shape).
    fn order_sum_operands(&self, a: NodeId, b: NodeId) -> (NodeId, NodeId) {
        let constant_first = |c: f64, t: NodeId| c > 0.0 && self.coefficient(t) < 0.0;
        match (self.value(a), self.value(b)) {
            (Some(c), None) if !constant_first(c, b) => (b, a),
            (None, Some(c)) if constant_first(c, a) => (b, a),
            (Some(_), None) | (None, Some(_)) => (a, b),
            _ if self.op(a) == Op::Add || self.op(b) == Op::Add => (a, b),
            _ if self.canonical_cmp(b, a).is_lt() => (b, a),
            _ => (a, b),
        }
    }

    /// `(c, t)` with `id = c*t`, looking only at `id` itself (`Mul(c, t)`), for `x + 2*x`.
    fn split_shallow(&self, id: NodeId) -> (f64, NodeId) {
        if self.op(id) == Op::Mul {
            if let Some(c) = self.value(self.args(id)[0]) {
                return (c, self.args(id)[1]);
            }
        }
        (1.0, id)
    }

    /// `a - b`.
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let nb = self.neg(b);
        self.add(a, nb)
    }

    /// `-a`.
    pub fn neg(&mut self, a: NodeId) -> NodeId {
        self.scale(-1.0, a)
    }

    /// `c*t` with `c` merged into the leftmost constant of `t`'s product chain, so that
    /// `-(2*x*y)` is `-2*x*y` and not `-1*(2*x*y)`.
    pub fn scale(&mut self, c: f64, t: NodeId) -> NodeId {
        if c == 1.0 {
            return t;
        }
        self.rebuild_spine(t, |g, leaf| {
            let v = g.value(leaf);
            match v {
                Some(v) => Some(g.constant(c * v)),
                None => {
                    let factor = g.constant(c);
                    Some(g.mul(factor, leaf))
                }
            }
        })
    }

    /// `(c, t)` with `id = c*t` and `c` the leftmost constant of `id`'s product chain.
    pub fn split_coefficient(&mut self, id: NodeId) -> (f64, NodeId) {
        if let Some(v) = self.value(id) {
            return (v, self.constant(1.0));
        }
        let c = self.coefficient(id);
        if c == 1.0 || self.op(id) != Op::Mul {
            return (1.0, id);
        }
        (c, self.rebuild_spine(id, |_, _| None))
    }

    /// Rebuilds the left spine of a product chain `((leaf * r1) * r2) * ...` with the leaf
    /// replaced by `new_leaf(leaf)` (or dropped when it gives `None`).
    fn rebuild_spine(
        &mut self,
        t: NodeId,
        new_leaf: impl FnOnce(&mut Graph, NodeId) -> Option<NodeId>,
    ) -> NodeId {
        let mut rights = Vec::new();
        let mut leaf = t;
        while self.op(leaf) == Op::Mul {
            rights.push(self.args(leaf)[1]);
            leaf = self.args(leaf)[0];
        }
        let mut acc = new_leaf(self, leaf);
        for &right in rights.iter().rev() {
            acc = Some(match acc {
                Some(a) => self.mul(a, right),
                None => right,
            });
        }
        acc.unwrap_or_else(|| self.constant(1.0))
    }

    /// `a * b`.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if let (Some(x), Some(y)) = (self.value(a), self.value(b)) {
            if Graph::foldable(x * y, &[x, y]) {
                return self.constant(x * y);
            }
        }
        if self.is_const(a, 0.0) || self.is_const(b, 0.0) {
            return self.constant(0.0);
        }
        if self.is_const(a, 1.0) {
            return b;
        }
        if self.is_const(b, 1.0) {
            return a;
        }
        // Constants first; two constants (an unfoldable pair, e.g. an underflow) by value.
        let swap = self.value(b).is_some()
            && (self.value(a).is_none() || self.canonical_cmp(b, a).is_lt());
        let (a, b) = if swap { (b, a) } else { (a, b) };
        if let Some(c) = self.value(a) {
            let (d, t) = self.split_shallow(b);
            if d != 1.0 && Graph::foldable(c * d, &[c, d]) {
                let cd = self.constant(c * d);
                return self.mul(cd, t);
            }
        }
        if let Some(power) = self.merge_powers(a, b) {
            return power;
        }
        let sortable = self.value(a).is_none() && self.op(a) != Op::Mul && self.op(b) != Op::Mul;
        let (a, b) = if sortable && self.factor_cmp(b, a).is_lt() { (b, a) } else { (a, b) };
        self.intern(Op::Mul, &[a, b])
    }

    /// `x^p * x^q = x^(p+q)` for constant exponents (a bare `x` has exponent 1).
    fn merge_powers(&mut self, a: NodeId, b: NodeId) -> Option<NodeId> {
        let (base_a, pa) = self.power_parts(a)?;
        let (base_b, pb) = self.power_parts(b)?;
        if base_a != base_b || self.value(base_a).is_some() {
            return None;
        }
        let e = self.constant(pa + pb);
        Some(self.pow(base_a, e))
    }

    fn power_parts(&self, id: NodeId) -> Option<(NodeId, f64)> {
        match self.op(id) {
            Op::Pow => Some((self.args(id)[0], self.value(self.args(id)[1])?)),
            Op::Mul => None,
            _ => Some((id, 1.0)),
        }
    }

    /// Factors with a negative constant exponent (denominators) go after the others.
    pub(crate) fn factor_cmp(&self, a: NodeId, b: NodeId) -> std::cmp::Ordering {
        let denominator = |id: NodeId| {
            self.op(id) == Op::Pow && self.value(self.args(id)[1]).is_some_and(|e| e < 0.0)
        };
        denominator(a).cmp(&denominator(b)).then_with(|| self.canonical_cmp(a, b))
    }

    /// `a / b`, which is `a * b^-1`.
    pub fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let m1 = self.constant(-1.0);
        let r = self.pow(b, m1);
        self.mul(a, r)
    }

    /// `a ^ b`.
    pub fn pow(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if let (Some(x), Some(y)) = (self.value(a), self.value(b)) {
            if Graph::foldable(x.powf(y), &[x]) {
                return self.constant(x.powf(y));
            }
        }
        if self.is_const(b, 0.0) || self.is_const(a, 1.0) {
            return self.constant(1.0);
        }
        if self.is_const(b, 1.0) {
            return a;
        }
        if self.is_const(a, E) {
            return self.func(Func::Exp, &[b]);
        }
        if let (Op::Pow, Some(n)) = (self.op(a), self.value(b)) {
            let (base, inner) = (self.args(a)[0], self.args(a)[1]);
            if let (Some(p), true) = (self.value(inner), n.fract() == 0.0) {
                let e = self.constant(p * n);
                return self.pow(base, e);
            }
        }
        self.intern(Op::Pow, &[a, b])
    }

    /// `f(args)`; `args.len()` must be `f.arity()`.
    pub fn func(&mut self, f: Func, args: &[NodeId]) -> NodeId {
        debug_assert_eq!(args.len(), f.arity());
        let values: Option<Vec<f64>> = args.iter().map(|&a| self.value(a)).collect();
        if let Some(v) = values {
            let mut padded = [0.0; 3];
            padded[..v.len()].copy_from_slice(&v);
            let r = f.eval_f64(padded);
            if r.is_finite() {
                return self.constant(r);
            }
        }
        if let Some(rewritten) = self.rewrite_call(f, args[0]) {
            return rewritten;
        }
        self.intern(Op::Func(f), args)
    }

    /// `ln(exp(x)) = x`; `ln(sigmoid(x)) = -softplus(-x)` and `ln(1 - sigmoid(x)) =
    /// -softplus(x)`, the forms that stay finite for large |x| (log-sigmoid, bce on logits);
    /// `ln(exp(a) + exp(b) + ...) = logsumexp([a, b, ...])` and, for a softmax written out,
    /// `ln(exp(a) / (exp(a) + exp(b) + ...)) = a - logsumexp([a, b, ...])`.
    fn rewrite_call(&mut self, f: Func, a: NodeId) -> Option<NodeId> {
        if f != Func::Ln {
            return None;
        }
        if let Some(exponents) = self.sum_of_exps(a) {
            return Some(self.logsumexp(&exponents));
        }
        if let Some(log_softmax) = self.log_softmax(a) {
            return Some(log_softmax);
        }
        match self.op(a) {
            Op::Func(Func::Exp) => Some(self.args(a)[0]),
            Op::Func(Func::Sigmoid) => {
                let x = self.args(a)[0];
                let nx = self.neg(x);
                let sp = self.func(Func::Softplus, &[nx]);
                Some(self.neg(sp))
            }
            Op::Add => {
                let (p, q) = (self.args(a)[0], self.args(a)[1]);
                if !self.is_const(p, 1.0) || self.op(q) != Op::Mul {
                    return None;
                }
                let (m, s) = (self.args(q)[0], self.args(q)[1]);
                if !self.is_const(m, -1.0) || self.op(s) != Op::Func(Func::Sigmoid) {
                    return None;
                }
                let x = self.args(s)[0];
                let sp = self.func(Func::Softplus, &[x]);
                Some(self.neg(sp))
            }
            _ => None,
        }
    }

    /// `[a, b, ...]` when `id` is `exp(a) + exp(b) + ...` (two terms or more).
    fn sum_of_exps(&self, id: NodeId) -> Option<Vec<NodeId>> {
        if self.op(id) != Op::Add {
            return None;
        }
        let mut exponents = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            match self.op(n) {
                Op::Add => stack.extend(self.args(n).iter().rev()),
                Op::Func(Func::Exp) => exponents.push(self.args(n)[0]),
                _ => return None,
            }
        }
        Some(exponents)
    }

    /// `a - logsumexp([a, b, ...])` when `id` is `exp(a) / (exp(a) + exp(b) + ...)`.
    fn log_softmax(&mut self, id: NodeId) -> Option<NodeId> {
        if self.op(id) != Op::Mul {
            return None;
        }
        let (top, bottom) = (self.args(id)[0], self.args(id)[1]);
        if self.op(top) != Op::Func(Func::Exp)
            || self.op(bottom) != Op::Pow
            || !self.is_const(self.args(bottom)[1], -1.0)
        {
            return None;
        }
        let exponents = self.sum_of_exps(self.args(bottom)[0])?;
        let a = self.args(top)[0];
        if !exponents.contains(&a) {
            return None;
        }
        let lse = self.logsumexp(&exponents);
        Some(self.sub(a, lse))
    }

    /// `logsumexp([args])`.
    pub fn logsumexp(&mut self, args: &[NodeId]) -> NodeId {
        if args.len() == 1 {
            return args[0];
        }
        let values: Option<Vec<f64>> = args.iter().map(|&a| self.value(a)).collect();
        if let Some(v) = values {
            let r = super::op::logsumexp(v.iter().copied());
            if r.is_finite() {
                return self.constant(r);
            }
        }
        self.intern(Op::LogSumExp, args)
    }
}
