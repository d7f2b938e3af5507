//! Where a wrong claim goes wrong: the smallest part of the claim that differs from the
//! corresponding part of the true derivative, at a point where the two differ.
//!
//! Both are taken apart the same way, from the top: a sum into its terms, a product into
//! its factors (however they are nested). Parts are paired by their values at the point,
//! so the arrangement of either side does not matter. When exactly one part is left
//! unpaired on each side, the search descends into that pair; into a function's argument
//! when the functions are the same and one argument differs; into a power's base or
//! exponent when the other is equal. It stops where the structure stops matching: the
//! parts left unpaired there (a term too many, a factor missing, two different factors)
//! are what it reports.

use super::approx::{Approx, Values};
use crate::graph::{Graph, NodeId, Op};

/// The unpaired parts at the point where the search stopped, joined by `op` (`Add`: a sum
/// of the parts, `Mul`: a product; one part each otherwise).
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub claim: Vec<NodeId>,
    pub truth: Vec<NodeId>,
    pub op: Op,
    /// The claim's nodes the search went through, from the top (for placing the parts in
    /// the claim text: a node written twice is the one inside these).
    pub path: Vec<NodeId>,
}

/// The smallest differing parts of `claim` and `truth` at the point of `values`.
pub(crate) fn locate(g: &Graph, values: &mut Values, claim: NodeId, truth: NodeId) -> Found {
    let (mut c, mut d) = (claim, truth);
    let mut path = Vec::new();
    loop {
        path.push(c);
        let next = match (g.op(c), g.op(d)) {
            (Op::Add, Op::Add) | (Op::Mul, Op::Mul) => {
                let op = g.op(c);
                let (uc, ud) = unpaired(g, values, parts(g, c, op), parts(g, d, op));
                let constant = |n: &NodeId| matches!(g.op(*n), Op::Const(_) | Op::Named(_));
                if uc.iter().chain(&ud).all(constant) {
                    // Only numbers differ (a sign, a factor 2): the term says more.
                    break;
                } else if uc.len() == 1 && ud.len() == 1 {
                    path.extend(between(g, c, uc[0], op).into_iter().skip(1));
                    (uc[0], ud[0])
                } else {
                    return Found { claim: uc, truth: ud, op, path };
                }
            }
            (Op::Func(f), Op::Func(h)) if f == h => match one_differing(g, values, c, d) {
                Some(pair) => pair,
                None => break,
            },
            (Op::Pow, Op::Pow) => match one_differing(g, values, c, d) {
                Some(pair) => pair,
                None => break,
            },
            _ => break,
        };
        (c, d) = next;
    }
    path.pop();
    Found { claim: vec![c], truth: vec![d], op: g.op(c), path }
}

/// The terms of a sum or the factors of a product, through nested sums or products.
pub(crate) fn parts(g: &Graph, n: NodeId, op: Op) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack = vec![n];
    while let Some(m) = stack.pop() {
        if g.op(m) == op {
            stack.extend(g.args(m).iter().rev());
        } else {
            out.push(m);
        }
    }
    out
}

/// The nodes of `op` between `top` and its part `part` (for [`Found::path`]).
fn between(g: &Graph, top: NodeId, part: NodeId, op: Op) -> Vec<NodeId> {
    let mut stack = vec![(top, 0usize)];
    let mut trail: Vec<NodeId> = Vec::new();
    while let Some((m, depth)) = stack.pop() {
        trail.truncate(depth);
        if m == part {
            return trail;
        }
        if g.op(m) == op {
            trail.push(m);
            stack.extend(g.args(m).iter().rev().map(|&a| (a, depth + 1)));
        }
    }
    Vec::new()
}

/// The parts of each side left when every part of the claim is paired with an unpaired
/// part of the truth of equal value.
fn unpaired(
    g: &Graph,
    values: &mut Values,
    claim: Vec<NodeId>,
    mut truth: Vec<NodeId>,
) -> (Vec<NodeId>, Vec<NodeId>) {
    let mut left = Vec::new();
    for c in claim {
        let vc = values.of(g, c);
        match truth.iter().position(|&d| d == c || equal(vc, values.of(g, d))) {
            Some(i) => {
                truth.remove(i);
            }
            None => left.push(c),
        }
    }
    (left, truth)
}

/// The one operand pair of two nodes of the same kind that differs, if only one does.
fn one_differing(g: &Graph, values: &mut Values, c: NodeId, d: NodeId) -> Option<(NodeId, NodeId)> {
    let (ca, da) = (g.args(c), g.args(d));
    if ca.len() != da.len() {
        return None;
    }
    let differing: Vec<(NodeId, NodeId)> = ca
        .iter()
        .zip(da)
        .filter(|&(&a, &b)| a != b && !equal(values.of(g, a), values.of(g, b)))
        .map(|(&a, &b)| (a, b))
        .collect();
    (differing.len() == 1).then(|| differing[0])
}

/// Equal as far as the values' bounds can tell.
pub(crate) fn equal(a: Approx, b: Approx) -> bool {
    if !a.is_known() || !b.is_known() {
        return false;
    }
    let diff = a.sub(b).value().abs();
    diff <= 4.0 * (a.err + b.err)
}
