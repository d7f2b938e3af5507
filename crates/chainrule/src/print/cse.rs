//! Programs with common subexpressions named once: `t1 = ...` lines for every node that
//! the outputs use more than once, then one line per output. The text stays proportional
//! to the graph, where a single expression would repeat each shared part at every use.

use super::{latex_name, Notation, Printer};
use crate::graph::{walk, Graph, NodeId, Op};
use rustc_hash::FxHashMap as HashMap;

/// Shared subexpressions named once: which nodes are assigned to a name, in an order where
/// each comes after the names it uses, and the outputs that follow them.
#[derive(Clone, Debug)]
pub struct Cse {
    /// The named nodes in evaluation order.
    pub assignments: Vec<(String, NodeId)>,
    /// The outputs, each with its label.
    pub outputs: Vec<(String, NodeId)>,
    names: HashMap<NodeId, String>,
}

/// Prints `outputs` as `label = expr` lines after the assignments of shared subexpressions.
/// The temporaries are named `t1, t2, ...` (another prefix when the formula has such names).
pub fn cse_program(g: &Graph, outputs: &[(String, NodeId)]) -> String {
    cse_program_named(g, outputs, &[])
}

/// [`cse_program`] where a shared node that the program assigned keeps the user's name
/// (see [`Cse::new`]).
pub fn cse_program_named(
    g: &Graph,
    outputs: &[(String, NodeId)],
    definitions: &[(String, NodeId)],
) -> String {
    let cse = Cse::new(g, outputs, definitions);
    let lines = cse.assignment_lines(g, Notation::Text).into_iter();
    lines
        .chain(cse.output_lines(g, Notation::Text))
        .map(|(name, body)| format!("{name} = {body}\n"))
        .collect()
}

impl Cse {
    /// Names every node that `outputs` use more than once. A shared node that the program
    /// assigned (`h = sigmoid(w*x + b)`) keeps the user's name; the others are `t1, t2, ...`;
    /// a shared node that is only a number times a name (`-y`, `2*x`) is written out where
    /// it is used rather than given a temporary.
    pub fn new(g: &Graph, outputs: &[(String, NodeId)], definitions: &[(String, NodeId)]) -> Cse {
        let roots: Vec<NodeId> = outputs.iter().map(|&(_, id)| id).collect();
        let order = walk::reachable(g, &roots);
        let uses = walk::use_counts(g, &order, &roots);
        let user: HashMap<NodeId, &str> =
            definitions.iter().rev().map(|(name, id)| (*id, name.as_str())).collect();
        let taken: Vec<&str> = definitions.iter().map(|(n, _)| n.as_str()).collect();
        let prefix = temp_prefix(g, &order, &taken);
        let mut names: HashMap<NodeId, String> = HashMap::default();
        let mut assignments = Vec::new();
        let mut generated = 0;
        for &n in &order {
            if is_trivial(g, n, &names) || uses[n.index()] < 2 {
                continue;
            }
            let name = match user.get(&n) {
                Some(name) => name.to_string(),
                None => {
                    generated += 1;
                    format!("{prefix}{generated}")
                }
            };
            names.insert(n, name.clone());
            assignments.push((name, n));
        }
        Cse { assignments, outputs: outputs.to_vec(), names }
    }

    /// The assignments as `(name, expression)` pairs in `notation`.
    pub fn assignment_lines(&self, g: &Graph, notation: Notation) -> Vec<(String, String)> {
        let printer = Printer { g, names: &self.names, notation };
        let name = |n: &str| match notation {
            Notation::Latex => latex_name(n),
            Notation::Text => n.to_string(),
        };
        self.assignments.iter().map(|(n, id)| (name(n), printer.render(*id))).collect()
    }

    /// The outputs as `(label, expression)` pairs in `notation`, using the assigned names.
    pub fn output_lines(&self, g: &Graph, notation: Notation) -> Vec<(String, String)> {
        let printer = Printer { g, names: &self.names, notation };
        let body = |id: &NodeId| match self.names.get(id) {
            Some(name) if notation == Notation::Latex => latex_name(name),
            Some(name) => name.clone(),
            None => printer.render(*id),
        };
        self.outputs.iter().map(|(label, id)| (label.clone(), body(id))).collect()
    }
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
pub(crate) fn temp_prefix(g: &Graph, order: &[NodeId], taken: &[&str]) -> &'static str {
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
