//! Symbolic reverse-mode differentiation over the DAG.
//!
//! One backward sweep, in reverse topological order, gives each node an adjoint: the
//! derivative of the root with respect to that node, built as new graph nodes from the local
//! partials in `rules.rs`. The adjoints of the variables are the gradient. All derivatives
//! come out of the one sweep, share nodes with the formula and with one another, and the
//! work is proportional to the formula's size (the cheap-gradient principle): the gradient
//! of an n-fold product reuses the product's own prefix chain and builds the suffix
//! products as adjoints, instead of n separate products of n-1 factors.
//!
//! Higher orders differentiate derivatives in the same graph.

pub mod point;
mod rules;

use crate::error::{Error, ErrorKind, Result};
use crate::graph::{walk, Graph, NodeId, Number, Op};

/// d(root)/d(v) for every `v` in `wrt` (variable nodes), from one reverse sweep.
///
/// A node's contributions (one per use) wait until the sweep reaches the node, when all of
/// them are known, and are then added as one [`Graph::sum`]: a node with many users (the
/// shift `m` of a logsumexp written out) gets a balanced tree of additions, not a chain whose
/// rounding error grows with the number of users.
pub fn grad(g: &mut Graph, root: NodeId, wrt: &[NodeId]) -> Result<Vec<NodeId>> {
    let order = walk::reachable(g, &[root]);
    // The sweep makes about a node or two per node it passes.
    g.reserve(order.len());
    let active = active_nodes(g, &order, wrt);
    let mut pending = Pending::new(g, &order, &active, root);
    let mut reused = rules::Reused::default();
    // The variables' adjoints, by node index up to the last of `wrt` (a table read in order,
    // where a map would be probed at random).
    let mut adjoint: Vec<Option<Scaled>> =
        vec![None; wrt.iter().map(|v| v.index() + 1).max().unwrap_or(0)];
    pending.push(root, Scaled::node(g.constant(1.0)));
    for &node in order.iter().rev() {
        let contributions = pending.of(node);
        if contributions.is_empty() {
            continue;
        }
        let adj = total(g, contributions);
        let op = g.op(node);
        if let (Op::Var(_), Some(slot)) = (op, adjoint.get_mut(node.index())) {
            *slot = Some(adj);
        }
        for i in 0..g.args(node).len() {
            let arg = g.args(node)[i];
            if !active[arg.index()] {
                continue;
            }
            // A sum passes its adjoint on as it is (its partials are 1).
            let contribution = match op {
                Op::Add => adj,
                _ => match rules::partial(g, node, i, &mut reused) {
                    Some(local) => adj.times(g, local),
                    None => continue,
                },
            };
            pending.push(arg, contribution);
        }
        check_size(g)?;
    }
    let zero = Scaled::node(g.constant(0.0));
    Ok(wrt.iter().map(|v| adjoint[v.index()].unwrap_or(zero).build(g)).collect())
}

/// The contributions waiting for each node, in the order the sweep makes them: each node's
/// in one run of a shared table, laid out before the sweep from the number of its active
/// users (and one for the root), so that a node with many users reads them from one place.
struct Pending {
    /// Where each node's run starts in `slots`, by node index.
    start: Vec<u32>,
    /// How many contributions each node's run holds so far.
    filled: Vec<u32>,
    slots: Vec<Scaled>,
}

