//! Values with a bound on their error: a double-double (about 32 significant digits) for
//! `+`, `*` and whole powers, the f64 kernels for functions, and with every value an
//! absolute bound on how far it may be from the exact value of the expression.
//!
//! The bound is what lets `verify` decide: two values whose difference exceeds the sum of
//! their bounds differ in exact arithmetic too, so rounding can never make a right claim
//! look wrong; and a claim is only said to hold at a point where the bounds are small
//! against the values, so rounding cannot hide a wrong one behind cancellation.
//!
//! Sources of error, each bounded:
//! - double-double arithmetic: `2^-104` of each result;
//! - a float constant (a decimal the user wrote, or one folded in f64): `2^-50` of it, since
//!   folding may have rounded it a few times;
//! - a function: its kernel is accurate to a few ulps (`2^-50` of the value), and an
//!   argument known to within `r` is evaluated at both ends of `[x - r, x + r]` (every
//!   corner, for two or three arguments): the spread bounds what the argument's error does,
//!   jumps of `step`, `sign` or `floor` included. An argument whose error is not small
//!   against itself makes the value unknown (an infinite bound).

use crate::graph::{Graph, NodeId, Number, Op};
use crate::operators::Constant;
use rustc_hash::FxHashMap as HashMap;

/// Relative error of one double-double operation (with room to spare).
const DD_EPS: f64 = 4.930380657631324e-32; // 2^-104
/// Relative error of an f64 kernel or a float constant.
const F64_EPS: f64 = 8.881784197001252e-16; // 2^-50

/// A double-double value `hi + lo` and a bound `err` on its distance from the exact value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Approx {
    pub hi: f64,
    pub lo: f64,
    pub err: f64,
}

impl Approx {
    /// The exact value `v`.
    pub fn exact(v: f64) -> Approx {
        Approx { hi: v, lo: 0.0, err: 0.0 }
    }

    /// Nothing known (outside the domain, or lost to error).
    pub fn unknown() -> Approx {
        Approx { hi: f64::NAN, lo: 0.0, err: f64::INFINITY }
    }

    /// The nearest f64.
    pub fn value(self) -> f64 {
        self.hi + self.lo
    }

    /// True when the value is a finite number with a finite bound.
    pub fn is_known(self) -> bool {
        self.hi.is_finite() && self.err.is_finite()
    }

    fn with_err(hi: f64, lo: f64, propagated: f64) -> Approx {
        let (hi, lo) = quick_two_sum(hi, lo);
        Approx { hi, lo, err: propagated + DD_EPS * hi.abs() }
    }

    pub fn add(self, b: Approx) -> Approx {
        let (s, e) = two_sum(self.hi, b.hi);
        let (t, f) = two_sum(self.lo, b.lo);
        let (s, e) = quick_two_sum(s, e + t);
        Approx::with_err(s, e + f, self.err + b.err)
    }

    pub fn neg(self) -> Approx {
        Approx { hi: -self.hi, lo: -self.lo, err: self.err }
    }

    pub fn sub(self, b: Approx) -> Approx {
        self.add(b.neg())
    }

    pub fn mul(self, b: Approx) -> Approx {
        let (p, e) = two_prod(self.hi, b.hi);
        let e = e + (self.hi * b.lo + self.lo * b.hi);
        let err = self.abs() * b.err + b.abs() * self.err + self.err * b.err;
        Approx::with_err(p, e, err)
    }

    /// `1/self`; unknown when the error could reach zero.
    pub fn recip(self) -> Approx {
        let a = self.abs();
        if self.err * 2.0 >= a || a == 0.0 {
            return Approx::unknown();
        }
        let q = 1.0 / self.hi;
        // One Newton step: q + q*(1 - self*q) in double-double.
        let r = Approx::exact(1.0).sub(self.mul(Approx::exact(q)));
        let refined = Approx::exact(q).add(Approx::exact(q).mul(Approx { err: 0.0, ..r }));
        let err = self.err / (a * (a - self.err));
        Approx::with_err(refined.hi, refined.lo, err)
    }

