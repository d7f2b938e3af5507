//! Arrays (SPEC "Arrays") from the library and the command line: values and derivatives
//! against closed forms computed here in plain Rust (as NumPy would), Jacobians against
//! central finite differences, printed derivatives (snapshots) that read back to the same
//! nodes, every shape, index and definition error (snapshots, exit 2, a caret, no panic),
//! and the limits that keep hostile array formulas fast.

mod common;

use chainrule::graph::lower::{lower, shape_text};
use chainrule::{eval, syntax, ErrorKind, Formula, NodeId, ParseOptions};
use common::{chainrule, data};
use std::collections::HashMap;

// ---------------------------------------------------------------------------------------
// helpers

/// The values of `f`'s variables (in their order) from `given`: each array by its name with
/// its elements row by row, each scalar by its name.
fn values(f: &Formula, given: &[(&str, Vec<f64>)]) -> Vec<f64> {
    let mut by_name = HashMap::new();
    for (name, vals) in given {
        match f.array(name) {
            Some(a) => {
                assert_eq!(a.elements.len(), vals.len(), "{name}: {} values", vals.len());
                for (&v, &x) in a.elements.iter().zip(vals) {
                    by_name.insert(f.graph().variable(v).name.to_string(), x);
                }
            }
            None => {
                by_name.insert(name.to_string(), vals[0]);
            }
        }
    }
    f.var_names()
        .iter()
        .map(|n| *by_name.get(*n).unwrap_or_else(|| panic!("no value for {n}")))
        .collect()
}

fn evaluate(f: &Formula, roots: &[NodeId], at: &[f64]) -> Vec<f64> {
    eval::evaluate(f.graph(), roots, f.var_ids(), at).unwrap()
}

/// The gradient of a scalar result with respect to the array or scalar `name`, row by row.
fn gradient(f: &mut Formula, name: &str, at: &[f64]) -> Vec<f64> {
    let wrt = f.expand_names(&[name]);
    let nodes = f.gradient(&wrt).unwrap();
    evaluate(f, &nodes, at)
}

/// Central finite difference of result element `k` in variable number `i`.
fn finite_difference(f: &Formula, k: usize, i: usize, at: &[f64]) -> f64 {
    let h = 1e-6 * at[i].abs().max(1.0);
    let (mut plus, mut minus) = (at.to_vec(), at.to_vec());
    plus[i] += h;
    minus[i] -= h;
    let out = [f.outputs()[k]];
    (evaluate(f, &out, &plus)[0] - evaluate(f, &out, &minus)[0]) / (2.0 * h)
}

/// Every entry of the Jacobian of `f` (all its variables) against finite differences.
fn jacobian_matches_finite_differences(src: &str, seed: u64) {
    let mut f = Formula::parse(src).unwrap();
    let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
    let at = data(seed, names.len());
    let jacobian = f.jacobian(&names).unwrap();
    assert_eq!(jacobian.len(), f.outputs().len());
    for (k, row) in jacobian.iter().enumerate() {
        let symbolic = evaluate(&f, row, &at);
        for (i, &s) in symbolic.iter().enumerate() {
            let numeric = finite_difference(&f, k, i, &at);
            assert!(
                common::close(s, numeric, 1e-6),
                "{src}: d {}/d{} = {} = {s}, finite difference {numeric}",
                f.output_name(k),
                names[i],
                f.text(row[i])
            );
        }
    }
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(common::close(*g, *w, tol), "{what}: {got:?} vs {want:?}");
    }
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let top = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}

fn logsumexp(z: &[f64]) -> f64 {
    let top = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    top + z.iter().map(|v| (v - top).exp()).sum::<f64>().ln()
}

/// `a` (m x n, row by row) times `b` (n x p).
fn matmul(a: &[f64], b: &[f64], m: usize, n: usize, p: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * p];
    for i in 0..m {
        for j in 0..p {
            c[i * p + j] = (0..n).map(|k| a[i * n + k] * b[k * p + j]).sum();
        }
    }
    c
}

fn transpose(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    (0..n * m).map(|k| a[(k % m) * n + k / m]).collect()
}

/// The declarations of `f`'s arrays, as a program's first line.
fn declarations(f: &Formula) -> String {
    f.arrays().iter().map(|a| format!("{}: {}; ", a.name, shape_text(&a.shape))).collect()
}

/// The printed text of `node` read back after `f`'s declarations is the very same node.
fn reads_back(f: &mut Formula, node: NodeId) -> String {
    let text = f.text(node);
    let program = format!("{}{text}", declarations(f));
    let parsed = syntax::parse(&program).unwrap_or_else(|e| panic!("{program}: {e}"));
    let again = lower(f.graph_mut(), &parsed).unwrap_or_else(|e| panic!("{program}: {e}")).root;
    assert_eq!(again, node, "{program} reads back as another node");
    text
}

// ---------------------------------------------------------------------------------------
// closed forms

