//! The derivative graph must not swell: the nodes of all first derivatives, with what they
//! share with the formula, stay within 5x the formula's own nodes (the cheap-gradient bound
//! of reverse mode). Measured on a 1,000-deep chain of functions, a product of 1,000
//! variables (as a left-to-right chain and as a balanced tree), and a 2-layer network.

use chainrule::graph::walk;
use chainrule::{diff, print, simplify, Formula, Request, Simplify};

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
    assert_evaluation_form_is_no_larger(name, src);
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

/// The form evaluation runs (value, gradient and, for small formulas, Hessian simplified
/// together) never has more nodes than reverse mode built, and keeps the values.
fn assert_evaluation_form_is_no_larger(name: &str, src: &str) {
    let mut f = Formula::parse(src).unwrap();
    let wrt = f.var_ids().to_vec();
    let hessian = wrt.len() <= 40;
    let mut request = Request::new(wrt).simplify(Simplify::Raw);
    if hessian {
        request = request.with_hessian();
    }
    let raw = f.derive(&request).unwrap().roots();
    let given = walk::reachable(f.graph(), &raw).len();
    let evaluated = simplify::for_evaluation(f.graph_mut(), &raw).unwrap();
    let kept = walk::reachable(f.graph(), &evaluated).len();
    println!("{name}: {given} nodes raw (Hessian: {hessian}), {kept} for evaluation");
    assert!(kept <= given, "{name}: {kept} nodes for evaluation > {given} given");
    let point: Vec<f64> = (0..f.var_ids().len()).map(|i| 0.3 + 0.01 * (i % 17) as f64).collect();
    let before = f.compile(&raw).unwrap().run(&point, &mut Vec::new());
    let after = f.compile(&evaluated).unwrap().run(&point, &mut Vec::new());
    for (k, (a, b)) in after.iter().zip(&before).enumerate() {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{name}: output {k}: {a} vs {b}");
    }
}

/// The unrolled steps of an ODE (explicit Euler, `n` coupled states), as assignments, and a
/// squared error at the end: a deep program whose states each have several users.
fn ode(n: usize, steps: usize) -> String {
    let mut program = String::new();
    let state = |s: usize, i: usize| match s {
        0 => format!("y{i}"),
        _ => format!("s{s}_{i}"),
    };
    for s in 1..=steps {
        for i in 0..n {
            let (a, b, c) =
                (state(s - 1, i), state(s - 1, (i + 1) % n), state(s - 1, (i + n - 1) % n));
            program.push_str(&format!(
                "{} = {a} + 0.01*(-p{i}*{a} + sin({b})*{c} - 0.1*{a}*{a}*{b})\n",
                state(s, i)
            ));
        }
    }
    let loss: Vec<String> = (0..n).map(|i| format!("({} - t{i})^2", state(steps, i))).collect();
    program + &loss.join(" + ")
}

#[test]
fn the_evaluation_form_of_the_benchmark_families_is_no_larger() {
    let rosenbrock = (1..100)
        .map(|i| format!("100*(x{}-x{i}^2)^2 + (1-x{i})^2", i + 1))
        .collect::<Vec<_>>()
        .join(" + ");
    let sines = (1..=1000).map(|k| format!("sin({k}*x + {k}/7)")).collect::<Vec<_>>().join(" + ");
    let product = (1..=1000).map(|i| format!("x{i}")).collect::<Vec<_>>().join("*");
    let cases = [
        ("chain", chain(1000)),
        ("product", product),
        ("rosenbrock 100", rosenbrock),
        ("sum of 1000 sines", sines),
        ("network 10x32", network(10, 32)),
        ("ode 8x100", ode(8, 100)),
        ("small ode with its Hessian", ode(3, 4)),
        ("polynomial", "(x + y + z + 1)^10".into()),
        ("logsumexp", "x: [300]\nlog(sum(i = 1..300, exp(x[i])))".into()),
    ];
    for (name, src) in cases {
        assert_evaluation_form_is_no_larger(name, &src);
    }
}

/// A long sum is added pairwise for evaluation: `sum(i = 1..n, x[i])` at 0.1 everywhere is
/// `n/10` to within a few roundings, where one addition after another would be off by
/// about `n` of them; and its every derivative is exactly 1.
#[test]
fn long_sums_are_added_pairwise_for_evaluation() {
    let n = 100_000;
    let mut f = Formula::parse(&format!("x: [{n}]\nsum(i = 1..{n}, x[i])")).unwrap();
    let wrt = f.var_ids().to_vec();
    let request = Request::new(wrt).simplify(Simplify::Together);
    let derived = f.derive(&request).unwrap();
    let tape = f.compile(&derived.roots()).unwrap();
    let out = tape.run(&vec![0.1; n], &mut Vec::new());
    let exact = n as f64 / 10.0;
    let relative = ((out[0] - exact) / exact).abs();
    println!("sum of {n} times 0.1: {} (relative error {relative:e})", out[0]);
    assert!(relative < 1e-14, "relative error {relative:e}");
    assert!(out[1..].iter().all(|&d| d == 1.0));
    // One addition after another (the raw form) is what the pairwise sum improves on.
    let chained = (0..n).fold(0.0, |acc: f64, _| acc + 0.1);
    assert!(((chained - exact) / exact).abs() > 100.0 * relative.max(1e-17));
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
