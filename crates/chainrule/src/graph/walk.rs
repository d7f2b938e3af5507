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
///
/// Depth first while the nodes reached are few; once they are an eighth of the ids below
/// the highest root, one pass down those ids marks the rest (an operand's id is below its
/// user's), reading the nodes in memory order instead of chasing operands across it.
pub fn reachable(g: &Graph, roots: &[NodeId]) -> Vec<NodeId> {
    let top = roots.iter().map(|r| r.index() + 1).max().unwrap_or(0);
    let budget = top / 8;
    let mut out = Vec::new();
    let mut seen = each_reachable(g, roots, |n| {
        out.push(n);
        out.len() < budget
    });
    if out.len() < budget {
        out.sort_unstable();
        return out;
    }
    // The walk stopped with operands still to visit: every marked node's operands are
    // marked on the way down, and the roots first.
    for r in roots {
        seen[r.index()] = true;
    }
    for i in (0..top).rev() {
        if seen[i] {
            for a in g.args(NodeId::from_index(i)) {
                seen[a.index()] = true;
            }
        }
    }
    (0..top).filter(|&i| seen[i]).map(NodeId::from_index).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Func;

    /// Every node reachable from `roots` by a plain search, in id order.
    fn by_search(g: &Graph, roots: &[NodeId]) -> Vec<NodeId> {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = roots.to_vec();
        while let Some(n) = stack.pop() {
            if seen.insert(n) {
                stack.extend(g.args(n));
            }
        }
        seen.into_iter().collect()
    }

    /// A few nodes reached (walked depth first) or most of the graph (the walk stops and a
    /// pass down the ids finishes it), from one root or many: the same nodes either way.
    #[test]
    fn reachable_is_the_same_walked_or_scanned() {
        let mut g = Graph::new();
        let xs: Vec<NodeId> = (0..200)
            .map(|k| {
                let v = g.intern_var(&format!("x{k}"));
                g.var_node(v)
            })
            .collect();
        let sins: Vec<NodeId> = xs.iter().map(|&x| g.func(Func::Sin, &[x])).collect();
        let coss: Vec<NodeId> = xs.iter().map(|&x| g.func(Func::Cos, &[x])).collect();
        let total = g.sum(&sins);
        let cases = [vec![total], vec![sins[3]], sins[..5].to_vec(), vec![coss[7], total], coss];
        for roots in cases {
            assert_eq!(reachable(&g, &roots), by_search(&g, &roots), "from {roots:?}");
        }
    }
}