#[test]
fn least_squares_gradient_is_vt_times_the_residual() {
    let (n, m) = (20, 6);
    let src = "n = 20; m = 6; s: [20]; t: [20]; x: [6]\n\
               0.5*sum(i = 1..n, (s[i] - sum(j = 1..m, x[j]*t[i]^(j-1)))^2)";
    let mut f = Formula::parse(src).unwrap();
    let (s, t, x) = (data(1, n), data(2, n), data(3, m));
    let at = values(&f, &[("s", s.clone()), ("t", t.clone()), ("x", x.clone())]);
    // V[i][j] = t_i^j; r = V x - s; f = |r|^2 / 2; df/dx = V^T r; df/ds = -r
    let v: Vec<f64> = (0..n * m).map(|k| t[k / m].powi((k % m) as i32)).collect();
    let vx = matmul(&v, &x, n, m, 1);
    let r: Vec<f64> = vx.iter().zip(&s).map(|(a, b)| a - b).collect();
    let value = 0.5 * r.iter().map(|e| e * e).sum::<f64>();
    assert_close(&evaluate(&f, &[f.root()], &at), &[value], 1e-12, "value");
    let vt_r = matmul(&transpose(&v, n, m), &r, m, n, 1);
    assert_close(&gradient(&mut f, "x", &at), &vt_r, 1e-10, "d/dx");
    let minus_r: Vec<f64> = r.iter().map(|e| -e).collect();
    assert_close(&gradient(&mut f, "s", &at), &minus_r, 1e-10, "d/ds");
}

#[test]
fn logsumexp_has_the_softmax_for_gradient_even_far_from_zero() {
    let mut f = Formula::parse("z: [5]; logsumexp(z)").unwrap();
    for shift in [0.0, 800.0, -800.0] {
        let z: Vec<f64> = data(4, 5).iter().map(|v| 3.0 * v + shift).collect();
        let at = values(&f, &[("z", z.clone())]);
        assert_close(&evaluate(&f, &[f.root()], &at), &[logsumexp(&z)], 1e-12, "logsumexp");
        assert_close(&gradient(&mut f, "z", &at), &softmax(&z), 1e-12, "its gradient");
    }
}

#[test]
fn softmax_cross_entropy_has_softmax_minus_y_for_gradient() {
    let mut f = Formula::parse("z: [4]; y: [4]; softmax_cross_entropy(z, y)").unwrap();
    let z = data(5, 4);
    let y = vec![0.0, 0.0, 1.0, 0.0];
    let at = values(&f, &[("z", z.clone()), ("y", y.clone())]);
    let want = logsumexp(&z) - z[2];
    assert_close(&evaluate(&f, &[f.root()], &at), &[want], 1e-12, "value");
    let p = softmax(&z);
    let grad: Vec<f64> = p.iter().zip(&y).map(|(a, b)| a - b).collect();
    assert_close(&gradient(&mut f, "z", &at), &grad, 1e-12, "d/dz");

    // Of matrices: one sample per row, averaged over the rows.
    let mut f = Formula::parse("Z: [3, 4]; Y: [3, 4]; softmax_cross_entropy(Z, Y)").unwrap();
    let z = data(6, 12);
    let y = [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]].concat();
    let at = values(&f, &[("Z", z.clone()), ("Y", y.clone())]);
    let mut value = 0.0;
    let mut grad = Vec::new();
    for i in 0..3 {
        let (row, labels) = (&z[4 * i..4 * i + 4], &y[4 * i..4 * i + 4]);
        value += (logsumexp(row) - row.iter().zip(labels).map(|(a, b)| a * b).sum::<f64>()) / 3.0;
        grad.extend(softmax(row).iter().zip(labels).map(|(p, y)| (p - y) / 3.0));
    }
    assert_close(&evaluate(&f, &[f.root()], &at), &[value], 1e-12, "value of rows");
    assert_close(&gradient(&mut f, "Z", &at), &grad, 1e-12, "d/dZ");
}

#[test]
fn a_two_layer_network_is_its_scalar_spelling() {
    let matrix = "W1: [3, 2]; b1: [3]; v: [3]; x: [2]\n\
                  h = tanh(W1 @ x + b1)\n\
                  out = sigmoid(dot(v, h) + c)\n\
                  bce(out, y)";
    // The same network with one name per weight, as it was written before arrays.
    let mut scalar = String::new();
    for i in 1..=3 {
        scalar += &format!("h{i} = tanh(W1_{i}_1*x_1 + W1_{i}_2*x_2 + b1_{i})\n");
    }
    scalar += "out = sigmoid(v_1*h1 + v_2*h2 + v_3*h3 + c)\nbce(out, y)";
    let mut a = Formula::parse(matrix).unwrap();
    let mut b = Formula::parse(&scalar).unwrap();
    let (w1, b1, v, x) = (data(7, 6), data(8, 3), data(9, 3), data(10, 2));
    let (c, y) = (0.25, 1.0);
    let at_a = values(
        &a,
        &[
            ("W1", w1.clone()),
            ("b1", b1.clone()),
            ("v", v.clone()),
            ("x", x.clone()),
            ("c", vec![c]),
            ("y", vec![y]),
        ],
    );
    // the scalar names, each with its array element's value
    let scalar_name = |name: &str| name.replace(['[', ','], "_").replace(']', "");
    let given: HashMap<String, f64> =
        a.var_names().iter().map(|n| scalar_name(n)).zip(at_a.iter().copied()).collect();
    let at_b: Vec<f64> = b.var_names().iter().map(|n| given[*n]).collect();
    let va = evaluate(&a, &[a.root()], &at_a);
    let vb = evaluate(&b, &[b.root()], &at_b);
    assert_close(&va, &vb, 1e-14, "value");
    let names_a: Vec<String> = a.var_names().iter().map(|s| s.to_string()).collect();
    let names_b: Vec<String> = names_a.iter().map(|n| scalar_name(n)).collect();
    let ga = a.gradient(&names_a).unwrap();
    let gb = b.gradient(&names_b).unwrap();
    assert_close(&evaluate(&a, &ga, &at_a), &evaluate(&b, &gb, &at_b), 1e-13, "gradient");
    // and the same tape: arrays are unrolled into the very scalar nodes
    let tape_a = a.gradient_tape(&names_a).unwrap();
    let tape_b = b.gradient_tape(&names_b).unwrap();
    assert_eq!(tape_a.len(), tape_b.len());
}

