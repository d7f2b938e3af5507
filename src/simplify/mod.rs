//! The simplifier: rebuilds the part of the graph reachable from some roots bottom-up into
//! canonical form, on top of what the constructors already do.
//!
//! - Sums are flattened into terms `coefficient * term`; like terms combine, constants fold,
//!   and the terms are rebuilt as a left-to-right chain in canonical order: a positive
//!   constant first, then positive terms, then negative ones (`1 + x - 2*y`).
//! - Products are flattened into `base ^ exponent` factors; like factors combine
//!   (`x*x*y/x` is `x*y`), and the product is rebuilt as `c * f1 * f2 ... / (d1 * d2 ...)`.
//! - A sum or product nested in another of its kind is flattened into it only when it has
//!   no other user. A shared one stays one node, so that simplifying never undoes the
//!   sharing that keeps gradients small (the suffix products of a long product's gradient,
//!   the adjoints of a network).
//!
//! One pass usually reaches the fixed point; the driver repeats until the roots stop changing.

use crate::error::{Error, ErrorKind, Result};
use crate::graph::{walk, Graph, NodeId, Op};
use std::collections::HashMap;

/// The canonical forms of `roots`, in the same graph.
pub fn simplify(g: &mut Graph, roots: &[NodeId]) -> Result<Vec<NodeId>> {
    let mut current = roots.to_vec();
    for _ in 0..4 {
        let next = simplify_once(g, &current)?;
        if next == current {
            break;
        }
        current = next;
    }
    Ok(current)
}

/// The canonical form of one root.
pub fn simplify_one(g: &mut Graph, root: NodeId) -> Result<NodeId> {
    Ok(simplify(g, &[root])?[0])
}

fn simplify_once(g: &mut Graph, roots: &[NodeId]) -> Result<Vec<NodeId>> {
    let order = walk::reachable(g, roots);
    let uses = walk::use_counts(g, &order, roots);
    let absorbed = absorbed_nodes(g, &order, &uses);
    let mut new: HashMap<NodeId, NodeId> = HashMap::with_capacity(order.len());
    for &n in &order {
        if absorbed[n.index()] {
            continue;
        }
        let rebuilt = match g.op(n) {
            Op::Const(_) | Op::Var(_) => n,
            Op::Add => {
                let leaves = leaves(g, n, Op::Add, &absorbed, &new);
                rebuild_sum(g, &leaves)
            }
            Op::Mul => {
                let leaves = leaves(g, n, Op::Mul, &absorbed, &new);
                rebuild_product(g, &leaves)
            }
            Op::Pow => {
                let (a, b) = (new[&g.args(n)[0]], new[&g.args(n)[1]]);
                g.pow(a, b)
            }
            Op::Func(f) => {
                let args: Vec<NodeId> = g.args(n).iter().map(|a| new[a]).collect();
                g.func(f, &args)
            }
            Op::LogSumExp => {
                let args: Vec<NodeId> = g.args(n).iter().map(|a| new[a]).collect();
                g.logsumexp(&args)
            }
        };
        new.insert(n, rebuilt);
        if g.len() > g.node_limit() {
            return Err(Error::new(ErrorKind::TooManyNodes {
                limit: g.node_limit(),
            }));
        }
    }
    Ok(roots.iter().map(|r| new[r]).collect())
}

/// A sum inside a sum (a product inside a product) with no other user: its parent
/// flattens it, so it needs no canonical form of its own.
fn absorbed_nodes(g: &Graph, order: &[NodeId], uses: &[u32]) -> Vec<bool> {
    let mut absorbed = vec![false; g.len()];
    for &n in order {
        let op = g.op(n);
        if !matches!(op, Op::Add | Op::Mul) {
            continue;
        }
        for &a in g.args(n) {
            if g.op(a) == op && uses[a.index()] == 1 {
                absorbed[a.index()] = true;
            }
        }
    }
    absorbed
}

