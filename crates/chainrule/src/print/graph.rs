//! Pictures of the DAG: the formula and its derivatives in one graph, as DOT (through
//! petgraph's DOT support), SVG (laid out in pure Rust by layout-rs, no Graphviz needed),
//! or JSON, with statistics.
//!
//! Formula nodes and derivative-only nodes are styled apart (colour and shape); each
//! output (the value, each `d/dx`) is marked by an output node with an edge from its root;
//! a node the derivatives share with the formula is drawn once, with all its edges. Edges
//! go from operand to user, declared in operand order, so operands read left to right.

use crate::graph::{walk, Graph, NodeId, Op};
#[cfg(feature = "svg")]
use layout::backends::svg::SVGWriter;
#[cfg(feature = "svg")]
use layout::core::base::Orientation;
#[cfg(feature = "svg")]
use layout::core::color::Color;
#[cfg(feature = "svg")]
use layout::core::geometry::Point;
#[cfg(feature = "svg")]
use layout::core::style::{LineStyleKind, StyleAttr};
#[cfg(feature = "svg")]
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
#[cfg(feature = "svg")]
use layout::topo::layout::VisualGraph;
use petgraph::dot::{Config, Dot};
use petgraph::graph::DiGraph;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One output of a picture: a label (`f`, `d/dx`) and its root node.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// What the output is called.
    pub label: String,
    /// Its root.
    pub node: NodeId,
    /// True for the formula itself, false for a derivative.
    pub primal: bool,
}

/// Whether a node belongs to the formula or only to the derivatives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Reachable from the formula's output (shared nodes count here).
    Primal,
    /// Reachable only from derivative outputs.
    Derivative,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Primal => "primal",
            Role::Derivative => "derivative",
        }
    }
}

/// Counts that describe a picture.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// All nodes drawn (not counting output markers).
    pub nodes: usize,
    /// Nodes of the formula.
    pub formula_nodes: usize,
    /// Nodes the derivatives reach, shared ones included.
    pub derivative_nodes: usize,
    /// Nodes reached by both the formula and the derivatives.
    pub shared: usize,
    /// Derivative nodes per formula node.
    pub ratio: f64,
    /// The longest operand path.
    pub depth: usize,
    /// Node count by operation (`add`, `mul`, `sin`, `var`, ...).
    pub by_op: BTreeMap<String, usize>,
}

impl Stats {
    /// The statistics as `name: value` lines.
    pub fn text(&self) -> String {
        let mut s = format!(
            "nodes: {}\nformula nodes: {}\nderivative nodes: {} ({} shared with the formula)\n\
             derivative/formula ratio: {:.2}\ndepth: {}\nby operation:",
            self.nodes,
            self.formula_nodes,
            self.derivative_nodes,
            self.shared,
            self.ratio,
            self.depth
        );
        for (op, n) in &self.by_op {
            let _ = write!(s, " {op} {n},");
        }
        s.pop();
        s.push('\n');
        s
    }

    /// The statistics as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "nodes": self.nodes,
            "formula_nodes": self.formula_nodes,
            "derivative_nodes": self.derivative_nodes,
            "shared": self.shared,
            "ratio": self.ratio,
            "depth": self.depth,
            "by_op": self.by_op,
        })
    }
}

/// The part of a graph that some outputs reach, ready to draw.
#[derive(Clone, Debug)]
pub struct GraphView {
    /// Nodes in topological order.
    nodes: Vec<NodeId>,
    roles: HashMap<NodeId, Role>,
    outputs: Vec<Output>,
    /// With a point: each node's value and, where the result depends on it, its adjoint.
    numbers: HashMap<NodeId, (f64, Option<f64>)>,
}