#[test]
fn a_quadratic_form_has_a_plus_a_transpose_times_x_for_gradient() {
    let mut f = Formula::parse("x: [3]; A: [3, 3]; x @ A @ x").unwrap();
    let (x, a) = (data(11, 3), data(12, 9));
    let at = values(&f, &[("x", x.clone()), ("A", a.clone())]);
    let ax = matmul(&a, &x, 3, 3, 1);
    let value: f64 = x.iter().zip(&ax).map(|(p, q)| p * q).sum();
    assert_close(&evaluate(&f, &[f.root()], &at), &[value], 1e-13, "value");
    let sym: Vec<f64> = a.iter().zip(transpose(&a, 3, 3)).map(|(p, q)| p + q).collect();
    assert_close(&gradient(&mut f, "x", &at), &matmul(&sym, &x, 3, 3, 1), 1e-13, "d/dx");
    assert_close(&gradient(&mut f, "A", &at), &matmul(&x, &x, 3, 1, 3), 1e-13, "d/dA");

    // The library's Jacobian of `(A + transpose(A)) @ x` in x is that matrix itself.
    let mut g = Formula::parse("x: [3]; A: [3, 3]; (A + transpose(A)) @ x").unwrap();
    assert_eq!(g.shape(), [3]);
    let at = values(&g, &[("x", x), ("A", a)]);
    let x_names = g.expand_names(&["x"]);
    let jacobian = g.jacobian(&x_names).unwrap();
    let flat: Vec<NodeId> = jacobian.concat();
    assert_close(&evaluate(&g, &flat, &at), &sym, 1e-14, "the Jacobian of (A + A^T) x");
}

#[test]
fn matrix_products_of_every_shape() {
    let (a, b, v, w) = (data(13, 6), data(14, 6), data(15, 3), data(16, 2));
    let decl = "A: [2, 3]; B: [3, 2]; v: [3]; w: [2]; u: [3]\n";
    let given = |f: &Formula| {
        values(
            f,
            &[
                ("A", a.clone()),
                ("B", b.clone()),
                ("v", v.clone()),
                ("w", w.clone()),
                ("u", v.clone()),
            ],
        )
    };
    let cases: [(&str, Vec<usize>, Vec<f64>); 5] = [
        ("A @ B", vec![2, 2], matmul(&a, &b, 2, 3, 2)),
        ("A @ v", vec![2], matmul(&a, &v, 2, 3, 1)),
        ("w @ A", vec![3], matmul(&w, &a, 1, 2, 3)),
        ("v @ u", vec![], matmul(&v, &v, 1, 3, 1)),
        ("B @ A", vec![3, 3], matmul(&b, &a, 3, 2, 3)),
    ];
    for (expr, shape, want) in cases {
        let src = format!("{decl}{expr}");
        let f = Formula::parse(&src).unwrap();
        assert_eq!(f.shape(), shape.as_slice(), "{expr}");
        let at = given(&f);
        assert_close(&evaluate(&f, f.outputs(), &at), &want, 1e-14, expr);
        jacobian_matches_finite_differences(&src, 17);
    }
}

#[test]
fn indexed_forms_builders_and_reductions() {
    let x = data(18, 4);
    let cases: Vec<(&str, Vec<f64>)> = vec![
        // the second elementary symmetric polynomial: j runs from i + 1
        ("sum(i = 1..4, j = i + 1..4, x[i]*x[j])", {
            let mut e2 = 0.0;
            for i in 0..4 {
                for j in i + 1..4 {
                    e2 += x[i] * x[j];
                }
            }
            vec![e2]
        }),
        (
            "prod(i = 1..len(x), x[i] + i)",
            vec![x.iter().enumerate().map(|(i, v)| v + i as f64 + 1.0).product()],
        ),
        ("max(i = 1..4, x[i]^2)", vec![x.iter().map(|v| v * v).fold(f64::MIN, f64::max)]),
        ("min(i = 2..4, x[i])", vec![x[1..].iter().cloned().fold(f64::MAX, f64::min)]),
        ("sum(i = 3..2, x[i])", vec![0.0]),
        ("prod(i = 3..2, x[i])", vec![1.0]),
        (
            "[x[i]^(j - 1) for i = 1..4, j = 1..3]",
            (0..12).map(|k| x[k / 3].powi((k % 3) as i32)).collect(),
        ),
        ("[x[len(x) + 1 - i] for i = 1..len(x)]", x.iter().rev().copied().collect()),
        (
            "sum(x) + mean(x) + prod(x)",
            vec![x.iter().sum::<f64>() * 1.25 + x.iter().product::<f64>()],
        ),
        ("norm(x)", vec![x.iter().map(|v| v * v).sum::<f64>().sqrt()]),
        ("outer(x, x)[2, 3] + dot(x, x)", vec![x[1] * x[2] + x.iter().map(|v| v * v).sum::<f64>()]),
        ("sum(i = 1..2, [x[i], x[i + 2]])", vec![x[0] + x[1], x[2] + x[3]]),
    ];
    for (expr, want) in cases {
        let src = format!("x: [4]; {expr}");
        let f = Formula::parse(&src).unwrap_or_else(|e| panic!("{src}: {}", e.render(&src)));
        let at = values(&f, &[("x", x.clone())]);
        assert_close(&evaluate(&f, f.outputs(), &at), &want, 1e-13, expr);
        if !expr.contains("3..2") {
            jacobian_matches_finite_differences(&src, 18);
        }
    }
}

