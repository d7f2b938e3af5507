//! Local partial derivatives: for a node and one of its operands, the derivative of the node
//! with respect to that operand, built as graph nodes that reuse the node and its operands.
//!
//! Kinks follow the subgradient conventions of SPEC.md: `relu'(0) = step(0) = 0`,
//! `abs'(0) = sign(0) = 0`, `min`/`max` pass the derivative of the first argument on a tie,
//! and `sign`, `step` have derivative 0 (they return `None`: no contribution at all).

use crate::graph::{Func, Graph, NodeId, Op};

/// d(node)/d(operand `i`), or `None` when it is identically zero.
pub fn partial(g: &mut Graph, node: NodeId, i: usize) -> Option<NodeId> {
    let args = g.args(node).to_vec();
    let a = args.first().copied().unwrap_or(node);
    Some(match g.op(node) {
        Op::Const(_) | Op::Var(_) => return None,
        Op::Add => g.constant(1.0),
        Op::Mul => args[1 - i],
        Op::Pow if i == 0 => power_base(g, a, args[1]),
        Op::Pow => {
            let ln_a = g.func(Func::Ln, &[a]);
            g.mul(node, ln_a)
        }
        Op::LogSumExp => {
            let d = g.sub(args[i], node);
            g.func(Func::Exp, &[d])
        }
        Op::Func(f) if f.arity() == 2 => return binary(g, f, args[0], args[1], i),
        Op::Func(f) => return unary(g, f, node, a),
    })
}

/// d(a^b)/da = b * a^(b-1)
fn power_base(g: &mut Graph, a: NodeId, b: NodeId) -> NodeId {
    let one = g.constant(1.0);
    let b1 = g.sub(b, one);
    let p = g.pow(a, b1);
    g.mul(b, p)
}

fn unary(g: &mut Graph, f: Func, node: NodeId, a: NodeId) -> Option<NodeId> {
    let one = g.constant(1.0);
    let two = g.constant(2.0);
    let m1 = g.constant(-1.0);
    Some(match f {
        Func::Sin => g.func(Func::Cos, &[a]),
        Func::Cos => {
            let s = g.func(Func::Sin, &[a]);
            g.neg(s)
        }
        Func::Tan => {
            let sq = g.pow(node, two);
            g.add(one, sq)
        }
        Func::Asin | Func::Acos => {
            let sq = g.pow(a, two);
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
            let sq = g.pow(a, two);
            let d = g.add(one, sq);
            g.pow(d, m1)
        }
        Func::Sinh => g.func(Func::Cosh, &[a]),
        Func::Cosh => g.func(Func::Sinh, &[a]),
        Func::Tanh => {
            let sq = g.pow(node, two);
            g.sub(one, sq)
        }
        Func::Exp => node,
        Func::Ln => g.pow(a, m1),
        Func::Sqrt => {
            let half = g.constant(0.5);
            let inv = g.pow(node, m1);
            g.mul(half, inv)
        }
        Func::Abs => g.func(Func::Sign, &[a]),
        Func::Sigmoid => {
            let rest = g.sub(one, node);
            g.mul(node, rest)
        }
        Func::Relu => g.func(Func::Step, &[a]),
        Func::Softplus => g.func(Func::Sigmoid, &[a]),
        Func::Sign | Func::Step => return None,
        Func::Atan2 | Func::Min | Func::Max => unreachable!("binary function"),
    })
}

fn binary(g: &mut Graph, f: Func, a: NodeId, b: NodeId, i: usize) -> Option<NodeId> {
    let one = g.constant(1.0);
    Some(match f {
        Func::Atan2 => {
            // atan2(y, x): d/dy = x/(x^2+y^2), d/dx = -y/(x^2+y^2)
            let two = g.constant(2.0);
            let xx = g.pow(b, two);
            let yy = g.pow(a, two);
            let r2 = g.add(xx, yy);
            let num = if i == 0 { b } else { g.neg(a) };
            g.div(num, r2)
        }
        Func::Min | Func::Max => {
            // min(a, b) is a when a <= b: d/da = 1 - step(a - b), d/db = step(a - b).
            // max(a, b) is a when a >= b: d/da = 1 - step(b - a), d/db = step(b - a).
            let d = if f == Func::Min { g.sub(a, b) } else { g.sub(b, a) };
            let s = g.func(Func::Step, &[d]);
            if i == 0 {
                g.sub(one, s)
            } else {
                s
            }
        }
        _ => unreachable!("unary function"),
    })
}
