//! A backpropagation trace: the forward pass and then the backward pass at one point, one
//! row per node, as a person would write it out by hand.
//!
//! Each node that is computed gets a name: a variable its own, a node the program assigned
//! (`h1 = ...`) the user's name, the result `f` unless assigned, and every other operation
//! `t1, t2, ...` in computation order; numbers are written where they are used. A forward
//! row is `name = text-of-the-node = value`, with operands by name; a backward row says how
//! the node's adjoint is made from its users: `adj(h1) = adj(t9) * d t9/d h1 = 0.23 * 0.41 =
//! 0.094`, summed over the users, with the local partials as formulas on a `where` line.

use super::cse::temp_prefix;
use super::graph::short;
use super::text_expanded;
use crate::diff::point::{depends_on, Backprop};
use crate::graph::{Graph, NodeId, Op};
use rustc_hash::FxHashMap as HashMap;
use std::fmt::Write;

/// One forward row.
#[derive(Clone, Debug, PartialEq)]
pub struct Forward {
    /// The node's position in computation order (among all the result depends on).
    pub node: usize,
    /// Its name in the trace.
    pub name: String,
    /// What computes it, with operands by name (a variable: its own name).
    pub text: String,
    /// Its value.
    pub value: f64,
}

/// One term of a backward row: `user_adjoint * local`.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// The user's position in computation order.
    pub user: usize,
    /// The user's name.
    pub user_name: String,
    /// d user/d node as a formula over the trace's names.
    pub partial: String,
    /// d user/d node at the point.
    pub local: f64,
    /// The user's adjoint.
    pub user_adjoint: f64,
}

/// One backward row.
#[derive(Clone, Debug, PartialEq)]
pub struct Backward {
    /// The node's position in computation order.
    pub node: usize,
    /// Its name in the trace.
    pub name: String,
    /// Its adjoint: d result/d node.
    pub adjoint: f64,
    /// The terms summed into the adjoint (none for the result itself, whose adjoint is 1).
    pub terms: Vec<Term>,
}

/// A whole trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The result's name.
    pub result: String,
    /// Every computed node and every variable, in computation order.
    pub forward: Vec<Forward>,
    /// The nodes whose adjoints the requested derivatives need, in backward order.
    pub backward: Vec<Backward>,
    /// d result/d variable for each requested variable (name, value).
    pub gradient: Vec<(String, f64)>,
}

/// The trace of `sweep` (over its root) with the user's `definitions`, the backward rows
/// limited to what the derivatives with respect to the variable nodes `wrt` need.
pub fn trace(
    g: &Graph,
    sweep: &Backprop,
    definitions: &[(String, NodeId)],
    wrt: &[NodeId],
) -> Trace {
    let order = sweep.order();
    let names = names(g, sweep.root(), order, definitions);
    let position: HashMap<NodeId, usize> = order.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let forward = order
        .iter()
        .filter(|n| names.contains_key(n))
        .map(|&n| Forward {
            node: position[&n],
            name: names[&n].clone(),
            text: text_expanded(g, n, &names),
            value: sweep.value(n).unwrap_or(f64::NAN),
        })
        .collect();
    let needed = depends_on(g, order, wrt);
    let backward = order
        .iter()
        .rev()
        .filter(|n| names.contains_key(n) && needed[n.index()])
        .map(|&n| Backward {
            node: position[&n],
            name: names[&n].clone(),
            adjoint: sweep.adjoint(n).unwrap_or(0.0),
            terms: sweep
                .terms(n)
                .iter()
                .map(|t| Term {
                    user: position[&t.user],
                    user_name: names[&t.user].clone(),
                    partial: partial_text(g, t.partial, &names),
                    local: t.local,
                    user_adjoint: t.user_adjoint,
                })
                .collect(),
        })
        .collect();
    let gradient = wrt
        .iter()
        .map(|&v| (g.name_of(v).unwrap_or("?").to_string(), sweep.adjoint(v).unwrap_or(0.0)))
        .collect();
    Trace { result: names[&sweep.root()].clone(), forward, backward, gradient }
}