/// An index read only in subscripts (`x[i + 1]`) is a number to the subscript, not a node:
/// lowering a sum of n terms makes the terms' nodes and no constant per index (before, a
/// thousand more here: the numbers 1 to 1000), while an index read as a value is one.
#[test]
fn indices_read_only_in_subscripts_make_no_nodes() {
    let n = 1000;
    let f = Formula::parse(&format!("x: [{n}]; sum(i = 1..{n} - 1, exp(x[i + 1] - x[i]))"))
        .expect("parses");
    // n variables; each term's `-x[i]`, difference and exponential; n - 2 additions
    assert_eq!(f.graph().len(), n + 3 * (n - 1) + (n - 2) + 1, "and the constant -1");
    let f = Formula::parse("x: [3]; sum(i = 1..3, i*x[4 - i])").expect("parses");
    let at = values(&f, &[("x", vec![0.5, 2.0, 3.0])]);
    assert_close(&evaluate(&f, f.outputs(), &at), &[3.0 + 4.0 + 1.5], 1e-15, "i as a value");
}

#[test]
fn builders_stack_rows_and_softmax_each_row() {
    let src = "Z: [2, 3]; [softmax(Z[i, :]) for i = 1..rows(Z)]";
    let f = Formula::parse(src).unwrap();
    assert_eq!(f.shape(), [2, 3]);
    let z = data(19, 6);
    let at = values(&f, &[("Z", z.clone())]);
    let want = [softmax(&z[..3]), softmax(&z[3..])].concat();
    assert_close(&evaluate(&f, f.outputs(), &at), &want, 1e-14, src);
    jacobian_matches_finite_differences(src, 19);
    // columns, rows and a matrix of two vectors
    let f = Formula::parse("Z: [2, 3]; [Z[:, 3], Z[:, 1]]").unwrap();
    assert_eq!(f.shape(), [2, 2]);
    let at = values(&f, &[("Z", z.clone())]);
    assert_close(&evaluate(&f, f.outputs(), &at), &[z[2], z[5], z[0], z[3]], 0.0, "columns");
}

#[test]
fn user_functions_take_arrays_scalars_and_indices() {
    let src = "f(a, b) = dot(a, b) + sum(a)^2\n\
               pick(v, k) = v[k]*k\n\
               x: [3]; y: [3]\n\
               f(x, 2*y) + f(y, x) + sum(i = 1..3, pick(x, i))";
    let mut f = Formula::parse(src).unwrap();
    let (x, y) = (data(20, 3), data(21, 3));
    let at = values(&f, &[("x", x.clone()), ("y", y.clone())]);
    let dot: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    let (sx, sy): (f64, f64) = (x.iter().sum(), y.iter().sum());
    let picks: f64 = x.iter().enumerate().map(|(i, v)| v * (i + 1) as f64).sum();
    let want = 2.0 * dot + sx * sx + dot + sy * sy + picks;
    assert_close(&evaluate(&f, &[f.root()], &at), &[want], 1e-13, "value");
    let dx: Vec<f64> = (0..3).map(|i| 3.0 * y[i] + 2.0 * sx + (i + 1) as f64).collect();
    assert_close(&gradient(&mut f, "x", &at), &dx, 1e-13, "d/dx");
    let dy: Vec<f64> = (0..3).map(|i| 3.0 * x[i] + 2.0 * sy).collect();
    assert_close(&gradient(&mut f, "y", &at), &dy, 1e-13, "d/dy");
    // a parameter hides an outer name of the same spelling
    let f = Formula::parse("x: [2]; g(x) = x*2; g(3)").unwrap();
    assert_eq!(evaluate(&f, &[f.root()], &[0.0, 0.0]), [6.0]);
}

#[test]
fn jacobians_of_array_results_match_finite_differences() {
    for (k, src) in [
        "x: [4]; softmax(x)",
        "W: [3, 2]; x: [2]; W @ x",
        "x: [3]; sin(x)*x + exp(x/2) - 2^x",
        "x: [3]; atan2(x, 2) + pow(x, 2) + hypot(x, 1) + log(x^2 + 1, 3)",
        "A: [2, 3]; B: [3, 2]; transpose(A @ B) * 2",
        "x: [3]; W: [2, 3]; sigmoid(W @ x + [1, -1])",
        "x: [2]; outer(x, [1, 2, 3])",
        "x: [3]; [x[i]*x[j] for i = 1..3, j = 1..3]",
    ]
    .iter()
    .enumerate()
    {
        jacobian_matches_finite_differences(src, 30 + k as u64);
    }
}

#[test]
fn a_scalar_result_has_its_gradient_as_the_one_row_of_its_jacobian() {
    let mut f = Formula::parse("x: [3]; sum(x^2)").unwrap();
    let names = f.expand_names(&["x"]);
    assert_eq!(names, ["x[1]", "x[2]", "x[3]"]);
    let jacobian = f.jacobian(&names).unwrap();
    assert_eq!(jacobian.len(), 1);
    let texts: Vec<String> = jacobian[0].iter().map(|&d| f.text(d)).collect();
    assert_eq!(texts, ["2*x[1]", "2*x[2]", "2*x[3]"]);
}