impl Pending {
    /// Room for every contribution the sweep from `root` over `order` can make.
    fn new(g: &Graph, order: &[NodeId], active: &[bool], root: NodeId) -> Pending {
        let mut start = vec![0u32; g.len() + 1];
        start[root.index() + 1] += 1;
        for &n in order {
            for a in g.args(n).iter().filter(|a| active[a.index()]) {
                start[a.index() + 1] += 1;
            }
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let slots = vec![Scaled::node(root); start[g.len()] as usize];
        Pending { start, filled: vec![0; g.len()], slots }
    }

    fn push(&mut self, node: NodeId, contribution: Scaled) {
        let i = node.index();
        self.slots[(self.start[i] + self.filled[i]) as usize] = contribution;
        self.filled[i] += 1;
    }

    /// The contributions made to `node`, in order.
    fn of(&self, node: NodeId) -> &[Scaled] {
        let (start, filled) = (self.start[node.index()] as usize, self.filled[node.index()]);
        &self.slots[start..start + filled as usize]
    }
}

/// The adjoint from its contributions: one stays scaled, more are built and added.
fn total(g: &mut Graph, contributions: &[Scaled]) -> Scaled {
    if let [one] = contributions[..] {
        return one;
    }
    let terms: Vec<NodeId> = contributions.iter().map(|c| c.build(g)).collect();
    Scaled::node(g.sum(&terms))
}

/// An adjoint as `coefficient * node`, the number kept apart until a sum or the result needs
/// the node: a chain of partials with numbers in them (`-exp(-u)`) then costs one product
/// each, where merging every number into the product's leading coefficient at once would
/// rebuild the whole chain each time.
#[derive(Clone, Copy)]
struct Scaled {
    coefficient: Number,
    node: NodeId,
}

impl Scaled {
    fn node(node: NodeId) -> Scaled {
        Scaled { coefficient: Number::int(1), node }
    }

    /// `self * local`.
    fn times(self, g: &mut Graph, local: NodeId) -> Scaled {
        let (d, rest) = match g.number_of(local) {
            Some(d) => (d, g.constant(1.0)),
            None => g.split_shallow(local),
        };
        let c = self.coefficient * d;
        if Graph::foldable_number(c, &[self.coefficient, d]) && !c.is_zero() {
            Scaled { coefficient: c, node: g.mul(self.node, rest) }
        } else {
            let node = self.build(g);
            Scaled::node(g.mul(node, local))
        }
    }

    fn build(self, g: &mut Graph) -> NodeId {
        g.scale(self.coefficient, self.node)
    }
}

/// Nodes that depend on any of `wrt`; only their adjoints matter.
fn active_nodes(g: &Graph, order: &[NodeId], wrt: &[NodeId]) -> Vec<bool> {
    let mut active = vec![false; g.len()];
    for v in wrt {
        if v.index() < active.len() {
            active[v.index()] = true;
        }
    }
    for &n in order {
        if matches!(g.op(n), Op::Var(_)) {
            continue;
        }
        active[n.index()] = g.args(n).iter().any(|a| active[a.index()]);
    }
    active
}

fn check_size(g: &Graph) -> Result<()> {
    if g.len() > g.node_limit() {
        return Err(Error::new(ErrorKind::TooManyNodes { limit: g.node_limit() }).with_hint(
            "lower the order or simplify the formula, or raise the limit (Graph::set_node_limit)",
        ));
    }
    Ok(())
}

/// The `order`-th derivative of `root` with respect to `var` (order 0 is `root`).
pub fn nth_derivative(g: &mut Graph, root: NodeId, var: NodeId, order: usize) -> Result<NodeId> {
    let mut d = root;
    for _ in 0..order {
        d = grad(g, d, &[var])?[0];
    }
    Ok(d)
}

/// The Hessian from a gradient (`gradient[i] = d(root)/d(wrt[i])`, as [`grad`] gives it):
/// `h[i][j] = d2(root)/d(wrt[i])d(wrt[j])`, by differentiating each gradient entry by the
/// variables from its own on; the lower triangle is the same nodes as the upper.
pub fn hessian(g: &mut Graph, gradient: &[NodeId], wrt: &[NodeId]) -> Result<Vec<Vec<NodeId>>> {
    let upper: Vec<Vec<NodeId>> =
        gradient.iter().enumerate().map(|(i, &d)| grad(g, d, &wrt[i..])).collect::<Result<_>>()?;
    let entry = |i: usize, j: usize| if j >= i { upper[i][j - i] } else { upper[j][i - j] };
    Ok((0..wrt.len()).map(|i| (0..wrt.len()).map(|j| entry(i, j)).collect()).collect())
}
