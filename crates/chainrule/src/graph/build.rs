//! The only way to make nodes. Each constructor canonicalises locally before interning:
//! constants fold (when the result is finite, so that a NaN keeps its subexpression),
//! `x+0`, `x*1`, `x*0`, `x^1`, `x^0` vanish, constants go first, the two operands of a
//! commutative operator are put in [`Graph::canonical_cmp`] order, and a few cheap
//! identities apply (`x + x = 2*x`, `x*x = x^2`, `(x^a)^n = x^(a*n)` for whole `n`,
//! `e^x = exp(x)`, `ln(exp(x)) = x`, and the stable forms of `ln(sigmoid(x))`).
//! Every rule is O(1) except [`Graph::scale`], which walks a product's left spine.
//! [`Graph::sum`] adds many terms as a balanced tree, for accuracy.

use super::{Func, Graph, NodeId, Number, Op, VarId};
use crate::operators::Constant;

/// The longest run of terms [`Graph::sum`] adds one after another: short sums keep the
/// chain they are written as, and the error of a run stays below 32 roundings.
pub const SUM_RUN: usize = 32;

impl Graph {
    /// The constant `v` (exact when whole).
    pub fn constant(&mut self, v: f64) -> NodeId {
        self.intern(Op::constant(v), &[])
    }

    /// The number `n`.
    pub fn number(&mut self, n: Number) -> NodeId {
        self.intern(Op::Const(n), &[])
    }

    /// The exact rational `p/q`.
    pub fn rational(&mut self, p: i64, q: i64) -> NodeId {
        self.number(Number::ratio(p, q))
    }