#[test]
fn the_library_describes_arrays_names_and_shapes() {
    let mut f = Formula::parse("W: [2, 3]; b: [2]; x: [3]; out = W @ x + b*c; out").unwrap();
    assert_eq!(f.shape(), [2]);
    assert!(!f.is_scalar());
    assert_eq!(f.outputs().len(), 2);
    assert_eq!(f.names(), ["W", "b", "x", "c"]);
    assert_eq!(f.array("W").unwrap().shape, [2, 3]);
    assert!(f.array("c").is_none());
    assert_eq!(f.expand_names(&["b", "c"]), ["b[1]", "b[2]", "c"]);
    assert_eq!(f.output_name(1), "out[2]");
    assert_eq!(
        f.result_text().unwrap(),
        "[W[1,1]*x[1] + W[1,2]*x[2] + W[1,3]*x[3] + b[1]*c, W[2,1]*x[1] + W[2,2]*x[2] + W[2,3]*x[3] + b[2]*c]"
    );
    let names: Vec<&str> = f.var_names();
    assert_eq!(names.len(), 6 + 2 + 3 + 1);
    assert_eq!(names[..3], ["W[1,1]", "W[1,2]", "W[1,3]"]);
    // an assigned array is not a variable
    let f = Formula::parse("W: [2, 2]; W = [[1, 2], [3, 4]]; sum(W @ [x, y])").unwrap();
    assert!(f.arrays().is_empty());
    assert_eq!(f.names(), ["x", "y"]);
}

// ---------------------------------------------------------------------------------------
// printed derivatives: snapshots, and they read back

/// `chainrule ARGS` that must succeed; its standard output.
fn ok(args: &[&str]) -> String {
    let (status, out, err) = chainrule(args);
    assert_eq!(status, 0, "{args:?}: {err}");
    out
}

#[test]
fn printed_array_derivatives() {
    let net = "W: [2,2]; x: [2]; sum(sigmoid(W @ x))";
    insta::assert_snapshot!("grad_matrix_text", ok(&["grad", net, "--wrt", "W"]));
    insta::assert_snapshot!("grad_matrix_json", ok(&["grad", net, "--wrt", "W,x", "--json"]));
    let soft = "x: [3]; out = softmax(x); out";
    insta::assert_snapshot!("jacobian_text", ok(&["diff", soft, "--wrt", "x"]));
    insta::assert_snapshot!(
        "jacobian_json",
        ok(&["grad", "x: [2]; W: [2, 2]; W @ x", "--wrt", "x", "--json"])
    );
    insta::assert_snapshot!(
        "jacobian_latex",
        ok(&["diff", "x: [2]; y = [exp(x[1])^2, x[1]*x[2]]; y", "--wrt", "x", "--format", "latex"])
    );
    insta::assert_snapshot!(
        "element_latex",
        ok(&[
            "diff",
            "W_1: [2, 2]; alpha: [2]; sum(W_1 @ alpha)^2",
            "--wrt",
            "W_1[1,2],alpha",
            "--format",
            "latex"
        ])
    );
    insta::assert_snapshot!(
        "second_derivative_of_element",
        ok(&["diff", "x: [2]; x[1]^3*x[2]", "--wrt", "x[1]", "--order", "2"])
    );
    insta::assert_snapshot!(
        "cse_of_a_layer",
        ok(&["grad", "W: [2, 2]; x: [2]; sum(tanh(W @ x))", "--wrt", "x", "--cse"])
    );
}

#[test]
fn eval_gives_nested_lists() {
    let at = "W=[[1,2],[3,4]],x=[5,6]";
    let value: serde_json::Value =
        serde_json::from_str(&ok(&["eval", "W: [2, 2]; x: [2]; W @ x", "--at", at, "--json"]))
            .unwrap();
    assert_eq!(value["value"], serde_json::json!([17.0, 39.0]));
    let out = ok(&["eval", "W: [2, 2]; x: [2]; sum(W @ x)^2/2", "--at", at, "--grad", "--json"]);
    insta::assert_snapshot!("eval_gradient_json", out);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // d/dW = s * outer([1, 1], x) with s = 56; d/dx = s * (column sums of W)
    assert_eq!(v["gradient"]["W"], serde_json::json!([[280.0, 336.0], [280.0, 336.0]]));
    assert_eq!(v["gradient"]["x"], serde_json::json!([224.0, 336.0]));
    let out = ok(&[
        "eval",
        "W: [2, 2]; x: [2]; W @ x*c",
        "--at",
        &format!("{at},c=2"),
        "--grad",
        "--json",
    ]);
    insta::assert_snapshot!("eval_jacobian_json", out);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["jacobian"]["x"], serde_json::json!([[2.0, 4.0], [6.0, 8.0]]));
    assert_eq!(v["jacobian"]["c"], serde_json::json!([17.0, 39.0]));
    assert_eq!(v["jacobian"]["W"][1], serde_json::json!([[0.0, 0.0], [10.0, 12.0]]));
    // text output of an array value
    insta::assert_snapshot!(
        "eval_matrix_text",
        ok(&["eval", "A: [2, 3]; A*2", "--at", "A=[[1,2,3],[4,5,6]]"])
    );
}

