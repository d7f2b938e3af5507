//! Local partial derivatives: for a node and one of its operands, the derivative of the node
//! with respect to that operand, built as graph nodes that reuse the node and its operands.
//!
//! Kinks follow the subgradient conventions of SPEC.md: `relu'(0) = step(0) = 0`,
//! `abs'(0) = sign(0) = 0`, `min`/`max` pass the derivative of the first argument on a tie,
//! and `sign`, `step`, `floor`, `ceil`, `round` have derivative 0 (they return `None`: no
//! contribution at all); `clamp` passes the derivative of `x` inside `[lo, hi]`, else of
//! the bound. One exhaustive `match` over [`Func`]: a new function cannot be forgotten.

use crate::graph::{Func, Graph, NodeId, Op};
use crate::operators::Constant;
use smallvec::SmallVec;

/// Nodes a sweep's partials reuse, made the first time one needs them: the numbers `1`,
/// `2` and `-1` of calls' partials (in that order; a sweep over many calls looks them up
/// once, not three times a call), and `-l` of the last logsumexp `l` (once for all its
/// operands' partials).
#[derive(Default)]
pub struct Reused {
    calls: Option<[NodeId; 3]>,
    minus_logsumexp: Option<(NodeId, NodeId)>,
}

impl Reused {
    fn get(&mut self, g: &mut Graph) -> [NodeId; 3] {
        *self.calls.get_or_insert_with(|| [g.constant(1.0), g.constant(2.0), g.constant(-1.0)])
    }

    /// `-l` for the logsumexp `l`.
    fn minus(&mut self, g: &mut Graph, l: NodeId) -> NodeId {
        match self.minus_logsumexp {
            Some((of, minus)) if of == l => minus,
            _ => {
                let minus = g.neg(l);
                self.minus_logsumexp = Some((l, minus));
                minus
            }
        }
    }
}

/// d(node)/d(operand `i`), or `None` when it is identically zero; `reused` serves the
/// sweep that asks.
pub fn partial(g: &mut Graph, node: NodeId, i: usize, reused: &mut Reused) -> Option<NodeId> {
    if g.op(node) == Op::LogSumExp {
        // Its many operands are not copied: that would cost the length of the list per operand.
        let minus = reused.minus(g, node);
        let d = g.add(g.args(node)[i], minus);
        return Some(g.func(Func::Exp, &[d]));
    }
    let args: SmallVec<[NodeId; 3]> = SmallVec::from_slice(g.args(node));
    let a = args.first().copied().unwrap_or(node);
    Some(match g.op(node) {
        Op::Const(_) | Op::Named(_) | Op::Var(_) => return None,
        Op::Add => g.constant(1.0),
        Op::Mul => args[1 - i],
        Op::Pow if i == 0 => power_base(g, a, args[1]),
        Op::Pow => {
            let ln_a = g.func(Func::Ln, &[a]);
            g.mul(node, ln_a)
        }
        Op::LogSumExp => unreachable!("handled above"),
        Op::Func(f) => {
            let numbers = reused.get(g);
            return function(g, f, node, &args, i, numbers);
        }
    })
}

/// d(a^b)/da = b * a^(b-1)
fn power_base(g: &mut Graph, a: NodeId, b: NodeId) -> NodeId {
    let one = g.constant(1.0);
    let b1 = g.sub(b, one);
    let p = g.pow(a, b1);
    g.mul(b, p)
}

