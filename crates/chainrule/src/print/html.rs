//! The interactive page of a graph view: one self-contained HTML file (inline SVG laid out
//! here, a small inline script from `page.js`, no network) where a person hovers a node to
//! see its subexpression, value and adjoint, clicks a variable to light every path from it
//! to the result, switches between formula, derivatives and both, zooms, pans and searches;
//! a graph of more than `cap` nodes starts with its deeper subtrees folded.
//!
//! The layout is layered and iterative: a node's rank is one more than its highest operand
//! (inputs at the bottom, outputs on top), and each rank is ordered by the mean position of
//! the nodes it connects to, in one sweep up and one down.

use super::graph::{label, short, GraphView, Role};
use super::{text, text_sizes};
use crate::graph::{walk, Graph, NodeId};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt::Write;

/// Text of a subexpression shown on hover: at most this many characters.
const MAX_TEXT: u64 = 400;
const RANK_GAP: f64 = 90.0;
const NODE_GAP: f64 = 14.0;

/// One box of the picture: a node of the view, or an output marker.
struct Item {
    lines: Vec<String>,
    class: &'static str,
    width: f64,
    x: f64,
    y: f64,
}

/// The page of `view` (annotated or not); `names` gives the user's names of nodes
/// (`h1`, `out`), `cap` the number of nodes shown before the rest is folded.
pub fn page(g: &Graph, view: &GraphView, names: &[(String, NodeId)], cap: usize) -> String {
    let nodes = view.nodes();
    let outputs = view.outputs();
    let index = |id: NodeId| nodes.binary_search(&id).expect("a node of the view");
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for (b, &n) in nodes.iter().enumerate() {
        edges.extend(g.args(n).iter().map(|&a| (index(a), b)));
    }
    for (k, o) in outputs.iter().enumerate() {
        edges.push((index(o.node), nodes.len() + k));
    }
    let mut items: Vec<Item> = nodes.iter().map(|&n| node_item(g, view, n)).collect();
    items.extend(outputs.iter().map(|o| Item {
        lines: vec![o.label.clone()],
        class: if o.primal { "output primal" } else { "output derivative" },
        width: 0.0,
        x: 0.0,
        y: 0.0,
    }));
    for item in &mut items {
        let widest = item.lines.iter().map(|l| l.chars().count()).max().unwrap_or(1);
        item.width = 16.0 + 7.5 * widest as f64;
    }
    let (width, height) = layout(&mut items, &edges, nodes.len());
    let data = data(g, view, names, &edges, cap, (width, height));
    let mut svg = String::new();
    for &(a, b) in &edges {
        let (ia, ib) = (&items[a], &items[b]);
        let _ = writeln!(
            svg,
            "<line class=\"edge\" data-a=\"{a}\" data-b=\"{b}\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
            ia.x + ia.width / 2.0,
            ia.y,
            ib.x + ib.width / 2.0,
            ib.y + box_height(ib)
        );
    }
    for item in &items {
        svg.push_str(&item_svg(item));
    }
    TEMPLATE
        .replace("{{SVG}}", &svg)
        .replace("{{DATA}}", &data.replace("</", "<\\/"))
        .replace("{{SCRIPT}}", include_str!("page.js"))
}

fn node_item(g: &Graph, view: &GraphView, n: NodeId) -> Item {
    let mut lines = vec![label(g, n)];
    if let Some((value, adjoint)) = view.numbers(n) {
        lines.push(format!("= {}", short(value)));
        if let Some(a) = adjoint {
            lines.push(format!("adj {}", short(a)));
        }
    }
    let class = match (view.role(n), g.args(n).is_empty()) {
        (Some(Role::Primal), true) => "node primal leaf",
        (Some(Role::Primal), false) => "node primal",
        (_, true) => "node derivative leaf",
        (_, false) => "node derivative",
    };
    Item { lines, class, width: 0.0, x: 0.0, y: 0.0 }
}

fn box_height(item: &Item) -> f64 {
    8.0 + 15.0 * item.lines.len() as f64
}

