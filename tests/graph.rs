//! Pictures of formulas and their derivatives: DOT and JSON snapshots (read and accepted
//! by hand), SVG structure (one shape per node, one path per edge), Graphviz accepting the
//! DOT when it is installed, an SVG rendered to PNG, and the `graph` command.

mod common;

use chainrule::print::graph::GraphView;
use chainrule::Formula;
use common::chainrule;
use std::process::Command;

struct Case {
    name: String,
    formula: Formula,
    view: GraphView,
}

fn cases() -> Vec<Case> {
    include_str!("cases/graphs.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            let wrt: Vec<String> =
                parts[2].split(',').filter(|w| !w.is_empty()).map(str::to_string).collect();
            let mut formula = Formula::parse(parts[1]).unwrap();
            let order = if parts[0] == "second" { 2 } else { 1 };
            let view = formula.graph_view(&wrt, order).unwrap();
            Case { name: parts[0].to_string(), formula, view }
        })
        .collect()
}

#[test]
fn dot_snapshots() {
    for case in cases() {
        insta::assert_snapshot!(format!("dot_{}", case.name), case.view.dot(case.formula.graph()));
    }
}

#[test]
fn json_snapshots() {
    for case in cases() {
        let value: serde_json::Value =
            serde_json::from_str(&case.view.json(case.formula.graph())).unwrap();
        insta::assert_json_snapshot!(format!("json_{}", case.name), value);
    }
}

#[test]
fn json_edges_point_from_operand_to_user_in_operand_order() {
    for case in cases() {
        let value: serde_json::Value =
            serde_json::from_str(&case.view.json(case.formula.graph())).unwrap();
        let nodes = value["nodes"].as_array().unwrap();
        let edges = value["edges"].as_array().unwrap();
        for edge in edges {
            let (from, to) = (edge[0].as_u64().unwrap(), edge[1].as_u64().unwrap());
            assert!(from < to, "{}: an operand comes before its user", case.name);
            let role = nodes[to as usize]["role"].as_str().unwrap();
            assert!(role == "primal" || role == "derivative");
        }
        let arity: usize = nodes
            .iter()
            .map(|n| match n["op"].as_str().unwrap() {
                "var" | "const" => 0,
                "add" | "mul" | "pow" | "atan2" | "min" | "max" => 2,
                "logsumexp" => 3,
                _ => 1,
            })
            .sum();
        assert_eq!(arity, edges.len(), "{}", case.name);
    }
}

/// Element names in an SVG, outside `defs`, `marker` and `clipPath`.
fn drawn_elements(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    doc.descendants()
        .filter(|n| n.is_element())
        .filter(|n| {
            !n.ancestors()
                .skip(1)
                .any(|a| matches!(a.tag_name().name(), "defs" | "marker" | "clipPath"))
        })
        .map(|n| n.tag_name().name().to_string())
        .collect()
}

#[test]
fn svg_has_one_shape_per_node_and_one_path_per_edge() {
    for case in cases() {
        let g = case.formula.graph();
        let json: serde_json::Value = serde_json::from_str(&case.view.json(g)).unwrap();
        let outputs = json["outputs"].as_array().unwrap().len();
        let edges = json["edges"].as_array().unwrap().len();
        let elements = drawn_elements(&case.view.svg(g));
        let shapes = elements.iter().filter(|e| *e == "rect" || *e == "ellipse").count();
        let paths = elements.iter().filter(|e| *e == "path").count();
        // An output is marked by a double circle: two ellipses.
        assert_eq!(shapes, case.view.len() + 2 * outputs, "{}", case.name);
        assert_eq!(paths, edges + outputs, "{}", case.name);
    }
}

#[test]
fn graphviz_accepts_the_dot() {
    if Command::new("dot").arg("-V").output().is_err() {
        eprintln!("Graphviz is not installed; skipping (.ci/run installs it)");
        return;
    }
    for case in cases() {
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(case.view.dot(case.formula.graph()).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}: {}", case.name, String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
    }
}

#[test]
fn the_svg_renders_to_a_png() {
    let case = cases().into_iter().find(|c| c.name == "xor_loss").unwrap();
    let svg = case.view.svg(case.formula.graph());
    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
    let size = tree.size().to_int_size();
    assert!(size.width() > 500 && size.height() > 500, "{size:?}");
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let inked = pixmap.pixels().iter().filter(|p| p.alpha() > 0).count();
    assert!(inked > 10_000, "only {inked} pixels drawn");
    let path = std::env::temp_dir().join(format!("chainrule-xor-{}.png", std::process::id()));
    pixmap.save_png(&path).unwrap();
    std::fs::remove_file(path).ok();
}

#[test]
fn statistics_count_sharing() {
    let case = cases().into_iter().find(|c| c.name == "product_rule").unwrap();
    let stats = case.view.stats(case.formula.graph());
    // formula: x, y, x*y, sin(x*y), + ; d/dx = y*(cos(x*y) + 1) shares x*y and y
    assert_eq!(stats.formula_nodes, 5);
    assert_eq!(stats.nodes, 9);
    assert_eq!(stats.shared, 3);
    assert_eq!(stats.by_op["mul"], 2);
    assert_eq!(stats.depth, 4);
    assert!((stats.ratio - 7.0 / 5.0).abs() < 1e-12);
}

#[test]
fn the_graph_command() {
    let dir = std::env::temp_dir().join(format!("chainrule-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("g.svg");
    let (status, _, err) = chainrule(&[
        "graph",
        "sigmoid(w*x + b)",
        "--wrt",
        "w,b",
        "--format",
        "svg",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{err}");
    let text = std::fs::read_to_string(&svg).unwrap();
    // 15 edges and one to each of the three output markers
    assert_eq!(drawn_elements(&text).iter().filter(|e| *e == "path").count(), 18);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file is left behind");
    let (_, dot, _) = chainrule(&["graph", "x*y"]);
    assert!(dot.starts_with("digraph chainrule {"), "{dot}");
    let (_, stats, _) = chainrule(&["graph", "x*y + sin(x*y)", "--wrt", "x", "--stats"]);
    assert!(stats.contains("derivative nodes: 7 (3 shared with the formula)"), "{stats}");
    let (_, json, _) = chainrule(&["graph", "x*y", "--wrt", "x", "--format", "json", "--stats"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["stats"]["nodes"], 3);
    assert_eq!(v["nodes"][2]["op"], "mul");
    let big = (1..=300).map(|i| format!("sin(x{i})")).collect::<Vec<_>>().join(" + ");
    let (status, summary, err) =
        chainrule(&["graph", &big, "--format", "svg", "--max-nodes", "100"]);
    assert_eq!(status, 0);
    assert!(err.contains("more than --max-nodes 100"), "{err}");
    assert!(summary.contains("nodes: more than the 100 that are drawn"), "{summary}");
    roxmltree::Document::parse(&summary).unwrap();
    std::fs::remove_dir_all(dir).ok();
}