    /// `self^n` for a whole `n`, by repeated squaring.
    pub fn powi(self, n: i64) -> Approx {
        let mut base = if n < 0 { self.recip() } else { self };
        let mut k = n.unsigned_abs();
        let mut acc = Approx::exact(1.0);
        while k > 0 {
            if k & 1 == 1 {
                acc = acc.mul(base);
            }
            base = base.mul(base);
            k >>= 1;
        }
        acc
    }

    fn abs(self) -> f64 {
        (self.hi + self.lo).abs()
    }

    /// The radius of the interval the f64 kernels see: the error plus the low part dropped.
    fn radius(self) -> f64 {
        self.err + self.lo.abs()
    }
}

/// Error-free `a + b = s + e`.
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let v = s - a;
    (s, (a - (s - v)) + (b - v))
}

/// `two_sum` for `|a| >= |b|`.
fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    if !s.is_finite() {
        return (s, 0.0);
    }
    (s, b - (s - a))
}

/// Error-free `a * b = p + e`.
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// The value of a constant.
fn number(n: Number) -> Approx {
    match n.exact() {
        Some(r) => {
            let (p, q) = (integer(*r.numer()), integer(*r.denom()));
            if *r.denom() == 1 {
                return p;
            }
            let v = p.mul(q.recip());
            Approx { err: DD_EPS * v.abs(), ..v }
        }
        None => {
            let v = n.to_f64();
            Approx { hi: v, lo: 0.0, err: F64_EPS * v.abs() }
        }
    }
}

/// An i64 exactly, as a double-double.
fn integer(n: i64) -> Approx {
    let hi = n as f64;
    let lo = (n as i128 - hi as i128) as f64;
    Approx { hi, lo, err: 0.0 }
}

fn named(c: Constant) -> Approx {
    let (hi, lo) = match c {
        Constant::Pi => (std::f64::consts::PI, 1.2246467991473532e-16),
        Constant::E => (std::f64::consts::E, 1.4456468917292502e-16),
    };
    Approx { hi, lo, err: DD_EPS * hi }
}

/// The values of nodes at one point, computed on demand and kept.
pub(crate) struct Values<'p> {
    point: &'p HashMap<u32, f64>,
    known: HashMap<NodeId, Approx>,
}