impl GraphView {
    /// The view of everything `outputs` reach.
    pub fn new(g: &Graph, outputs: Vec<Output>) -> GraphView {
        let all: Vec<NodeId> = outputs.iter().map(|o| o.node).collect();
        let primal: Vec<NodeId> = outputs.iter().filter(|o| o.primal).map(|o| o.node).collect();
        let nodes = walk::reachable(g, &all);
        let formula: HashSet<NodeId> = walk::reachable(g, &primal).into_iter().collect();
        let roles = nodes
            .iter()
            .map(|&n| (n, if formula.contains(&n) { Role::Primal } else { Role::Derivative }))
            .collect();
        GraphView { nodes, roles, outputs, numbers: HashMap::default() }
    }

    /// The nodes, in topological order.
    pub fn nodes(&self) -> &[NodeId] {
        &self.nodes
    }

    /// The outputs, the formula's value first.
    pub fn outputs(&self) -> &[Output] {
        &self.outputs
    }

    /// Marks every node with its value at a point and its adjoint (`None` for a node the
    /// result does not depend on); the pictures then show both.
    pub fn annotate(&mut self, numbers: impl Fn(NodeId) -> (f64, Option<f64>)) {
        self.numbers = self.nodes.iter().map(|&n| (n, numbers(n))).collect();
    }

    /// The value and adjoint of a node, when the view was annotated.
    pub fn numbers(&self, n: NodeId) -> Option<(f64, Option<f64>)> {
        self.numbers.get(&n).copied()
    }

    /// The label's lines: the operation, then the value and adjoint when annotated.
    fn label_lines(&self, g: &Graph, n: NodeId) -> Vec<String> {
        let mut lines = vec![label(g, n)];
        if let Some((value, adjoint)) = self.numbers(n) {
            lines.push(format!("= {}", short(value)));
            if let Some(a) = adjoint {
                lines.push(format!("adj {}", short(a)));
            }
        }
        lines
    }

    /// Number of nodes (output markers not counted).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when nothing is drawn.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The role of a node of the view.
    pub fn role(&self, n: NodeId) -> Option<Role> {
        self.roles.get(&n).copied()
    }

    /// The statistics of the view.
    pub fn stats(&self, g: &Graph) -> Stats {
        let derivative_roots: Vec<NodeId> =
            self.outputs.iter().filter(|o| !o.primal).map(|o| o.node).collect();
        let derivative = walk::reachable(g, &derivative_roots);
        let formula_nodes = self.roles.values().filter(|&&r| r == Role::Primal).count();
        let shared = derivative.iter().filter(|n| self.roles[n] == Role::Primal).count();
        let mut by_op = BTreeMap::new();
        for &n in &self.nodes {
            *by_op.entry(g.op(n).kind_name().to_string()).or_insert(0) += 1;
        }
        let roots: Vec<NodeId> = self.outputs.iter().map(|o| o.node).collect();
        Stats {
            nodes: self.nodes.len(),
            formula_nodes,
            derivative_nodes: derivative.len(),
            shared,
            ratio: if formula_nodes == 0 {
                0.0
            } else {
                derivative.len() as f64 / formula_nodes as f64
            },
            depth: walk::depth(g, &roots),
            by_op,
        }
    }

    /// Compact ids: a node's position in the view.
    fn ids(&self) -> HashMap<NodeId, usize> {
        self.nodes.iter().enumerate().map(|(i, &n)| (n, i)).collect()
    }

    /// Edges `(operand, user)` in compact ids, per user in operand order.
    fn edges(&self, g: &Graph) -> Vec<(usize, usize)> {
        let ids = self.ids();
        self.nodes
            .iter()
            .flat_map(|&n| g.args(n).iter().map(move |a| (a, n)))
            .map(|(a, n)| (ids[a], ids[&n]))
            .collect()
    }