#[test]
fn printed_derivatives_of_array_formulas_read_back_to_the_same_nodes() {
    for src in [
        "W: [2,2]; x: [2]; sum(sigmoid(W @ x))",
        "x: [3]; softmax(x)",
        "x: [3]; A: [3, 3]; x @ A @ x",
        "n = 4; s: [4]; t: [4]; x: [2]; 0.5*sum(i = 1..n, (s[i] - x[1] - x[2]*t[i])^2)",
        "z: [3]; y: [3]; softmax_cross_entropy(z, y) + logsumexp(z)^2",
        "W1: [3, 2]; b1: [3]; v: [3]; x: [2]; h = tanh(W1 @ x + b1); sigmoid(dot(v, h) + c)",
        "x: [3]; [x[i]^i for i = 1..3]",
        "A: [2, 2]; norm(A) + prod(A) + max(A)",
    ] {
        let mut f = Formula::parse(src).unwrap();
        let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
        let jacobian = f.jacobian(&names).unwrap();
        let mut count = 0;
        for &d in jacobian.iter().flatten() {
            let text = reads_back(&mut f, d);
            count += usize::from(text.contains('['));
        }
        assert!(count > 0, "{src}: no derivative names an element");
        let outputs = f.outputs().to_vec();
        let simplified = chainrule::simplify::simplify(f.graph_mut(), &outputs).unwrap();
        for s in simplified {
            reads_back(&mut f, s);
        }
    }
}

#[test]
fn a_printed_derivative_read_back_from_the_command_line_has_the_same_value() {
    // `d/dx[2] = ...` lines, each pasted after the declarations, evaluate as the JSON says.
    let src = "x: [3]; W: [2, 3]; sum(exp(W @ x))/3";
    let at = "x=[0.5,-1,2],W=[[1,0.5,-1],[0.25,2,1]]";
    let lines = ok(&["grad", src, "--wrt", "x"]);
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["eval", src, "--at", at, "--grad", "--json"])).unwrap();
    for (k, line) in lines.lines().enumerate() {
        let (label, text) = line.split_once(" = ").unwrap();
        assert_eq!(label, format!("d/dx[{}]", k + 1));
        let program = format!("x: [3]; W: [2, 3]; {text}");
        let out = ok(&["eval", &program, "--at", at, "--json"]);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        let want = json["gradient"]["x"][k].as_f64().unwrap();
        assert!(common::close(value["value"].as_f64().unwrap(), want, 1e-12), "{line}: {out}");
    }
}

#[test]
fn latex_of_a_power_of_exp_is_parenthesised() {
    let mut f = Formula::parse("exp(u)^2 + exp(-u)^x").unwrap();
    let s = f.simplified().unwrap();
    insta::assert_snapshot!("latex_power_of_exp", f.latex(s));
    assert!(!f.latex(s).contains("}^{"), "{}", f.latex(s));
}

// ---------------------------------------------------------------------------------------
// errors: each exits 2 with a caret under the offending text, and never panics

const ERRORS: &[(&str, &str)] = &[
    ("shape_mismatch", "A: [2, 2]; v: [2]; A * v"),
    ("shape_mismatch_function", "x: [3]; y: [2]; atan2(x, y)"),
    ("matmul_scalar", "A: [2, 2]; A @ 2"),
    ("matmul_inner", "A: [2, 3]; B: [2, 3]; A @ B"),
    ("transpose_vector", "v: [3]; transpose(v)"),
    ("index_out_of_range", "x: [3]; x[4]"),
    ("index_zero", "x: [3]; x[0]"),
    ("index_out_of_range_expression", "x: [3]; sum(i = 1..len(x), x[i + 1])"),
    ("row_out_of_range", "A: [2, 2]; A[3, :]"),
    ("index_not_whole", "x: [3]; x[1.5]"),
    ("index_of_a_variable", "x: [3]; x[y]"),
    ("index_of_an_element", "x: [3]; x[x[1]]"),
    ("index_of_an_array", "x: [3]; x[[1, 2]]"),
    ("index_unknown_name", "x: [3]; sum(i = 1..3, x[j])"),
    ("index_after_its_form", "x: [3]; s = sum(i = 1..3, x[i]); s + x[i]"),
    ("index_of_a_scalar", "x: [3]; sum(x)[1]"),
    ("too_many_subscripts", "x: [2]; x[1, 1]"),
    ("too_few_subscripts", "W: [2, 2]; W[1]"),
    ("empty_max", "x: [3]; max(i = 1..0, x[i])"),
    ("empty_min", "x: [3]; min(i = 3..1, x[i])"),
    ("empty_builder", "[i for i = 2..1]"),
    ("builder_of_three_ranges", "[i*j*k for i = 1..2, j = 1..2, k = 1..2]"),
    ("builder_of_matrices", "A: [2, 2]; [A for i = 1..2]"),
    ("bound_not_whole", "x: [3]; sum(i = 1..2.5, x[i])"),
    ("bound_of_a_variable", "x: [3]; sum(i = 1..n, x[i])"),
    ("no_indexed_form", "x: [3]; mean(i = 1..3, x[i])"),
    ("recursion", "f(a) = f(a) + 1; f(x)"),
    ("mutual_recursion", "f(a) = g(a); g(a) = f(a); g(x)"),
    ("function_arity", "f(a, b) = a*b; f(x)"),
    ("function_as_a_value", "f(a) = a; f + 1"),
    ("builtin_arity", "x: [3]; softmax(x, x)"),
    ("declared_shape_assigned_another", "W: [2, 2]; W = [1, 2]; sum(W)"),
    ("declared_vector_assigned_scalar", "x: [3]; x = 5; x"),
    ("declared_twice", "x: [2]; x: [3]; sum(x)"),
    ("declaration_three_dimensions", "W: [2, 2, 2]; sum(W)"),
    ("declaration_zero", "W: [0, 2]; sum(W)"),
    ("declaration_not_whole", "n = 2.5; W: [n]; sum(W)"),
    ("declaration_of_a_variable", "W: [n]; sum(W)"),
    ("declared_after_use", "y = x*2; x: [2]; sum(y)"),
    ("element_limit", "sum(i = 1..1000000000, i)"),
    ("element_limit_declaration", "W: [100000, 100000]; sum(W)"),
    ("element_limit_huge_declaration", "W: [1000000000000000, 1000000000000000]; sum(W)"),
    ("element_limit_nested_ranges", "sum(i = 1..100000, j = 1..100000, i*j)"),
    ("ragged_list", "[[1, 2], [3]]"),
    ("mixed_list", "[[1, 2], 3]"),
    ("list_of_matrices", "A: [2, 2]; [A, A]"),
    ("empty_list", "x: [2]; sum([]) + x[1]"),
    ("loss_shapes", "x: [3]; y: [2]; mse(x, y)"),
    ("loss_of_a_scalar", "x: [3]; mse(x, 1)"),
    ("logsumexp_matrix", "A: [2, 2]; logsumexp(A)"),
    ("softmax_matrix", "A: [2, 2]; softmax(A)"),
    ("dot_lengths", "x: [2]; y: [3]; dot(x, y)"),
    ("len_of_matrix", "A: [2, 3]; len(A)"),
    ("rows_of_vector", "x: [3]; rows(x)"),
    ("reduce_a_scalar", "sum(x)"),
    ("program_ends_with_declaration", "x: [3]"),
    ("program_ends_with_function", "f(a) = a"),
    ("range_not_first", "x: [3]; sum(x[1], i = 1..3)"),
    ("range_without_body", "x: [3]; sum(i = 1..3)"),
    ("reserved_index_name", "x: [3]; sum(sin = 1..3, x[sin])"),
    ("reserved_parameter", "f(sin) = sin; f(1)"),
    ("duplicate_parameter", "f(a, a) = a; f(1, 2)"),
    ("function_sees_only_what_is_above", "f(a) = a*k; k = 2; f(x)"),
    ("subscript_range_syntax", "x: [3]; x[1:2]"),
];

