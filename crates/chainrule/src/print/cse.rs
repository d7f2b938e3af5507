//! Programs with common subexpressions named once: `t1 = ...` lines for every node that
//! the outputs use more than once, then one line per output. The text stays proportional
//! to the graph, where a single expression would repeat each shared part at every use.

use super::{Notation, Printer};
use crate::graph::{walk, Graph, NodeId, Op};
use rustc_hash::FxHashMap as HashMap;

/// Prints `outputs` as `label = expr` lines after the assignments of shared subexpressions.
/// The temporaries are named `t1, t2, ...` (another prefix when the formula has such names).
pub fn cse_program(g: &Graph, outputs: &[(String, NodeId)]) -> String {
    cse_program_named(g, outputs, &[])
}

/// [`cse_program`] where a shared node that the program assigned (`h = sigmoid(w*x + b)`)
/// keeps the user's name; a shared node that is only a number times a name (`-y`, `2*x`)
/// is written out where it is used rather than given a temporary.
pub fn cse_program_named(
    g: &Graph,
    outputs: &[(String, NodeId)],
    definitions: &[(String, NodeId)],
) -> String {
    let roots: Vec<NodeId> = outputs.iter().map(|&(_, id)| id).collect();
    let shared = shared_nodes(g, &roots, definitions);
    let mut names: HashMap<NodeId, String> = HashMap::default();
    let mut generated = 0;
    for (n, user) in &shared.nodes {
        let name = match user {
            Some(name) => name.clone(),
            None => {
                generated += 1;
                format!("{}{generated}", shared.prefix)
            }
        };
        names.insert(*n, name);
    }
    let printer = Printer { g, names: &names, notation: Notation::Text };
    let mut out = String::new();
    for (t, _) in &shared.nodes {
        out.push_str(&format!("{} = {}\n", names[t], printer.render(*t)));
    }
    for (label, id) in outputs {
        let body = match names.get(id) {
            Some(name) => name.clone(),
            None => printer.render(*id),
        };
        out.push_str(&format!("{label} = {body}\n"));
    }
    out
}

/// The nodes a program with shared subexpressions computes once under a name: what
/// [`cse_program_named`] prints, and what code generation makes locals of.
pub(crate) struct Shared {
    /// The shared nodes in topological order, each with the user's name where the program
    /// assigned one (the others get a temporary: `prefix` and a number).
    pub nodes: Vec<(NodeId, Option<String>)>,
    /// The prefix of temporaries that no variable or assigned name clashes with (`t`).
    pub prefix: &'static str,
}

/// The nodes that `roots` use more than once and that are more than a leaf or a number
/// times a leaf or a name, with the names of `definitions` where they assign one.
pub(crate) fn shared_nodes(
    g: &Graph,
    roots: &[NodeId],
    definitions: &[(String, NodeId)],
) -> Shared {
    let order = walk::reachable(g, roots);
    let uses = walk::use_counts(g, &order, roots);
    let user: HashMap<NodeId, &str> =
        definitions.iter().rev().map(|(name, id)| (*id, name.as_str())).collect();
    let taken: Vec<&str> = definitions.iter().map(|(n, _)| n.as_str()).collect();
    let prefix = temp_prefix(g, &order, &taken);
    let mut named: HashMap<NodeId, String> = HashMap::default();
    let mut nodes = Vec::new();
    for &n in &order {
        if is_trivial(g, n, &named) || uses[n.index()] < 2 {
            continue;
        }
        named.insert(n, String::new());
        nodes.push((n, user.get(&n).map(|s| s.to_string())));
    }
    Shared { nodes, prefix }
}

/// Leaves, and a number times a leaf or a name (`-y`, `-t3`): no shorter as a name.
fn is_trivial(g: &Graph, n: NodeId, names: &HashMap<NodeId, String>) -> bool {
    let short = |n: NodeId| {
        matches!(g.op(n), Op::Var(_) | Op::Const(_) | Op::Named(_)) || names.contains_key(&n)
    };
    short(n) || (g.op(n) == Op::Mul && g.value(g.args(n)[0]).is_some() && short(g.args(n)[1]))
}

/// `t`, or the first of `tmp`, `_t`, `_t_` that no variable or assigned name could clash
/// with.
fn temp_prefix(g: &Graph, order: &[NodeId], taken: &[&str]) -> &'static str {
    let mut names: Vec<&str> = order.iter().filter_map(|&n| g.name_of(n)).collect();
    names.extend(taken);
    ["t", "tmp", "_t", "_t_", "__t"]
        .into_iter()
        .find(|p| {
            !names.iter().any(|n| {
                n.strip_prefix(p).is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
                })
            })
        })
        .unwrap_or("__cse")
}
