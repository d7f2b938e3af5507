//! Iterative traversals. Because operands always precede their users, "every node reachable
//! from these roots, in ascending id order" is already a topological order.

use super::{Graph, NodeId, Op};
use rustc_hash::FxHashMap as HashMap;

/// Visits every node reachable from `roots` once (depth first, in no useful order) until
/// `visit` returns false; returns the marks of the nodes seen, by node index.
#[inline(always)]
fn each_reachable(g: &Graph, roots: &[NodeId], mut visit: impl FnMut(NodeId) -> bool) -> Vec<bool> {
    let mut seen = vec![false; g.len()];
    let mut stack: Vec<NodeId> = roots.to_vec();
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut seen[n.index()], true) {
            continue;
        }
        if !visit(n) {
            break;
        }
        stack.extend(g.args(n).iter().filter(|a| !seen[a.index()]));
    }
    seen
}

/// Every node reachable from `roots`, operands before users.
pub fn reachable(g: &Graph, roots: &[NodeId]) -> Vec<NodeId> {
    let mut out = Vec::new();
    let seen = each_reachable(g, roots, |n| {
        out.push(n);
        true
    });
    if out.len() >= g.len() / 8 {
        // Most of the graph: reading the marks in id order is cheaper than sorting.
        out.clear();
        out.extend((0..g.len()).filter(|&i| seen[i]).map(NodeId::from_index));
    } else {
        out.sort_unstable();
    }
    out
}

/// The number of nodes reachable from `roots`, if it is at most `limit` (the walk stops
/// once it has seen more).
pub fn count_reachable(g: &Graph, roots: &[NodeId], limit: usize) -> Option<usize> {
    let mut count = 0;
    each_reachable(g, roots, |_| {
        count += 1;
        count <= limit
    });
    (count <= limit).then_some(count)
}

/// How often each node is used as an operand by the nodes in `order`, plus once per
/// appearance in `roots`. Indexed by node index.
pub fn use_counts(g: &Graph, order: &[NodeId], roots: &[NodeId]) -> Vec<u32> {
    let mut uses = vec![0u32; g.len()];
    for &n in order {
        for a in g.args(n) {
            uses[a.index()] += 1;
        }
    }
    for r in roots {
        uses[r.index()] += 1;
    }
    uses
}

/// The variables reachable from `roots`, in id order (the order they were first built).
pub fn free_vars(g: &Graph, roots: &[NodeId]) -> Vec<NodeId> {
    reachable(g, roots).into_iter().filter(|&n| matches!(g.op(n), Op::Var(_))).collect()
}

/// The longest operand path below each root (a leaf has depth 0).
pub fn depth(g: &Graph, roots: &[NodeId]) -> usize {
    let order = reachable(g, roots);
    let mut depth = HashMap::with_capacity_and_hasher(order.len(), Default::default());
    let mut deepest = 0;
    for n in order {
        let d = g.args(n).iter().map(|a| depth[a] + 1).max().unwrap_or(0);
        deepest = deepest.max(d);
        depth.insert(n, d);
    }
    deepest
}