/// d f(args) / d args[i], where `node` is `f(args)`, with the nodes of `1`, `2`, `-1`.
fn function(
    g: &mut Graph,
    f: Func,
    node: NodeId,
    args: &[NodeId],
    i: usize,
    [one, two, m1]: [NodeId; 3],
) -> Option<NodeId> {
    let x = args[0];
    Some(match f {
        Func::Sin => g.func(Func::Cos, &[x]),
        Func::Cos => {
            let s = g.func(Func::Sin, &[x]);
            g.neg(s)
        }
        Func::Tan => {
            let sq = g.pow(node, two);
            g.add(one, sq)
        }
        Func::Asin | Func::Acos => {
            let sq = g.pow(x, two);
            let d = g.sub(one, sq);
            let r = g.func(Func::Sqrt, &[d]);
            let inv = g.pow(r, m1);
            if f == Func::Asin {
                inv
            } else {
                g.neg(inv)
            }
        }
        Func::Atan => {
            let sq = g.pow(x, two);
            let d = g.add(one, sq);
            g.pow(d, m1)
        }
        Func::Sinh => g.func(Func::Cosh, &[x]),
        Func::Cosh => g.func(Func::Sinh, &[x]),
        Func::Tanh => {
            let sq = g.pow(node, two);
            g.sub(one, sq)
        }
        // 1/hypot(x, 1), which is 1/sqrt(x^2 + 1) without overflow of x^2 for |x| > 1e154
        Func::Asinh => {
            let r = g.func(Func::Hypot, &[x, one]);
            g.pow(r, m1)
        }
        // 1/(sqrt(x - 1)*sqrt(x + 1)): no cancellation in x^2 - 1 near x = 1
        Func::Acosh => {
            let below = g.sub(x, one);
            let above = g.add(x, one);
            let r1 = g.func(Func::Sqrt, &[below]);
            let r2 = g.func(Func::Sqrt, &[above]);
            let p = g.mul(r1, r2);
            g.pow(p, m1)
        }
        // 1/((1 - x)*(1 + x)): no cancellation in 1 - x^2 near |x| = 1
        Func::Atanh => {
            let below = g.sub(one, x);
            let above = g.add(x, one);
            let p = g.mul(below, above);
            g.pow(p, m1)
        }
        Func::Exp => node,
        Func::Expm1 => g.func(Func::Exp, &[x]),
        Func::Ln => g.pow(x, m1),
        Func::Log1p => {
            let d = g.add(x, one);
            g.pow(d, m1)
        }
        // 1/(ln(base)*x)
        Func::Log2 | Func::Log10 => {
            let base = g.constant(if f == Func::Log2 { 2.0 } else { 10.0 });
            let ln_base = g.func(Func::Ln, &[base]);
            let p = g.mul(ln_base, x);
            g.pow(p, m1)
        }
        // 1/(2*sqrt(x))
        Func::Sqrt => {
            let half = g.rational(1, 2);
            let inv = g.pow(node, m1);
            g.mul(half, inv)
        }
        // 1/(3*cbrt(x)^2)
        Func::Cbrt => {
            let third = g.rational(1, 3);
            let m2 = g.constant(-2.0);
            let inv = g.pow(node, m2);
            g.mul(third, inv)
        }
        Func::Abs => g.func(Func::Sign, &[x]),
        // ±2*exp(-x^2)/sqrt(pi)
        Func::Erf | Func::Erfc => {
            let sign = g.constant(if f == Func::Erf { 2.0 } else { -2.0 });
            let pi = g.named(Constant::Pi);
            let root = g.func(Func::Sqrt, &[pi]);
            let inv = g.pow(root, m1);
            let sq = g.pow(x, two);
            let nsq = g.neg(sq);
            let e = g.func(Func::Exp, &[nsq]);
            let se = g.mul(sign, e);
            g.mul(se, inv)
        }
        Func::Sigmoid => {
            let rest = g.sub(one, node);
            g.mul(node, rest)
        }
        Func::Softplus => g.func(Func::Sigmoid, &[x]),
        Func::Relu => g.func(Func::Step, &[x]),
        // Φ(x) + x*φ(x) = erfc(-x/sqrt(2))/2 + x*exp(-x^2/2)/sqrt(2*pi)
        Func::Gelu => {
            let root2 = g.func(Func::Sqrt, &[two]);
            let inv_root2 = g.pow(root2, m1);
            let scaled = g.mul(x, inv_root2);
            let u = g.neg(scaled);
            let tail = g.func(Func::Erfc, &[u]);
            let half = g.rational(1, 2);
            let cdf = g.mul(half, tail);
            let sq = g.pow(x, two);
            let mhalf = g.rational(-1, 2);
            let e = g.mul(mhalf, sq);
            let density = g.func(Func::Exp, &[e]);
            let pi = g.named(Constant::Pi);
            let two_pi = g.mul(two, pi);
            let root = g.func(Func::Sqrt, &[two_pi]);
            let inv = g.pow(root, m1);
            let xd = g.mul(x, density);
            let t = g.mul(xd, inv);
            g.add(cdf, t)
        }
        // s*(1 + x*(1 - s)), s = sigmoid(x)
        Func::Silu => {
            let s = g.func(Func::Sigmoid, &[x]);
            let rest = g.sub(one, s);
            let xr = g.mul(x, rest);
            let inner = g.add(one, xr);
            g.mul(s, inner)
        }
        // exp(min(x, 0)): 1 for x > 0, e^x otherwise (and 1 at 0 from both sides)
        Func::Elu => {
            let zero = g.constant(0.0);
            let m = g.func(Func::Min, &[x, zero]);
            g.func(Func::Exp, &[m])
        }
        Func::Sign | Func::Step | Func::Floor | Func::Ceil | Func::Round => return None,
        // atan2(y, x): d/dy = x/(x^2+y^2), d/dx = -y/(x^2+y^2)
        Func::Atan2 => {
            let (y, x) = (args[0], args[1]);
            let xx = g.pow(x, two);
            let yy = g.pow(y, two);
            let r2 = g.add(xx, yy);
            let num = if i == 0 { x } else { g.neg(y) };
            g.div(num, r2)
        }
        // hypot(a, b): d/da = a/hypot(a, b)
        Func::Hypot => g.div(args[i], node),
        Func::Min | Func::Max => {
            // min(a, b) is a when a <= b: d/da = 1 - step(a - b), d/db = step(a - b).
            // max(a, b) is a when a >= b: d/da = 1 - step(b - a), d/db = step(b - a).
            let (a, b) = (args[0], args[1]);
            let d = if f == Func::Min { g.sub(a, b) } else { g.sub(b, a) };
            let s = g.func(Func::Step, &[d]);
            if i == 0 {
                g.sub(one, s)
            } else {
                s
            }
        }
        // leaky_relu(x, a): d/dx = step(x) + a*(1 - step(x)) (a at 0), exactly 1 or a
        // (a + (1 - a)*step(x) gives 0 for x > 0 once |a| > 2^53); d/da = min(x, 0)
        Func::LeakyRelu => {
            let a = args[1];
            if i == 0 {
                let s = g.func(Func::Step, &[x]);
                let rest = g.sub(one, s);
                let p = g.mul(a, rest);
                g.add(s, p)
            } else {
                let zero = g.constant(0.0);
                g.func(Func::Min, &[x, zero])
            }
        }
        // clamp(x, lo, hi): d/dx = (1 - step(lo - x))*(1 - step(x - hi)),
        // d/dlo = step(lo - x), d/dhi = step(x - hi)
        Func::Clamp => {
            let (lo, hi) = (args[1], args[2]);
            let d_below = g.sub(lo, x);
            let below = g.func(Func::Step, &[d_below]);
            let d_above = g.sub(x, hi);
            let above = g.func(Func::Step, &[d_above]);
            match i {
                0 => {
                    let inside_lo = g.sub(one, below);
                    let inside_hi = g.sub(one, above);
                    g.mul(inside_lo, inside_hi)
                }
                1 => below,
                _ => above,
            }
        }
    })
}