impl<'p> Values<'p> {
    /// Values at `point` (a value for each variable, by its number in the graph).
    pub fn new(point: &'p HashMap<u32, f64>) -> Values<'p> {
        Values { point, known: HashMap::default() }
    }

    /// The value of `root`, and of every node below it on the way.
    pub fn of(&mut self, g: &Graph, root: NodeId) -> Approx {
        if let Some(&v) = self.known.get(&root) {
            return v;
        }
        for n in crate::graph::walk::reachable(g, &[root]) {
            if !self.known.contains_key(&n) {
                let v = self.node(g, n);
                self.known.insert(n, v);
            }
        }
        self.known[&root]
    }

    fn node(&self, g: &Graph, n: NodeId) -> Approx {
        let arg = |i: usize| self.known[&g.args(n)[i]];
        match g.op(n) {
            Op::Const(c) => number(c),
            Op::Named(c) => named(c),
            Op::Var(v) => self.point.get(&v).map_or_else(Approx::unknown, |&x| Approx::exact(x)),
            Op::Add => g.args(n).iter().map(|a| self.known[a]).reduce(Approx::add).unwrap(),
            Op::Mul => g.args(n).iter().map(|a| self.known[a]).reduce(Approx::mul).unwrap(),
            Op::Pow => power(g, g.args(n)[1], arg(0), arg(1)),
            Op::Func(f) => {
                let args: Vec<Approx> = g.args(n).iter().map(|a| self.known[a]).collect();
                spread(&args, |x| f.eval_f64([x[0], x[1], x[2]]))
            }
            Op::LogSumExp => {
                let args: Vec<Approx> = g.args(n).iter().map(|a| self.known[a]).collect();
                monotone(&args, |x| crate::graph::op::logsumexp(x.iter().copied()))
            }
        }
    }
}

/// `base ^ exponent`: whole exponents in double-double, others by the f64 kernel.
fn power(g: &Graph, exponent_node: NodeId, base: Approx, exponent: Approx) -> Approx {
    let whole = g.number_of(exponent_node).and_then(Number::exact).filter(|r| r.is_integer());
    match whole.map(|r| r.to_integer()) {
        Some(k) if k.abs() <= 1 << 16 => base.powi(k),
        _ => spread(&[base, exponent], |x| x[0].powf(x[1])),
    }
}

/// `f` of arguments known to within their bounds: evaluated at the centre and at every
/// corner of the box of arguments; the largest distance bounds what the errors do.
fn spread(args: &[Approx], f: impl Fn([f64; 3]) -> f64) -> Approx {
    let mut centre = [0.0; 3];
    let mut radius = [0.0; 3];
    for (i, a) in args.iter().enumerate() {
        if !a.is_known() || a.radius() > 1e-6 * a.abs().max(f64::MIN_POSITIVE) {
            return Approx::unknown();
        }
        centre[i] = a.hi;
        radius[i] = widened(a.hi, a.radius());
    }
    let v = f(centre);
    let mut deviation: f64 = 0.0;
    for corner in 0..1usize << args.len() {
        let mut x = centre;
        for i in 0..args.len() {
            x[i] += if corner >> i & 1 == 1 { radius[i] } else { -radius[i] };
        }
        deviation = deviation.max((f(x) - v).abs());
    }
    if !v.is_finite() || deviation.is_nan() {
        return Approx::unknown();
    }
    Approx { hi: v, lo: 0.0, err: deviation + F64_EPS * v.abs() }
}

/// `f` of arguments it increases with (logsumexp): the ends of the box bound it.
fn monotone(args: &[Approx], f: impl Fn(&[f64]) -> f64) -> Approx {
    if args.iter().any(|a| !a.is_known()) {
        return Approx::unknown();
    }
    let shifted = |sign: f64| -> Vec<f64> {
        args.iter().map(|a| a.hi + sign * widened(a.hi, a.radius())).collect()
    };
    let v = f(&args.iter().map(|a| a.hi).collect::<Vec<_>>());
    let deviation = (f(&shifted(1.0)) - v).abs().max((v - f(&shifted(-1.0))).abs());
    if !v.is_finite() || deviation.is_nan() {
        return Approx::unknown();
    }
    Approx { hi: v, lo: 0.0, err: deviation + F64_EPS * v.abs() }
}

/// A radius that moves `x` in f64: at least one ulp when it is not zero.
fn widened(x: f64, r: f64) -> f64 {
    if r == 0.0 || x + r != x {
        return r;
    }
    let up = f64::from_bits(x.abs().to_bits() + 1) - x.abs();
    r.max(up)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_double_keeps_what_f64_cancels() {
        // (1 + 2^-60) - 1 in f64 is 0; in double-double it is 2^-60.
        let tiny = 2f64.powi(-60);
        let a = Approx::exact(1.0).add(Approx::exact(tiny));
        assert_eq!(a.sub(Approx::exact(1.0)).value(), tiny);
    }

    #[test]
    fn a_third_is_close() {
        let third = number(Number::ratio(1, 3));
        let back = third.mul(Approx::exact(3.0)).sub(Approx::exact(1.0));
        assert!(back.value().abs() < 1e-30, "{back:?}");
    }

    #[test]
    fn a_jump_inside_the_error_is_an_error() {
        let near_zero = Approx { hi: 0.0, lo: 0.0, err: 1e-300 };
        // relative to its value the error is huge: unknown.
        assert!(!spread(&[near_zero], |x| x[0].signum()).is_known());
        let x = Approx { hi: 1.0, lo: 0.0, err: 1e-12 };
        let s = spread(&[x], |x| x[0].sin());
        assert!((s.err - 1e-12 * 1f64.cos()).abs() < 1e-15, "{s:?}");
    }
}
