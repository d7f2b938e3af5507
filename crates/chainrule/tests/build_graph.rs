//! The graph's storage and the checks the derivative build leans on: the petgraph view built
//! on demand, `Graph::is_sum` against `Graph::sum`, and the bounded reachability count.

use chainrule::graph::{walk, Func, Graph, NodeId, SUM_RUN};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

/// `sin(k*x)` for k = 1..=n: distinct terms that no rule merges.
fn terms(g: &mut Graph, n: usize) -> Vec<NodeId> {
    let x = g.var("x");
    (1..=n)
        .map(|k| {
            let c = g.constant(k as f64);
            let kx = g.mul(c, x);
            g.func(Func::Sin, &[kx])
        })
        .collect()
}

#[test]
fn the_petgraph_view_mirrors_the_operands_and_follows_growth() {
    let mut g = Graph::new();
    let x = g.var("x");
    let y = g.var("y");
    let xy = g.mul(x, y);
    let s = g.add(xy, x);
    let dag = g.dag();
    assert_eq!(dag.node_count(), g.len());
    for id in [xy, s] {
        let index = petgraph::graph::NodeIndex::new(id.index());
        let mut operands: Vec<(u32, usize)> = dag
            .edges_directed(index, Direction::Incoming)
            .map(|e| (*e.weight(), e.source().index()))
            .collect();
        operands.sort_unstable();
        let expected: Vec<(u32, usize)> =
            g.args(id).iter().enumerate().map(|(pos, a)| (pos as u32, a.index())).collect();
        assert_eq!(operands, expected, "operands of {id:?}");
    }
    // petgraph lists users newest first, as when the edges were added with the nodes.
    let users = |g: &Graph| -> Vec<usize> {
        let index = petgraph::graph::NodeIndex::new(x.index());
        g.dag().neighbors_directed(index, Direction::Outgoing).map(|n| n.index()).collect()
    };
    assert_eq!(users(&g), vec![s.index(), xy.index()]);
    let later = g.func(Func::Sin, &[x]);
    assert_eq!(g.dag().node_count(), g.len(), "the view is rebuilt after the graph grew");
    assert_eq!(users(&g), vec![later.index(), s.index(), xy.index()]);
}

#[test]
fn is_sum_tells_what_sum_builds_without_building() {
    for n in [1, 2, 3, SUM_RUN - 1, SUM_RUN, SUM_RUN + 1, 3 * SUM_RUN + 5, 1000] {
        let mut g = Graph::new();
        let t = terms(&mut g, n);
        let s = g.sum(&t);
        let before = g.len();
        assert!(g.is_sum(s, &t), "{n} terms");
        assert_eq!(g.len(), before, "is_sum added nodes");
        let mut swapped = t.clone();
        swapped.swap(0, n - 1);
        let reversed: Vec<NodeId> = t.iter().rev().copied().collect();
        for other in [swapped, reversed, t[..n - 1].to_vec()] {
            let built = g.clone().sum(&other);
            assert_eq!(g.is_sum(s, &other), built == s, "{n} terms, {other:?}");
        }
        if n > 2 {
            assert!(!g.is_sum(s, &t[1..]), "{n} terms, the first missing");
        }
    }
}

#[test]
fn a_chain_longer_than_a_run_is_not_the_pairwise_sum() {
    let mut g = Graph::new();
    let t = terms(&mut g, 2 * SUM_RUN);
    let chain = t[1..].iter().fold(t[0], |acc, &x| g.add(acc, x));
    assert!(!g.is_sum(chain, &t));
    let short = t[1..SUM_RUN].iter().fold(t[0], |acc, &x| g.add(acc, x));
    assert!(g.is_sum(short, &t[..SUM_RUN]), "a run is a chain");
}

#[test]
fn count_reachable_counts_up_to_its_limit() {
    let mut g = Graph::new();
    let t = terms(&mut g, 50);
    let s = g.sum(&t);
    let all = walk::reachable(&g, &[s]).len();
    assert_eq!(walk::count_reachable(&g, &[s], all), Some(all));
    assert_eq!(walk::count_reachable(&g, &[s], all + 10), Some(all));
    assert_eq!(walk::count_reachable(&g, &[s], all - 1), None);
    assert_eq!(walk::count_reachable(&g, &[t[0], t[0]], 10), Some(2), "sin(x) and x");
}