    /// JSON: `{"nodes": [{"id", "op", "label", "role"}], "edges": [[from, to]], "outputs": [...]}`.
    pub fn json(&self, g: &Graph) -> String {
        let ids = self.ids();
        let nodes: Vec<serde_json::Value> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let mut node = serde_json::json!({
                    "id": i,
                    "op": g.op(n).kind_name(),
                    "label": label(g, n),
                    "role": self.roles[&n].name(),
                });
                if let Some((value, adjoint)) = self.numbers(n) {
                    node["value"] = json_number(value);
                    if let Some(a) = adjoint {
                        node["adjoint"] = json_number(a);
                    }
                }
                node
            })
            .collect();
        let outputs: Vec<serde_json::Value> = self
            .outputs
            .iter()
            .map(|o| serde_json::json!({"label": o.label, "node": ids[&o.node]}))
            .collect();
        let edges: Vec<[usize; 2]> = self.edges(g).into_iter().map(|(a, b)| [a, b]).collect();
        serde_json::json!({ "nodes": nodes, "edges": edges, "outputs": outputs }).to_string()
    }

    /// Graphviz DOT, drawn bottom to top: inputs at the bottom, outputs at the top.
    pub fn dot(&self, g: &Graph) -> String {
        let mut picture: DiGraph<String, &str> = DiGraph::new();
        let ids = self.ids();
        for &n in &self.nodes {
            picture.add_node(self.dot_attributes(g, n));
        }
        for (a, b) in self.edges(g) {
            picture.add_edge((a as u32).into(), (b as u32).into(), "");
        }
        for o in &self.outputs {
            let marker = picture.add_node(format!(
                "label=\"{}\", shape=plaintext, fontcolor=\"{}\"",
                escape(&o.label),
                if o.primal { PRIMAL_LINE } else { DERIVATIVE_LINE }
            ));
            picture.add_edge((ids[&o.node] as u32).into(), marker, "");
        }
        let edge_style = |_: &DiGraph<String, &str>, _| "arrowsize=0.6".to_string();
        let node_style =
            |_: &DiGraph<String, &str>, (_, attributes): (_, &String)| attributes.clone();
        let body = Dot::with_attr_getters(
            &picture,
            &[Config::GraphContentOnly, Config::NodeNoLabel, Config::EdgeNoLabel],
            &edge_style,
            &node_style,
        );
        format!(
            "digraph chainrule {{\n    rankdir=BT;\n    ordering=in;\n    \
             node [fontname=\"Helvetica\", style=filled];\n{body}}}\n"
        )
    }

    fn dot_attributes(&self, g: &Graph, n: NodeId) -> String {
        let (fill, line, shape) = colours(g, n, self.roles[&n]);
        format!(
            "label=\"{}\", shape={shape}, fillcolor=\"{fill}\", color=\"{line}\"",
            self.label_lines(g, n).iter().map(|l| escape(l)).collect::<Vec<_>>().join("\\n")
        )
    }

    /// SVG laid out by layout-rs (feature `svg`): outputs at the top, operands below their users.
    #[cfg(feature = "svg")]
    pub fn svg(&self, g: &Graph) -> String {
        let mut picture = VisualGraph::new(Orientation::TopToBottom);
        let mut handles = Vec::with_capacity(self.nodes.len());
        for &n in &self.nodes {
            let (fill, line, shape) = colours(g, n, self.roles[&n]);
            let text = self.label_lines(g, n).join("\n");
            let kind = if shape == "box" {
                ShapeKind::new_box(&text)
            } else {
                ShapeKind::new_circle(&text)
            };
            let look = StyleAttr::new(color(line), 2, Some(color(fill)), 0, 14);
            let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(1);
            let size =
                Point::new(12.0 + 8.0 * widest as f64, 16.0 + 16.0 * text.lines().count() as f64);
            handles.push(picture.add_node(Element::create(
                kind,
                look,
                Orientation::LeftToRight,
                size,
            )));
        }
        // Edges run from user down to operand for the layout; the arrowhead sits at the
        // user, the way the values flow.
        let flow = |line: &str| {
            Arrow::new(
                LineEndKind::Arrow,
                LineEndKind::None,
                LineStyleKind::Normal,
                "",
                &StyleAttr::new(color(line), 1, None, 0, 12),
                &None,
                &None,
            )
        };
        for (a, b) in self.edges(g) {
            let line = if self.roles[&self.nodes[b]] == Role::Primal {
                PRIMAL_LINE
            } else {
                DERIVATIVE_LINE
            };
            picture.add_edge(flow(line), handles[b], handles[a]);
        }
        let ids = self.ids();
        for o in &self.outputs {
            let line = if o.primal { PRIMAL_LINE } else { DERIVATIVE_LINE };
            let look = StyleAttr::new(color(line), 2, Some(color("#ffffff")), 0, 14);
            let size = Point::new(16.0 + 8.0 * o.label.chars().count() as f64, 32.0);
            let marker = ShapeKind::DoubleCircle(o.label.clone());
            let handle =
                picture.add_node(Element::create(marker, look, Orientation::LeftToRight, size));
            picture.add_edge(flow(line), handle, handles[ids[&o.node]]);
        }
        let mut svg = SVGWriter::new();
        picture.do_it(false, false, false, &mut svg);
        svg.finalize()
    }
}