/// The operands of the `op`-tree rooted at `n`, through absorbed nodes, already rebuilt.
fn leaves(
    g: &Graph,
    n: NodeId,
    op: Op,
    absorbed: &[bool],
    new: &HashMap<NodeId, NodeId>,
) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack: Vec<NodeId> = g.args(n).iter().rev().copied().collect();
    while let Some(a) = stack.pop() {
        if absorbed[a.index()] && g.op(a) == op {
            stack.extend(g.args(a).iter().rev());
        } else {
            out.push(new[&a]);
        }
    }
    out
}

/// Adds `value` to the entry for `key`, keeping first-seen order.
fn accumulate(
    list: &mut Vec<(NodeId, f64)>,
    index: &mut HashMap<NodeId, usize>,
    key: NodeId,
    value: f64,
) {
    match index.get(&key) {
        Some(&i) => list[i].1 += value,
        None => {
            index.insert(key, list.len());
            list.push((key, value));
        }
    }
}

fn rebuild_sum(g: &mut Graph, leaves: &[NodeId]) -> NodeId {
    let mut constant = 0.0;
    let mut terms: Vec<(NodeId, f64)> = Vec::new();
    let mut index = HashMap::new();
    for &leaf in leaves {
        match g.value(leaf) {
            Some(v) => constant += v,
            None => {
                let (c, t) = g.split_coefficient(leaf);
                accumulate(&mut terms, &mut index, t, c);
            }
        }
    }
    let mut scaled: Vec<NodeId> = terms
        .into_iter()
        .filter(|&(_, c)| c != 0.0)
        .map(|(t, c)| g.scale(c, t))
        .collect();
    scaled.sort_by(|&a, &b| g.canonical_cmp(a, b));
    let mut acc = (constant > 0.0).then(|| g.constant(constant));
    for t in scaled {
        acc = Some(match acc {
            Some(a) => g.add(a, t),
            None => t,
        });
    }
    if constant < 0.0 || constant.is_nan() {
        let c = g.constant(constant);
        acc = Some(match acc {
            Some(a) => g.add(a, c),
            None => c,
        });
    }
    acc.unwrap_or_else(|| g.constant(0.0))
}

fn rebuild_product(g: &mut Graph, leaves: &[NodeId]) -> NodeId {
    let mut coefficient = 1.0;
    let mut factors: Vec<(NodeId, f64)> = Vec::new();
    let mut index = HashMap::new();
    for &leaf in leaves {
        if let Some(v) = g.value(leaf) {
            coefficient *= v;
            continue;
        }
        let (c, rest) = g.split_coefficient(leaf);
        coefficient *= c;
        let (base, exponent) = match g.op(rest) {
            Op::Pow => match g.value(g.args(rest)[1]) {
                Some(e) => (g.args(rest)[0], e),
                None => (rest, 1.0),
            },
            _ => (rest, 1.0),
        };
        accumulate(&mut factors, &mut index, base, exponent);
    }
    if coefficient == 0.0 {
        return g.constant(0.0);
    }
    let (mut numerator, mut denominator) = (Vec::new(), Vec::new());
    for (base, e) in factors {
        if e == 0.0 {
            continue;
        }
        let exponent = g.constant(e.abs());
        let power = g.pow(base, exponent);
        if e > 0.0 {
            numerator.push(power);
        } else {
            denominator.push(power);
        }
    }
    numerator.sort_by(|&a, &b| g.canonical_cmp(a, b));
    denominator.sort_by(|&a, &b| g.canonical_cmp(a, b));
    let c = g.constant(coefficient);
    let top = numerator.into_iter().fold(c, |acc, f| g.mul(acc, f));
    if denominator.is_empty() {
        return top;
    }
    let first = denominator[0];
    let bottom = denominator[1..].iter().fold(first, |acc, &f| g.mul(acc, f));
    let m1 = g.constant(-1.0);
    let inverse = g.pow(bottom, m1);
    g.mul(top, inverse)
}
