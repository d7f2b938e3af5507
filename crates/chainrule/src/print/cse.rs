//! Programs with common subexpressions named once: `t1 = ...` lines for every node that
//! the outputs use more than once, then one line per output. The text stays proportional
//! to the graph, where a single expression would repeat each shared part at every use.

use super::{Notation, Printer};
use crate::graph::{walk, Graph, NodeId, Op};
use rustc_hash::FxHashMap as HashMap;

/// Prints `outputs` as `label = expr` lines after the assignments of shared subexpressions.
/// The temporaries are named `t1, t2, ...` (another prefix when the formula has such names).
pub fn cse_program(g: &Graph, outputs: &[(String, NodeId)]) -> String {
    let roots: Vec<NodeId> = outputs.iter().map(|&(_, id)| id).collect();
    let order = walk::reachable(g, &roots);
    let uses = walk::use_counts(g, &order, &roots);
    let prefix = temp_prefix(g, &order);
    let mut names = HashMap::default();
    let mut temps = Vec::new();
    for &n in &order {
        let leaf = matches!(g.op(n), Op::Var(_) | Op::Const(_) | Op::Named(_));
        if !leaf && uses[n.index()] > 1 {
            temps.push(n);
            names.insert(n, format!("{prefix}{}", temps.len()));
        }
    }
    let printer = Printer { g, names: &names, notation: Notation::Text };
    let mut out = String::new();
    for &t in &temps {
        out.push_str(&format!("{} = {}\n", names[&t], printer.render(t)));
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

/// `t`, or the first of `tmp`, `_t`, `_t_` that no variable of the graph could clash with.
fn temp_prefix(g: &Graph, order: &[NodeId]) -> &'static str {
    let names: Vec<&str> = order.iter().filter_map(|&n| g.name_of(n)).collect();
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