const PRIMAL_FILL: &str = "#dbe9ff";
const PRIMAL_LINE: &str = "#1f4e9c";
const DERIVATIVE_FILL: &str = "#ffe2c6";
const DERIVATIVE_LINE: &str = "#b3541e";
const LEAF_FILL: &str = "#e3f6e3";

/// Fill, line colour and shape of a node: formula nodes are blue ellipses, derivative
/// nodes orange boxes, variables and constants green.
#[cfg_attr(not(feature = "svg"), allow(dead_code))]
fn colours(g: &Graph, n: NodeId, role: Role) -> (&'static str, &'static str, &'static str) {
    let leaf = matches!(g.op(n), Op::Var(_) | Op::Const(_) | Op::Named(_));
    match role {
        Role::Primal if leaf => (LEAF_FILL, PRIMAL_LINE, "ellipse"),
        Role::Primal => (PRIMAL_FILL, PRIMAL_LINE, "ellipse"),
        Role::Derivative if leaf => (LEAF_FILL, DERIVATIVE_LINE, "box"),
        Role::Derivative => (DERIVATIVE_FILL, DERIVATIVE_LINE, "box"),
    }
}

#[cfg(feature = "svg")]
fn color(hex: &str) -> Color {
    Color::from_name(hex).unwrap_or_else(|| Color::fast("black"))
}

/// The short label of a node: `+`, `*`, `^`, `sin`, `x`, `2.5`.
pub fn label(g: &Graph, n: NodeId) -> String {
    match g.op(n) {
        Op::Const(c) => super::format_constant(c),
        Op::Named(c) => c.name().into(),
        Op::Var(v) => g.var_name(v).to_string(),
        Op::Add => "+".into(),
        Op::Mul => "*".into(),
        Op::Pow => "^".into(),
        Op::Func(f) => f.name().into(),
        Op::LogSumExp => "logsumexp".into(),
    }
}

/// A number in a picture: six significant digits.
pub fn short(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return super::format_float(v);
    }
    let rounded: f64 = format!("{v:.5e}").parse().unwrap_or(v);
    super::format_float(rounded)
}

/// A number in JSON: finite numbers as numbers, the others as SPEC.md's strings.
fn json_number(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::json!(v)
    } else {
        serde_json::json!(super::format_float(v))
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A small SVG that says the graph is too large to draw: `headline`, then its statistics.
pub fn summary_svg(stats: &Stats, headline: &str) -> String {
    let mut lines = vec![headline.to_string()];
    lines.extend(stats.text().lines().map(str::to_string));
    let height = 24 * lines.len() + 24;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"{height}\" font-family=\"Helvetica\" font-size=\"14\">\n"
    );
    for (i, line) in lines.iter().enumerate() {
        let text = line.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let _ = writeln!(svg, "  <text x=\"12\" y=\"{}\">{text}</text>", 24 * (i + 1));
    }
    svg.push_str("</svg>\n");
    svg
}