fn item_svg(item: &Item) -> String {
    let h = box_height(item);
    let kind = if item.class.starts_with("output") { "node output" } else { item.class };
    let mut s = format!(
        "<g class=\"{kind}\" data-label=\"{}\" transform=\"translate({:.1},{:.1})\"><rect width=\"{:.1}\" height=\"{h:.1}\" rx=\"8\"/>",
        xml(&item.lines[0]),
        item.x,
        item.y,
        item.width
    );
    for (i, line) in item.lines.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            item.width / 2.0,
            16.0 + 15.0 * i as f64,
            xml(line)
        );
    }
    s.push_str("<text class=\"badge\" x=\"-4\" y=\"12\">+</text></g>\n");
    s
}

/// Places the items in ranks; returns the picture's width and height.
fn layout(items: &mut [Item], edges: &[(usize, usize)], view_nodes: usize) -> (f64, f64) {
    let count = items.len();
    let mut operands: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(a, b) in edges {
        operands[b].push(a);
        users[a].push(b);
    }
    // Operands come before users in index order (markers last), so one pass ranks all.
    let mut rank = vec![0usize; count];
    for i in 0..view_nodes {
        rank[i] = operands[i].iter().map(|&a| rank[a] + 1).max().unwrap_or(0);
    }
    let top = rank[..view_nodes].iter().copied().max().unwrap_or(0) + 1;
    for r in rank.iter_mut().skip(view_nodes) {
        *r = top;
    }
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); top + 1];
    for (i, &r) in rank.iter().enumerate() {
        rows[r].push(i);
    }
    let mut x = vec![0.0f64; count];
    place_rows(items, &rows, &mut x);
    for row in rows.iter_mut().skip(1) {
        order_row(row, &operands, &x);
        place_row(items, row, &mut x);
    }
    let below_top = rows.len() - 1;
    for row in rows.iter_mut().take(below_top).rev() {
        order_row(row, &users, &x);
        place_row(items, row, &mut x);
    }
    let left = (0..count).map(|i| x[i]).fold(f64::INFINITY, f64::min);
    let mut width: f64 = 0.0;
    for (i, item) in items.iter_mut().enumerate() {
        item.x = x[i] - left + 20.0;
        item.y = 20.0 + (top - rank[i]) as f64 * RANK_GAP;
        width = width.max(item.x + item.width + 20.0);
    }
    (width, 40.0 + (top + 1) as f64 * RANK_GAP)
}

fn place_rows(items: &[Item], rows: &[Vec<usize>], x: &mut [f64]) {
    for row in rows {
        place_row(items, row, x);
    }
}

/// Packs a row left to right, centred on 0.
fn place_row(items: &[Item], row: &[usize], x: &mut [f64]) {
    let total: f64 = row.iter().map(|&i| items[i].width + NODE_GAP).sum();
    let mut at = -total / 2.0;
    for &i in row {
        x[i] = at;
        at += items[i].width + NODE_GAP;
    }
}

/// Orders a row by the mean position of each item's neighbours (those without keep theirs).
fn order_row(row: &mut [usize], neighbours: &[Vec<usize>], x: &[f64]) {
    let key = |i: usize| {
        let near = &neighbours[i];
        if near.is_empty() {
            x[i]
        } else {
            near.iter().map(|&j| x[j]).sum::<f64>() / near.len() as f64
        }
    };
    let mut keyed: Vec<(f64, usize)> = row.iter().map(|&i| (key(i), i)).collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (slot, (_, i)) in row.iter_mut().zip(keyed) {
        *slot = i;
    }
}