/// `chainrule eval SRC` (the formula is refused before any point is needed): exit 2, a
/// caret, no panic; the message.
fn refused(src: &str) -> String {
    let (status, out, err) = chainrule(&["eval", src]);
    assert_eq!(status, 2, "{src}: {out}{err}");
    assert!(!err.contains("panicked"), "{src}: {err}");
    assert!(
        err.lines().any(|l| l.contains("| ") && l.trim_end().ends_with('^')),
        "{src}: no caret in {err}"
    );
    err
}

#[test]
fn every_shape_index_and_definition_error_has_a_caret() {
    for (name, src) in ERRORS {
        let err = refused(src);
        insta::assert_snapshot!(format!("error_{name}"), format!("{src}\n---\n{err}"));
    }
}

#[test]
fn the_element_limit_refuses_fast_and_can_be_raised() {
    let error = Formula::parse("sum(i = 1..1000000000, i)").unwrap_err();
    assert_eq!(error.kind, ErrorKind::TooManyElements { limit: 10_000_000 });
    // the count is of elements and terms: 5 declared + 5 terms
    let options = |n| ParseOptions { max_elements: n, ..ParseOptions::default() };
    let src = "x: [5]; sum(i = 1..5, x[i])";
    assert!(Formula::parse_with(src, options(10)).is_ok());
    let error = Formula::parse_with(src, options(9)).unwrap_err();
    assert_eq!(error.kind, ErrorKind::TooManyElements { limit: 9 });
    // the command line's --max-elements
    let (status, _, err) =
        chainrule(&["eval", src, "--max-elements", "9", "--at", "x=[1,2,3,4,5]"]);
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("--max-elements"), "{err}");
    let out = ok(&["eval", src, "--max-elements", "10", "--at", "x=[1,2,3,4,5]"]);
    assert_eq!(out.trim(), "value = 15");
    // a small limit leaves scalar formulas (and functions of them) alone
    let scalar = format!("f(a) = {}; f(x)", vec!["sin(a)"; 2000].join(" + "));
    assert!(Formula::parse_with(&scalar, options(1)).is_ok());
}

#[test]
fn repeated_work_is_refused_fast_too() {
    // Each term copies a row of 50,000 elements: 50,000 terms would copy 2.5 billion.
    let options = ParseOptions { max_elements: 200_000, ..ParseOptions::default() };
    for src in [
        "W: [1, 50000]; sum(i = 1..50000, W[1, :][1])",
        "x: [50000]; sum(i = 1..50000, sum(x))",
        "x: [50000]; sum(i = 1..50000, softmax(x)[1])",
        "A: [200, 250]; sum(i = 1..50000, transpose(A)[1, 1])",
    ] {
        let error = Formula::parse_with(src, options).err().map(|e| e.kind);
        assert_eq!(error, Some(ErrorKind::TooManyElements { limit: 200_000 }), "{src}");
    }
    // and what the limit allows is built
    let f = Formula::parse_with("x: [1000]; sum(i = 1..100, sum(x)*i)", options).unwrap();
    assert_eq!(f.var_ids().len(), 1000);
}

