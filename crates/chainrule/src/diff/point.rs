//! Backpropagation at a point, in numbers: every node's forward value and its adjoint (the
//! derivative of the result with respect to that node's value), with the terms that make
//! each adjoint, for `graph --at` and `trace`.
//!
//! The local partials are the ones the symbolic sweep uses (`rules::partial`, built as graph
//! nodes and evaluated here on one tape), so the numbers and the symbolic derivatives follow
//! one set of rules. The sweep is the symbolic one done on f64: in reverse topological order,
//! each node's adjoint is passed to its operands times the local partial, and summed where a
//! node has several users. A loop over ids: no recursion, whatever the depth.

use super::rules;
use crate::error::Result;
use crate::eval;
use crate::graph::{walk, Graph, NodeId, Op, VarId};
use rustc_hash::FxHashMap as HashMap;

/// One contribution to an operand's adjoint: `user_adjoint * local`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Term {
    /// The node that uses the operand.
    pub user: NodeId,
    /// Which operand of `user` it is (a node may be an operand twice: `x*x`).
    pub operand: usize,
    /// d(user)/d(operand) at the point.
    pub local: f64,
    /// d(user)/d(operand) as a node of the graph (what `diff` builds for it).
    pub partial: NodeId,
    /// The user's adjoint.
    pub user_adjoint: f64,
}

/// Values and adjoints at one point.
#[derive(Clone, Debug)]
pub struct Backprop {
    root: NodeId,
    /// The nodes the root depends on, operands before users.
    order: Vec<NodeId>,
    values: HashMap<NodeId, f64>,
    adjoints: HashMap<NodeId, f64>,
    /// For each node, the terms of its adjoint in the order the sweep added them.
    terms: HashMap<NodeId, Vec<Term>>,
}

impl Backprop {
    /// Runs the forward pass over `root` and `also` (nodes that get values but no adjoint,
    /// such as derivative nodes drawn beside the formula) and the reverse sweep from `root`;
    /// `inputs` are the variables that `values` gives, in order.
    pub fn run(
        g: &mut Graph,
        root: NodeId,
        also: &[NodeId],
        inputs: &[VarId],
        values: &[f64],
    ) -> Result<Backprop> {
        let order = walk::reachable(g, &[root]);
        let mut partials = Vec::new();
        let mut reused = rules::Reused::default();
        for &node in &order {
            for i in 0..g.args(node).len() {
                if let Some(p) = rules::partial(g, node, i, &mut reused) {
                    partials.push((node, i, p));
                }
            }
        }
        let mut wanted = walk::reachable(g, &[&[root], also].concat());
        let valued = wanted.len();
        wanted.extend(partials.iter().map(|&(_, _, p)| p));
        let numbers = eval::evaluate(g, &wanted, inputs, values)?;
        let node_values: HashMap<NodeId, f64> =
            wanted[..valued].iter().copied().zip(numbers.iter().copied()).collect();
        let locals = partials.iter().zip(&numbers[valued..]).map(|(&(n, i, p), &v)| (n, i, p, v));
        let mut sweep = Backprop {
            root,
            order,
            values: node_values,
            adjoints: HashMap::default(),
            terms: HashMap::default(),
        };
        sweep.backward(g, locals.collect());
        Ok(sweep)
    }

    /// The reverse sweep over `locals` (node, operand, d node/d operand as a node and a number).
    fn backward(&mut self, g: &Graph, locals: Vec<(NodeId, usize, NodeId, f64)>) {
        let mut by_node: HashMap<NodeId, Vec<(usize, NodeId, f64)>> = HashMap::default();
        for (n, i, p, v) in locals {
            by_node.entry(n).or_default().push((i, p, v));
        }
        self.adjoints.insert(self.root, 1.0);
        for &node in self.order.iter().rev() {
            let Some(&adjoint) = self.adjoints.get(&node) else {
                continue;
            };
            for &(i, partial, local) in by_node.get(&node).map(Vec::as_slice).unwrap_or(&[]) {
                let arg = g.args(node)[i];
                let term = Term { user: node, operand: i, local, partial, user_adjoint: adjoint };
                *self.adjoints.entry(arg).or_insert(0.0) += adjoint * local;
                self.terms.entry(arg).or_default().push(term);
            }
        }
        // An operand whose every local partial is identically zero (`step(x)`) still has
        // an adjoint: zero.
        for &node in &self.order {
            self.adjoints.entry(node).or_insert(0.0);
        }
    }

    /// The result the adjoints are derivatives of.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The nodes the result depends on, in computation order.
    pub fn order(&self) -> &[NodeId] {
        &self.order
    }

    /// The forward value of a node of the result or of `also`.
    pub fn value(&self, n: NodeId) -> Option<f64> {
        self.values.get(&n).copied()
    }

    /// d(result)/d(node), for the nodes the result depends on.
    pub fn adjoint(&self, n: NodeId) -> Option<f64> {
        self.adjoints.get(&n).copied()
    }

    /// The terms of a node's adjoint, in the order the sweep added them (its users from the
    /// last computed to the first).
    pub fn terms(&self, n: NodeId) -> &[Term] {
        self.terms.get(&n).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// The nodes among `order` that depend on any of the variable nodes `wrt`: the ones whose
/// adjoints the derivatives with respect to `wrt` need.
pub fn depends_on(g: &Graph, order: &[NodeId], wrt: &[NodeId]) -> Vec<bool> {
    let mut active = vec![false; g.len()];
    for v in wrt {
        if v.index() < active.len() {
            active[v.index()] = true;
        }
    }
    for &n in order {
        if !matches!(g.op(n), Op::Var(_)) {
            active[n.index()] = g.args(n).iter().any(|a| active[a.index()]);
        }
    }
    active
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Formula;

    fn at(source: &str, point: &[f64]) -> (Formula, Backprop) {
        let mut f = Formula::parse(source).unwrap();
        let (root, inputs) = (f.root(), f.var_ids().to_vec());
        let b = Backprop::run(f.graph_mut(), root, &[], &inputs, point).unwrap();
        (f, b)
    }

    #[test]
    fn a_product_passes_each_factor_the_other() {
        let (mut f, b) = at("x*y", &[3.0, 5.0]);
        assert_eq!(b.value(b.root()), Some(15.0));
        let (x, y) = (f.var("x"), f.var("y"));
        assert_eq!((b.adjoint(x), b.adjoint(y)), (Some(5.0), Some(3.0)));
    }

    #[test]
    fn a_shared_node_sums_its_users() {
        let (mut f, b) = at("u = x^2; sin(u) + u", &[0.5]);
        let x = f.var("x");
        let expected = (0.25f64.cos() + 1.0) * 2.0 * 0.5;
        assert!((b.adjoint(x).unwrap() - expected).abs() < 1e-15);
        let u = f.definitions()[0].1;
        assert_eq!(b.terms(u).len(), 2);
    }

    #[test]
    fn a_square_counts_both_operands() {
        let (mut f, b) = at("x*x", &[3.0]);
        let x = f.var("x");
        assert_eq!(b.adjoint(x), Some(6.0));
    }
}