/// The data the script reads: per node its op, label, user's name, text, value, adjoint and
/// which outputs reach it; the edges; the result's index; the cap; the picture's size.
fn data(
    g: &Graph,
    view: &GraphView,
    names: &[(String, NodeId)],
    edges: &[(usize, usize)],
    cap: usize,
    (width, height): (f64, f64),
) -> String {
    let nodes = view.nodes();
    let outputs = view.outputs();
    let primal: Vec<NodeId> = outputs.iter().filter(|o| o.primal).map(|o| o.node).collect();
    let derived: Vec<NodeId> = outputs.iter().filter(|o| !o.primal).map(|o| o.node).collect();
    let in_f: HashSet<NodeId> = walk::reachable(g, &primal).into_iter().collect();
    let in_d: HashSet<NodeId> = walk::reachable(g, &derived).into_iter().collect();
    let sizes = text_sizes(g, nodes);
    let user: HashMap<NodeId, &str> =
        names.iter().rev().map(|(name, id)| (*id, name.as_str())).collect();
    let mut list: Vec<serde_json::Value> = nodes
        .iter()
        .map(|&n| {
            let mode = match (in_f.contains(&n), in_d.contains(&n)) {
                (true, true) => "fd",
                (true, false) => "f",
                _ => "d",
            };
            let size = sizes[&n];
            let shown = if size <= MAX_TEXT { text(g, n) } else { format!("({size} characters)") };
            let mut node = serde_json::json!({
                "op": g.op(n).kind_name(), "label": label(g, n), "text": shown, "mode": mode,
            });
            if let Some(name) = user.get(&n) {
                node["name"] = (*name).into();
            }
            if let Some((value, adjoint)) = view.numbers(n) {
                node["value"] = number(value);
                if let Some(a) = adjoint {
                    node["adjoint"] = number(a);
                }
            }
            node
        })
        .collect();
    list.extend(outputs.iter().map(|o| {
        serde_json::json!({"op": "output", "label": o.label, "text": o.label,
            "mode": if o.primal { "f" } else { "d" }})
    }));
    let result = outputs.first().and_then(|o| nodes.binary_search(&o.node).ok()).unwrap_or(0);
    serde_json::json!({
        "count": nodes.len(), "nodes": list, "edges": edges, "result": result, "cap": cap,
        "width": width, "height": height,
    })
    .to_string()
}

fn number(v: f64) -> serde_json::Value {
    if v.is_finite() {
        v.into()
    } else {
        super::format_float(v).into()
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const TEMPLATE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>chainrule graph</title>
<style>
body { margin: 0; font: 14px Helvetica, Arial, sans-serif; overflow: hidden; }
#bar { position: fixed; top: 0; left: 0; right: 0; height: 36px; background: #f4f4f4;
  border-bottom: 1px solid #ccc; display: flex; gap: 16px; align-items: center; padding: 0 12px; z-index: 2; }
#graph { position: fixed; top: 37px; left: 0; width: 100vw; height: calc(100vh - 37px); cursor: grab; }
#tip { position: fixed; display: none; white-space: pre; background: #fffbe6; border: 1px solid #b8a000;
  padding: 6px 8px; font: 13px Menlo, Consolas, monospace; max-width: 60vw; overflow: hidden; z-index: 3; pointer-events: none; }
#status { color: #555; }
line.edge { stroke: #8a8a8a; stroke-width: 1.2; }
line.edge.path { stroke: #d62828; stroke-width: 3; }
g.node rect { stroke-width: 1.5; }
g.node text { text-anchor: middle; font-size: 12px; pointer-events: none; }
g.primal rect { fill: #dbe9ff; stroke: #1f4e9c; }
g.derivative rect { fill: #ffe2c6; stroke: #b3541e; }
g.leaf rect { fill: #e3f6e3; }
g.output rect { fill: #fff; stroke: #333; stroke-width: 2.5; }
g.path rect { stroke: #d62828; stroke-width: 3; }
g.found rect { fill: #fff36b; }
g.node text.badge { display: none; font-weight: bold; fill: #d62828; }
g.folded text.badge { display: inline; }
g.node { cursor: pointer; }
</style>
</head>
<body>
<div id="bar">
  <label><input type="radio" name="mode" value="formula"> formula</label>
  <label><input type="radio" name="mode" value="derivative"> derivative</label>
  <label><input type="radio" name="mode" value="both" checked> both</label>
  <input id="search" type="search" placeholder="search a name (x, h1, sin)">
  <button id="unfold-all">unfold all</button>
  <span id="status"></span>
</div>
<svg id="graph" xmlns="http://www.w3.org/2000/svg"><g id="viewport">
{{SVG}}</g></svg>
<div id="tip"></div>
<script type="application/json" id="graph-data">{{DATA}}</script>
<script>
{{SCRIPT}}</script>
</body>
</html>
"##;