#[test]
fn nested_calls_take_linear_time() {
    // f40 calls f39 twice, which calls f38 twice...: 2^40 calls, unless one call with the
    // same arguments is the same nodes (as the graph shares them anyway).
    let mut src = String::from("f0(a) = a*2\n");
    for k in 1..=40 {
        src += &format!("f{k}(a) = f{}(a) + f{}(a)\n", k - 1, k - 1);
    }
    src += "x: [3]; sum(f40(x))";
    let mut f = Formula::parse(&src).unwrap();
    let d = f.gradient(&["x[1]"]).unwrap();
    assert_eq!(f.text(d[0]), "2199023255552");
    // arguments made the same way are the same nodes: `(x + 1) + 1` whichever call made it
    let mut src = String::from("f0(a) = a*2\n");
    for k in 1..=40 {
        src += &format!("f{k}(a) = f{}(a) + f{}(a + 1)\n", k - 1, k - 1);
    }
    assert!(Formula::parse(&(src + "f40(x)")).is_ok());
    // with arguments that differ at every call (`sin(cos(x))` is not `cos(sin(x))`), 2^40
    // calls are refused by the budget
    let mut src = String::from("f0(a) = a\n");
    for k in 1..=40 {
        src += &format!("f{k}(a) = f{}(sin(a)) + f{}(cos(a))\n", k - 1, k - 1);
    }
    let error = Formula::parse(&(src + "f40(x)")).err().map(|e| e.kind);
    assert_eq!(error, Some(ErrorKind::TooManyElements { limit: 10_000_000 }));
}

#[test]
fn deep_indexed_forms_and_builders_do_not_overflow_the_stack() {
    let depth = 2000;
    let sums = format!("x: [2]; {}x[1]{}", "sum(i = 1..1, ".repeat(depth), ")".repeat(depth));
    let builders = format!("{}x{}", "[".repeat(depth), " for i = 1..1]".repeat(depth));
    let calls: String = (1..depth).map(|k| format!("f{k}(a) = f{}(a) + 1\n", k - 1)).collect();
    let calls = format!("f0(a) = a\n{calls}f{}(x)", depth - 1);
    // `x[1][1]...`: each subscript nests the one before it (this overflowed the stack)
    let subscripts = format!("x: [2]; x[1]{}", "[1]".repeat(5000));
    let too_many = format!("x: [2]; x[1]{}", "[1]".repeat(200_000));
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let sums = Formula::parse(&sums).map(|f| f.outputs().len());
            let builders = Formula::parse(&builders).map(|f| f.shape().to_vec());
            let calls = Formula::parse(&calls).map(|f| f.var_ids().len());
            let subscripts =
                [subscripts, too_many].map(|s| Formula::parse(&s).err().map(|e| e.kind));
            (sums, builders.map_err(|e| e.kind), calls, subscripts)
        })
        .unwrap();
    let (sums, builders, calls, subscripts) = handle.join().unwrap();
    assert!(matches!(subscripts[0], Some(ErrorKind::Index(_))), "{subscripts:?}");
    assert_eq!(subscripts[1], Some(ErrorKind::TooDeep { limit: 10_000 }));
    assert_eq!(sums.unwrap(), 1);
    assert!(matches!(builders, Err(ErrorKind::Shape(_))), "{builders:?}");
    assert_eq!(calls.unwrap(), 1);
}

#[test]
fn command_line_array_input_errors() {
    for (name, args) in [
        ("at_wrong_shape", vec!["eval", "W: [2, 2]; sum(W)", "--at", "W=[1,2]"]),
        ("at_ragged", vec!["eval", "W: [2, 2]; sum(W)", "--at", "W=[[1,2],[3]]"]),
        ("at_array_for_scalar", vec!["eval", "x^2", "--at", "x=[1,2]"]),
        ("wrt_unknown_element", vec!["grad", "x: [2]; sum(x)", "--wrt", "x[3]"]),
        ("wrt_assigned_array", vec!["grad", "x: [2]; y = x*2; sum(y)", "--wrt", "y"]),
    ] {
        let (status, out, err) = chainrule(&args);
        assert_eq!(status, 2, "{args:?}: {out}{err}");
        assert!(!err.contains("panicked"), "{err}");
        insta::assert_snapshot!(format!("cli_{name}"), err);
    }
    // one element of an array in --wrt
    assert_eq!(ok(&["diff", "x: [2]; x[1]^2*x[2]", "--wrt", "x[1]"]), "d/dx[1] = 2*x[1]*x[2]\n");
    assert_eq!(
        ok(&["diff", "W: [2, 2]; W[1, 2]^3", "--wrt", "W[1, 2]"]),
        "d/dW[1,2] = 3*W[1,2]^2\n"
    );
}

/// An array's name in the library's `wrt` lists stands for its elements (it once made a new
/// scalar of that name, whose derivative was silently 0).
#[test]
fn an_array_name_in_wrt_means_its_elements() {
    let mut f = Formula::parse("x: [3]; sum(i = 1..3, i*x[i]^2)").unwrap();
    assert_eq!(f.ids(&["x"]).len(), 3);
    let tape = f.gradient_tape(&["x"]).unwrap();
    let out = tape.run(&[1.0, 1.0, 1.0], &mut Vec::new());
    assert_eq!(out, vec![6.0, 2.0, 4.0, 6.0]);
    let by_element: Vec<String> = f.gradient(&["x"]).unwrap().iter().map(|&d| f.text(d)).collect();
    assert_eq!(by_element, ["2*x[1]", "4*x[2]", "6*x[3]"]);
}
