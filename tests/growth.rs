//! The derivative graph must not swell: the nodes of all first derivatives, with what they
//! share with the formula, stay within 5x the formula's own nodes (the cheap-gradient bound
//! of reverse mode). Measured on a 1,000-deep chain of functions, a product of 1,000
//! variables (as a left-to-right chain and as a balanced tree), and a 2-layer network.

use chainrule::graph::walk;
use chainrule::{diff, print, simplify, Formula};

struct Sizes {
    formula: usize,
    raw: usize,
    simplified: usize,
}

fn sizes(src: &str) -> Sizes {
    let mut f = Formula::parse(src).unwrap();
    let vars = f.var_nodes();
    let root = f.root();
    let formula = walk::reachable(f.graph(), &[root]).len();
    let raw_roots = diff::grad(f.graph_mut(), root, &vars).unwrap();
    let raw = walk::reachable(f.graph(), &raw_roots).len();
    let simple_roots = simplify::simplify(f.graph_mut(), &raw_roots).unwrap();
    let simplified = walk::reachable(f.graph(), &simple_roots).len();
    Sizes { formula, raw, simplified }
}

fn assert_no_swell(name: &str, src: &str) {
    let s = sizes(src);
    println!(
        "{name}: formula {} nodes, gradient {} raw, {} simplified",
        s.formula, s.raw, s.simplified
    );
    assert!(s.raw <= 5 * s.formula, "{name}: raw gradient {} > 5 x {}", s.raw, s.formula);
    assert!(
        s.simplified <= 5 * s.formula,
        "{name}: simplified gradient {} > 5 x {}",
        s.simplified,
        s.formula
    );
}

fn chain(depth: usize) -> String {
    let funcs = ["sin", "tanh", "sigmoid", "exp", "cos", "softplus", "atan"];
    let mut s = "x".to_string();
    for i in 0..depth {
        s = format!("{}({s})", funcs[i % funcs.len()]);
    }
    s
}

#[test]
fn a_thousand_nested_functions() {
    assert_no_swell("chain", &chain(1000));
}

#[test]
fn a_product_of_a_thousand_variables() {
    let product = (1..=1000).map(|i| format!("x{i}")).collect::<Vec<_>>().join("*");
    assert_no_swell("product", &product);
}

#[test]
fn a_balanced_product_of_a_thousand_variables() {
    let mut level: Vec<String> = (1..=1024).map(|i| format!("x{i}")).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| format!("({}*{})", p[0], p[1])).collect();
    }
    assert_no_swell("balanced product", &level[0]);
}

/// A 10-32-1 network with tanh hidden units, a sigmoid output and an mse loss.
fn network(inputs: usize, hidden: usize) -> String {
    let mut program = String::new();
    for j in 1..=hidden {
        let sum: Vec<String> = (1..=inputs).map(|i| format!("w{j}_{i}*x{i}")).collect();
        program.push_str(&format!("h{j} = tanh({} + b{j})\n", sum.join(" + ")));
    }
    let out: Vec<String> = (1..=hidden).map(|j| format!("v{j}*h{j}")).collect();
    program.push_str(&format!("out = sigmoid({} + c)\nmse(out, y)\n", out.join(" + ")));
    program
}

#[test]
fn a_two_layer_network_loss() {
    assert_no_swell("network", &network(10, 32));
}

#[test]
fn the_cse_print_of_a_deep_chain_grows_linearly() {
    let length = |depth: usize| {
        let mut f = Formula::parse(&chain(depth)).unwrap();
        let d = f.derivative("x", 1).unwrap();
        print::cse_program(f.graph(), &[("d/dx".into(), d)]).len()
    };
    let (small, large) = (length(250), length(1000));
    println!("cse text: {small} bytes at depth 250, {large} at depth 1000");
    assert!(large < 5 * small, "{large} bytes at 4x the depth vs {small}");
    // The plain text repeats every shared part and grows quadratically.
    let mut f = Formula::parse(&chain(1000)).unwrap();
    let d = f.derivative("x", 1).unwrap();
    assert!(f.text(d).len() > 20 * large);
}

#[path = "common/mlp.rs"]
mod mlp;

/// The 50x128 network written with arrays in three lines unrolls into the very graph of its
/// scalar spelling (the benchmark's `mlp_50x128`): the gradient tapes have the same length
/// and registers, and give the same value and gradient at a point. So it evaluates exactly
/// as fast (`cargo bench --bench arrays` times both).
#[test]
fn the_50x128_network_with_arrays_has_the_tape_of_its_scalar_spelling() {
    let (scalar_src, scalar_wrt) = mlp::scalar(50, 128);
    let (array_src, array_wrt) = mlp::arrays(50, 128);
    let mut scalar = Formula::parse(&scalar_src).unwrap();
    let mut arrays = Formula::parse(&array_src).unwrap();
    let array_wrt = arrays.expand_names(&array_wrt);
    assert_eq!(array_wrt.len(), scalar_wrt.len());
    let scalar_tape = scalar.gradient_tape(&scalar_wrt).unwrap();
    let array_tape = arrays.gradient_tape(&array_wrt).unwrap();
    println!("tape: {} instructions, {} registers", array_tape.len(), array_tape.registers());
    assert_eq!(array_tape.len(), scalar_tape.len());
    assert_eq!(array_tape.registers(), scalar_tape.registers());
    // The same point in both spellings; the gradients in the same order.
    let value = |name: &str| {
        0.5 * ((name.len() * 7 + name.bytes().map(usize::from).sum::<usize>()) % 13) as f64 / 13.0
            - 0.2
    };
    let point = |f: &Formula, rename: &dyn Fn(&str) -> String| -> Vec<f64> {
        f.var_names().iter().map(|n| value(&rename(n))).collect()
    };
    let a = array_tape.run(&point(&arrays, &mlp::scalar_name), &mut Vec::new());
    let s = scalar_tape.run(&point(&scalar, &str::to_string), &mut Vec::new());
    let position: std::collections::HashMap<&str, usize> =
        scalar_wrt.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    assert_eq!(a[0].to_bits(), s[0].to_bits(), "value {} vs {}", a[0], s[0]);
    for (k, name) in array_wrt.iter().enumerate() {
        let i = position[mlp::scalar_name(name).as_str()];
        assert_eq!(
            a[1 + k].to_bits(),
            s[1 + i].to_bits(),
            "d/d{name}: {} vs {}",
            a[1 + k],
            s[1 + i]
        );
    }
}
