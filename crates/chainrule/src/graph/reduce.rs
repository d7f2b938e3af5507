//! The reducers and losses of the operator table ([`Reducer`]), expanded into graph nodes
//! over their list items: one exhaustive `match`, so a new reducer cannot be forgotten.

use super::{Func, Graph, NodeId};
use crate::operators::Reducer;

/// `r` over the items `a` (and `b`, for the two-list forms, of the same length).
pub fn expand(g: &mut Graph, r: Reducer, a: &[NodeId], b: &[NodeId]) -> NodeId {
    match r {
        Reducer::Sum => sum(g, a.iter().copied()),
        Reducer::Mean => mean(g, a.iter().copied()),
        Reducer::LogSumExp => g.logsumexp(a),
        Reducer::Dot => dot(g, a, b),
        Reducer::Mse => {
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
        Reducer::CrossEntropy => {
            let logs: Vec<NodeId> = a.iter().map(|&p| g.func(Func::Ln, &[p])).collect();
            let s = dot(g, b, &logs);
            g.neg(s)
        }
        Reducer::Bce => {
            let losses: Vec<NodeId> = a.iter().zip(b).map(|(&p, &y)| bce_one(g, p, y)).collect();
            mean(g, losses.into_iter())
        }
        Reducer::SoftmaxCrossEntropy => {
            // -sum(y_i * (l_i - logsumexp(l))) = sum(y)*logsumexp(l) - dot(y, l)
            let lse = g.logsumexp(a);
            let total = sum(g, b.iter().copied());
            let first = g.mul(total, lse);
            let second = dot(g, b, a);
            g.sub(first, second)
        }
        Reducer::Prod => {
            let one = g.constant(1.0);
            a.iter().fold(one, |acc, &x| g.mul(acc, x))
        }
        Reducer::Max => fold_pairs(g, Func::Max, a),
        Reducer::Min => fold_pairs(g, Func::Min, a),
        Reducer::Norm => {
            let squares = dot(g, a, a);
            g.func(Func::Sqrt, &[squares])
        }
    }
}

/// `f(f(a0, a1), a2) ...` over at least one item.
fn fold_pairs(g: &mut Graph, f: Func, a: &[NodeId]) -> NodeId {
    let (&first, rest) = a.split_first().expect("a reduction has at least one item");
    rest.iter().fold(first, |acc, &x| g.func(f, &[acc, x]))
}

fn sum(g: &mut Graph, items: impl Iterator<Item = NodeId>) -> NodeId {
    let terms: Vec<NodeId> = items.collect();
    g.sum(&terms)
}

fn mean(g: &mut Graph, items: impl ExactSizeIterator<Item = NodeId>) -> NodeId {
    let n = items.len() as i64;
    let s = sum(g, items);
    let inv = g.rational(1, n);
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