/// Names for the variables and the computed nodes (numbers have none).
fn names(
    g: &Graph,
    root: NodeId,
    order: &[NodeId],
    definitions: &[(String, NodeId)],
) -> HashMap<NodeId, String> {
    let user: HashMap<NodeId, &str> =
        definitions.iter().rev().map(|(name, id)| (*id, name.as_str())).collect();
    let mut taken: Vec<&str> = definitions.iter().map(|(n, _)| n.as_str()).collect();
    taken.push("f");
    let prefix = temp_prefix(g, order, &taken);
    let mut names = HashMap::default();
    let mut generated = 0;
    for &n in order {
        let name = match (g.op(n), user.get(&n)) {
            (Op::Const(_) | Op::Named(_), _) => continue,
            (Op::Var(v), _) => g.var_name(v).to_string(),
            (_, Some(name)) => name.to_string(),
            _ if n == root => "f".to_string(),
            _ => {
                generated += 1;
                format!("{prefix}{generated}")
            }
        };
        names.insert(n, name);
    }
    names
}

/// A local partial as a formula over the trace's names (a named node by its name).
fn partial_text(g: &Graph, partial: NodeId, names: &HashMap<NodeId, String>) -> String {
    match names.get(&partial) {
        Some(name) => name.clone(),
        None => text_expanded(g, partial, names),
    }
}

impl Trace {
    /// The trace as text: the forward table, the backward rows, the gradient.
    pub fn text(&self) -> String {
        let mut s = String::from("forward pass, in computation order:\n");
        let name_width = self.forward.iter().map(|r| r.name.len()).max().unwrap_or(1);
        let text_width = self
            .forward
            .iter()
            .filter(|r| r.text != r.name)
            .map(|r| r.text.chars().count())
            .max()
            .unwrap_or(1);
        for r in &self.forward {
            let _ = if r.text == r.name {
                writeln!(s, "  {:name_width$} = {}", r.name, short(r.value))
            } else {
                let text = &r.text;
                writeln!(s, "  {:name_width$} = {text:text_width$} = {}", r.name, short(r.value))
            };
        }
        let _ = writeln!(
            s,
            "\nbackward pass, in reverse order (adj(n) = d {}/d n, summed over the users of n):",
            self.result
        );
        for r in &self.backward {
            s.push_str(&backward_line(r));
        }
        s.push_str("\ngradient:\n");
        for (name, v) in &self.gradient {
            let _ = writeln!(s, "  d {}/d {name} = {}", self.result, short(*v));
        }
        s
    }
}

/// `adj(h1) = adj(t9) * d t9/d h1 = 0.23 * 0.41 = 0.094`, then `where d t9/d h1 = v1`.
fn backward_line(r: &Backward) -> String {
    if r.terms.is_empty() {
        return format!("  adj({}) = {}\n", r.name, short(r.adjoint));
    }
    let symbols: Vec<String> = r
        .terms
        .iter()
        .map(|t| format!("adj({}) * d {}/d {}", t.user_name, t.user_name, r.name))
        .collect();
    let numbers: Vec<String> = r
        .terms
        .iter()
        .map(|t| format!("{} * {}", factor(t.user_adjoint), factor(t.local)))
        .collect();
    let partials: Vec<String> =
        r.terms.iter().map(|t| format!("d {}/d {} = {}", t.user_name, r.name, t.partial)).collect();
    format!(
        "  adj({}) = {} = {} = {}\n      where {}\n",
        r.name,
        symbols.join(" + "),
        numbers.join(" + "),
        short(r.adjoint),
        partials.join(", ")
    )
}

/// A number as a factor: in parentheses when negative.
fn factor(v: f64) -> String {
    let text = short(v);
    if text.starts_with('-') {
        format!("({text})")
    } else {
        text
    }
}