    /// The named constant `c`.
    pub fn named(&mut self, c: Constant) -> NodeId {
        self.intern(Op::Named(c), &[])
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

    /// [`Graph::foldable`] for numbers: exact results always are.
    pub(crate) fn foldable_number(result: Number, operands: &[Number]) -> bool {
        result.is_exact() || {
            let values: Vec<f64> = operands.iter().map(|n| n.to_f64()).collect();
            Graph::foldable(result.to_f64(), &values)
        }
    }

    fn is_const(&self, id: NodeId, v: f64) -> bool {
        self.value(id) == Some(v)
    }

    /// `a + b`.
    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if let (Some(x), Some(y)) = (self.number_of(a), self.number_of(b)) {
            let sum = x + y;
            if sum.to_f64().is_finite() {
                return self.number(sum);
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
        if let Some(lse) = self.unshifted_logsumexp(a, b).or_else(|| self.unshifted_logsumexp(b, a))
        {
            return lse;
        }
        let (ca, ta) = self.split_shallow(a);
        let (cb, tb) = self.split_shallow(b);
        if ta == tb && self.value(ta).is_none() {
            let c = self.number(ca + cb);
            return self.mul(c, ta);
        }
        let (a, b) = self.order_sum_operands(a, b);
        self.intern(Op::Add, &[a, b])
    }

    /// `c + (d + t)` is `(c+d) + t`, whichever side the constants stand on.
    fn fold_constant_into_sum(&mut self, a: NodeId, b: NodeId) -> Option<NodeId> {
        let (c, t) = match (self.number_of(a), self.number_of(b)) {
            (Some(c), None) => (c, b),
            (None, Some(c)) => (c, a),
            _ => return None,
        };
        if self.op(t) != Op::Add {
            return None;
        }
        let (x, y) = (self.args(t)[0], self.args(t)[1]);
        let (d, rest) = match (self.number_of(x), self.number_of(y)) {
            (Some(d), _) => (d, y),
            (_, Some(d)) => (d, x),
            _ => return None,
        };
        let folded = self.number(c + d);
        Some(self.add(folded, rest))
    }

    /// `logsumexp([t1, t2, ...])` when `lse` is `logsumexp([t1 - m, t2 - m, ...])` and `m`
    /// is `shift`: the max-shifted form written out, `m + log(sum(i = 1..n, exp(x[i] - m)))`,
    /// is the logsumexp itself (for a finite `m`; the kernel shifts by the maximum on its
    /// own). Its gradient is then the softmax alone: through `m` it would add `1 - sum of the
    /// softmax`, zero only up to rounding, to the largest element's derivative (a relative
    /// error of 1e-10 there at 160,000 terms).
    fn unshifted_logsumexp(&mut self, shift: NodeId, lse: NodeId) -> Option<NodeId> {
        if self.op(lse) != Op::LogSumExp {
            return None;
        }
        let terms: Option<Vec<NodeId>> =
            self.args(lse).iter().map(|&arg| self.unshifted(arg, shift)).collect();
        Some(self.logsumexp(&terms?))
    }

    /// `t` when `id` is `t - shift` (the sum of `t` and `-1*shift`, in either order).
    fn unshifted(&self, id: NodeId, shift: NodeId) -> Option<NodeId> {
        if self.op(id) != Op::Add {
            return None;
        }
        let minus_shift = |n: NodeId| {
            self.op(n) == Op::Mul
                && self.args(n)[1] == shift
                && self.number_of(self.args(n)[0]) == Some(Number::int(-1))
        };
        match *self.args(id) {
            [t, n] if minus_shift(n) => Some(t),
            [n, t] if minus_shift(n) => Some(t),
            _ => None,
        }
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
            _ if self.sum_cmp(b, a).is_lt() => (b, a),
            _ => (a, b),
        }
    }

    /// `(c, t)` with `id = c*t`, looking only at `id` itself (`Mul(c, t)`), for `x + 2*x`.
    pub(crate) fn split_shallow(&self, id: NodeId) -> (Number, NodeId) {
        if self.op(id) == Op::Mul {
            if let Some(c) = self.number_of(self.args(id)[0]) {
                return (c, self.args(id)[1]);
            }
        }
        (Number::int(1), id)
    }

    /// `terms[0] + terms[1] + ...` (0 for none). Up to [`SUM_RUN`] terms are one
    /// left-to-right chain, as `add` builds it; a longer sum is a balanced tree over such
    /// runs, so that its rounding error grows with the logarithm of its length, not with the
    /// length (pairwise summation).
    pub fn sum(&mut self, terms: &[NodeId]) -> NodeId {
        let mut level: Vec<NodeId> = terms.chunks(SUM_RUN).map(|run| self.chain_sum(run)).collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|pair| self.chain_sum(pair)).collect();
        }
        level.pop().unwrap_or_else(|| self.constant(0.0))
    }

    /// `ln` of [`Graph::sum`] of `terms`, found without adding them, when they are at least
    /// two `exp` calls, no two alike: that sum is then additions alone, and `ln` rewrites it
    /// to the logsumexp of the exponents in the order the additions hold them, which is the
    /// order of `terms` but for the first two of each run, which `add` may swap. `None`
    /// otherwise.
    pub fn ln_of_sum_of_exps(&mut self, terms: &[NodeId]) -> Option<NodeId> {
        if terms.len() < 2 || terms.iter().any(|&t| self.op(t) != Op::Func(Func::Exp)) {
            return None;
        }
        let mut sorted = terms.to_vec();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        let mut exponents = Vec::with_capacity(terms.len());
        for run in terms.chunks(SUM_RUN) {
            let rest = match *run {
                [a, b, ..] => {
                    let (p, q) = self.order_sum_operands(a, b);
                    exponents.extend([self.args(p)[0], self.args(q)[0]]);
                    &run[2..]
                }
                _ => run,
            };
            exponents.extend(rest.iter().map(|&t| self.args(t)[0]));
        }
        Some(self.logsumexp(&exponents))
    }

    /// `((terms[0] + terms[1]) + terms[2]) + ...` over at least one term.
    fn chain_sum(&mut self, terms: &[NodeId]) -> NodeId {
        let (&first, rest) = terms.split_first().expect("a run of at least one term");
        rest.iter().fold(first, |acc, &t| self.add(acc, t))
    }

    /// Whether [`Graph::sum`] of `terms` is `n`, told from `n`'s operands alone, without
    /// building or looking anything up: `n` must have the shape `sum` builds, each addition
    /// `Add(p, q)` over the nodes `sum` adds there and in the order `add` puts them. That is
    /// enough, because `add` rewrites a pair (folds, merges) alike in either order, so a node
    /// `Add(p, q)` exists only if `add` of its operands gives it. `false` when in doubt.
    pub fn is_sum(&self, n: NodeId, terms: &[NodeId]) -> bool {
        let runs: Vec<&[NodeId]> = terms.chunks(SUM_RUN).collect();
        // Each pass of `sum` pairs the level below: after `levels` passes one node is left.
        let levels = runs.len().next_power_of_two().trailing_zeros();
        // A node with the runs `first..end` it adds up at `level`.
        let mut stack = vec![(n, 0, runs.len(), levels)];
        while let Some((node, first, end, level)) = stack.pop() {
            if level == 0 {
                if first + 1 != end || !self.is_chain_sum(node, runs[first]) {
                    return false;
                }
                continue;
            }
            let middle = first + (1 << (level - 1));
            if middle >= end {
                // An odd one out of its level's pairs passes up as it is.
                stack.push((node, first, end, level - 1));
                continue;
            }
            let Some((left, right)) = self.added_pair(node) else {
                return false;
            };
            if self.order_sum_operands(left, right) != (left, right) {
                return false;
            }
            stack.push((left, first, middle, level - 1));
            stack.push((right, middle, end, level - 1));
        }
        true
    }

    /// Whether [`Graph::chain_sum`] of `run` is `n` (as [`Graph::is_sum`] tells it).
    fn is_chain_sum(&self, mut n: NodeId, run: &[NodeId]) -> bool {
        let Some((&first, rest)) = run.split_first() else {
            return false;
        };
        for &t in rest.iter().rev() {
            let Some((p, q)) = self.added_pair(n) else {
                return false;
            };
            let acc = match (p, q) {
                (p, q) if q == t => p,
                (p, q) if p == t => q,
                _ => return false,
            };
            if self.order_sum_operands(acc, t) != (p, q) {
                return false;
            }
            n = acc;
        }
        n == first
    }

    /// The operands of `n` if it is an addition.
    fn added_pair(&self, n: NodeId) -> Option<(NodeId, NodeId)> {
        match (self.op(n), self.args(n)) {
            (Op::Add, &[p, q]) => Some((p, q)),
            _ => None,
        }
    }

    /// `a - b`.
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let nb = self.neg(b);
        self.add(a, nb)
    }

    /// `-a`.
    pub fn neg(&mut self, a: NodeId) -> NodeId {
        self.scale(Number::int(-1), a)
    }

    /// `c*t` with `c` merged into the leftmost constant of `t`'s product chain, so that
    /// `-(2*x*y)` is `-2*x*y` and not `-1*(2*x*y)`.
    pub fn scale(&mut self, c: Number, t: NodeId) -> NodeId {
        if c.is_one() {
            return t;
        }
        self.rebuild_spine(t, |g, leaf| {
            let factor = g.number(c);
            Some(g.mul(factor, leaf))
        })
    }

    /// `(c, t)` with `id = c*t` and `c` the leftmost constant of `id`'s product chain.
    pub fn split_coefficient(&mut self, id: NodeId) -> (Number, NodeId) {
        if let Some(v) = self.number_of(id) {
            return (v, self.constant(1.0));
        }
        if self.coefficient(id) == 1.0 || self.op(id) != Op::Mul {
            return (Number::int(1), id);
        }
        let mut leaf = id;
        while self.op(leaf) == Op::Mul {
            leaf = self.args(leaf)[0];
        }
        let c = self.number_of(leaf).unwrap_or(Number::int(1));
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
        if let (Some(x), Some(y)) = (self.number_of(a), self.number_of(b)) {
            let product = x * y;
            if Graph::foldable_number(product, &[x, y]) {
                return self.number(product);
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
        // A product times a number (`x*y/3`): the number joins the product's coefficient.
        if let (Op::Mul, Some(c)) = (self.op(a), self.number_of(b)) {
            if self
                .number_of(self.args(a)[0])
                .is_none_or(|d| Graph::foldable_number(c * d, &[c, d]))
            {
                return self.scale(c, a);
            }
        }
        // Constants first; two constants (an unfoldable pair, e.g. an underflow) by value.
        let swap = self.value(b).is_some()
            && (self.value(a).is_none() || self.canonical_cmp(b, a).is_lt());
        let (a, b) = if swap { (b, a) } else { (a, b) };
        if let Some(c) = self.number_of(a) {
            let (d, t) = self.split_shallow(b);
            let cd = c * d;
            if !d.is_one() && Graph::foldable_number(cd, &[c, d]) {
                let cd = self.number(cd);
                return self.mul(cd, t);
            }
        } else if let Some((c, t)) = self.leading_number(b) {
            // `a * (c*t)` is `c * (a*t)`: the coefficient leads (`x/(3*y)`).
            let at = self.mul(a, t);
            return self.scale(c, at);
        }
        if let Some(power) = self.merge_powers(a, b) {
            return power;
        }
        let sortable = self.value(a).is_none() && self.op(a) != Op::Mul && self.op(b) != Op::Mul;
        let (a, b) = if sortable && self.factor_cmp(b, a).is_lt() { (b, a) } else { (a, b) };
        self.intern(Op::Mul, &[a, b])
    }

    /// `(c, t)` when `id` is `Mul(c, t)` with a number `c`.
    fn leading_number(&self, id: NodeId) -> Option<(Number, NodeId)> {
        if self.op(id) != Op::Mul {
            return None;
        }
        Some((self.number_of(self.args(id)[0])?, self.args(id)[1]))
    }

    /// `x^p * x^q = x^(p+q)` for constant exponents (a bare `x` has exponent 1).
    fn merge_powers(&mut self, a: NodeId, b: NodeId) -> Option<NodeId> {
        let (base_a, pa) = self.power_parts(a)?;
        let (base_b, pb) = self.power_parts(b)?;
        if base_a != base_b || self.value(base_a).is_some() {
            return None;
        }
        let e = self.number(pa + pb);
        Some(self.pow(base_a, e))
    }

    /// `(base, exponent)` of a power with a numeric exponent, `sqrt(u)` as `u^(1/2)`, and a
    /// plain factor as its own first power; `None` for products and symbolic exponents.
    pub(crate) fn power_parts(&self, id: NodeId) -> Option<(NodeId, Number)> {
        match self.op(id) {
            Op::Pow => {
                let (base, e) = (self.args(id)[0], self.number_of(self.args(id)[1])?);
                match self.op(base) {
                    Op::Func(Func::Sqrt) => Some((self.args(base)[0], e * Number::ratio(1, 2))),
                    _ => Some((base, e)),
                }
            }
            Op::Func(Func::Sqrt) => Some((self.args(id)[0], Number::ratio(1, 2))),
            Op::Mul => None,
            _ => Some((id, Number::int(1))),
        }
    }

    /// Factors with a negative constant exponent (denominators) go after the others.
    pub(crate) fn factor_cmp(&self, a: NodeId, b: NodeId) -> std::cmp::Ordering {
        let denominator = |id: NodeId| {
            self.op(id) == Op::Pow && self.value(self.args(id)[1]).is_some_and(|e| e < 0.0)
        };
        denominator(a).cmp(&denominator(b)).then_with(|| self.product_cmp(a, b))
    }

    /// `a / b`, which is `a * b^-1`.
    pub fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let m1 = self.constant(-1.0);
        let r = self.pow(b, m1);
        self.mul(a, r)
    }

    /// `a ^ b`.
    pub fn pow(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if let (Some(x), Some(y)) = (self.number_of(a), self.number_of(b)) {
            if let Some(r) =
                x.pow(y).filter(|r| r.is_exact() || Graph::foldable(r.to_f64(), &[x.to_f64()]))
            {
                return self.number(r);
            }
        }
        if self.is_const(b, 0.0) || self.is_const(a, 1.0) {
            return self.constant(1.0);
        }
        if self.is_const(b, 1.0) {
            return a;
        }
        if self.op(a) == Op::Named(Constant::E) {
            return self.func(Func::Exp, &[b]);
        }
        // `u^(1/2)` is `sqrt(u)`, and `u^(-1/2)` is `1/sqrt(u)`: one node for one value.
        match self.number_of(b) {
            Some(h) if h == Number::ratio(1, 2) => return self.func(Func::Sqrt, &[a]),
            Some(h) if h == Number::ratio(-1, 2) => {
                let root = self.func(Func::Sqrt, &[a]);
                let m1 = self.constant(-1.0);
                return self.pow(root, m1);
            }
            _ => {}
        }
        // `(1/u)^q = u^-q` for any number `q` (both sides are NaN for the same `u`).
        if let (Op::Pow, Some(q)) = (self.op(a), self.number_of(b)) {
            if self.number_of(self.args(a)[1]) == Some(Number::int(-1)) {
                let e = self.number(-q);
                return self.pow(self.args(a)[0], e);
            }
        }
        let whole = self.number_of(b).filter(|n| n.is_integer());
        if let (Op::Pow, Some(n)) = (self.op(a), whole) {
            let (base, inner) = (self.args(a)[0], self.args(a)[1]);
            if let Some(p) = self.number_of(inner) {
                let e = self.number(p * n);
                return self.pow(base, e);
            }
        }
        // `sqrt(u)^n = u^(n/2)` for a whole `|n| >= 2` (`sqrt(u)^2 = u`, `sqrt(u)^3 = u^(3/2)`).
        if let (Op::Func(Func::Sqrt), Some(n)) = (self.op(a), whole) {
            if n.to_f64().abs() >= 2.0 {
                let u = self.args(a)[0];
                let half = self.number(n * Number::ratio(1, 2));
                return self.pow(u, half);
            }
        }
        // `(c*t)^n = c^n * t^n` for an exact coefficient and a whole `n` (`1/(2*x)`).
        if let (Op::Mul, Some(n)) = (self.op(a), whole) {
            let (c, t) = self.split_coefficient(a);
            let cn = Some(c).filter(|c| c.is_exact() && !c.is_one()).and_then(|c| c.pow(n));
            if let Some(cn) = cn.filter(|cn| cn.is_exact()) {
                let tn = self.pow(t, b);
                let cn = self.number(cn);
                return self.mul(cn, tn);
            }
        }
        self.intern(Op::Pow, &[a, b])
    }

    /// `f(args)`; `args.len()` must be `f.arity()`.
    pub fn func(&mut self, f: Func, args: &[NodeId]) -> NodeId {
        debug_assert_eq!(args.len(), f.arity());
        let numbers: Option<Vec<Number>> = args.iter().map(|&a| self.number_of(a)).collect();
        if let Some(folded) = numbers.and_then(|n| fold_call(f, &n)) {
            return self.number(folded);
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
        if f == Func::Sqrt {
            return self.root_of_odd_power(a);
        }
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

    /// `sqrt(u^k) = u^(k/2)` for an odd whole `k` (`sqrt(1/u)` is `1/sqrt(u)`); an even `k`
    /// would need `abs`, so it stays.
    fn root_of_odd_power(&mut self, a: NodeId) -> Option<NodeId> {
        if self.op(a) != Op::Pow {
            return None;
        }
        let k = self.number_of(self.args(a)[1])?.exact()?;
        if !k.is_integer() || k.numer() % 2 == 0 {
            return None;
        }
        let half = self.number(Number::Exact(k) * Number::ratio(1, 2));
        Some(self.pow(self.args(a)[0], half))
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
        let numbers: Option<Vec<Number>> = args.iter().map(|&a| self.number_of(a)).collect();
        if let Some(n) = numbers.filter(|n| n.iter().any(|x| !x.is_exact())) {
            let r = super::op::logsumexp(n.iter().map(|x| x.to_f64()));
            if r.is_finite() {
                return self.constant(r);
            }
        }
        self.intern(Op::LogSumExp, args)
    }
}

/// The value of `f` at numbers, when it may replace the call: any float among the arguments
/// gives a float (finite); exact arguments fold only to an exact result (`sqrt(4)`,
/// `abs(-1/3)`, `exp(0)`), so that `ln(2)` and `sqrt(2)` stay symbolic.
fn fold_call(f: Func, args: &[Number]) -> Option<Number> {
    let mut padded = [0.0; 3];
    for (p, a) in padded.iter_mut().zip(args) {
        *p = a.to_f64();
    }
    let r = f.eval_f64(padded);
    if !r.is_finite() {
        return None;
    }
    if args.iter().any(|a| !a.is_exact()) {
        return Some(Number::float(r));
    }
    // Exact candidates: a whole number, an argument, its negative, or a product of two.
    let whole = (r.fract() == 0.0 && r.abs() <= 1e9).then(|| Number::float(r));
    let mut candidates = whole.into_iter().chain(args.iter().copied());
    let first = args[0];
    let extra = [Some(-first), args.get(1).map(|&a| first * a)];
    candidates.find(|c| c.to_f64() == r).or(extra.into_iter().flatten().find(|c| c.to_f64() == r))
}
