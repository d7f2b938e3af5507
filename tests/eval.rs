//! The compiled tape: f32 against f64, batches against point by point, native code against
//! the interpreter, register reuse, stable losses, the finite-difference checker, and
//! `eval --data`, `check`, `bench` from the command line.

mod common;

use chainrule::eval::{self, Column, CompileOptions, Reduce};
use chainrule::{check, Formula, NodeId, Request, Simplify};
use common::*;
use serde_json::Value;

/// The formula of a corpus case with its value, gradient and Hessian as tape outputs.
fn full_tape(case: &Value) -> (Formula, eval::Tape) {
    let mut f = Formula::parse(case["expr"].as_str().unwrap()).unwrap();
    let names = var_names(case);
    let ids = f.ids(&names);
    let raw = Request::new(ids.clone()).with_hessian().simplify(Simplify::Raw);
    let roots = f.derive(&raw).unwrap().roots();
    let tape = eval::compile(f.graph(), &roots, &ids).unwrap();
    (f, tape)
}

#[test]
fn f32_agrees_with_f64_to_f32_precision() {
    let mut checked = 0;
    for case in cases("eval") {
        let (_, tape) = full_tape(&case);
        for pt in case["points"].as_array().unwrap() {
            let (_, values) = point(&case, &pt["at"]);
            let wide = tape.run(&values, &mut Vec::new());
            let narrow_in: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            let narrow = tape.run(&narrow_in, &mut Vec::new());
            for (w, n) in wide.iter().zip(&narrow) {
                // f32 rounding, amplified by the formula's conditioning: 1e-3 relative.
                if w.is_finite() && w.abs() < 1e30 {
                    assert!(close(*n as f64, *w, 1e-3), "{}: f32 {n} vs f64 {w}", case["id"]);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 3000);
}

#[test]
fn batches_equal_point_by_point_evaluation() {
    for case in cases("eval") {
        let (_, tape) = full_tape(&case);
        let names = var_names(&case);
        // Each corpus point is a row; repeat them so that rows span several blocks and chunks.
        let points = case["points"].as_array().unwrap();
        let rows = 5000;
        let columns: Vec<Vec<f64>> = names
            .iter()
            .map(|n| {
                (0..rows).map(|r| points[r % points.len()]["at"][n].as_f64().unwrap()).collect()
            })
            .collect();
        let views: Vec<Column<f64>> = columns.iter().map(|c| Column::Rows(c)).collect();
        let every = tape.run_batch(&views, rows, Reduce::None);
        let width = tape.outputs();
        let mut sums = vec![0.0; width];
        for r in 0..rows {
            let values: Vec<f64> = columns.iter().map(|c| c[r]).collect();
            let one = tape.run(&values, &mut Vec::new());
            assert_eq!(
                &every[r * width..(r + 1) * width],
                one.as_slice(),
                "{} row {r}",
                case["id"]
            );
            sums.iter_mut().zip(&one).for_each(|(s, v)| *s += v);
        }
        let mean = tape.run_batch(&views, rows, Reduce::Mean);
        let total = tape.run_batch(&views, rows, Reduce::Sum);
        for k in 0..width {
            assert!(close(total[k], sums[k], 1e-12), "{} sum of output {k}", case["id"]);
            assert!(
                close(mean[k], sums[k] / rows as f64, 1e-12),
                "{} mean of output {k}",
                case["id"]
            );
        }
    }
}

/// The batch runner computes a `sin` and a `cos` of one value together (with register
/// reuse in between, and for arguments the fast reduction leaves to the standard library):
/// every row is still what the point runner gives, to the bit.
#[test]
fn sines_and_cosines_computed_together_keep_their_bits() {
    let src = "sin(x)*cos(x) + cos(2*x) - sin(2*x)^2 + sin(x*y)/(2 + cos(y)) + cos(sin(y))";
    let mut f = Formula::parse(src).unwrap();
    let tape = f.gradient_tape(&["x", "y"]).unwrap();
    let xs =
        [0.3, -2.0, 1e7, 3e300, f64::INFINITY, f64::NAN, 0.0, std::f64::consts::FRAC_PI_2, -7.5];
    let ys = [1.0, 0.25, -3.0, 2e6, 0.5, 1.0, -0.0, 4.0, 1e-300];
    let columns = [Column::Rows(&xs[..]), Column::Rows(&ys[..])];
    let rows = tape.run_batch(&columns, xs.len(), Reduce::None);
    let bits = |v: &[f64]| {
        v.iter().map(|y| if y.is_nan() { u64::MAX } else { y.to_bits() }).collect::<Vec<_>>()
    };
    for (r, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
        let one = tape.run(&[x, y], &mut Vec::new());
        let width = one.len();
        assert_eq!(
            bits(&rows[r * width..(r + 1) * width]),
            bits(&one),
            "row {r}: x = {x}, y = {y}"
        );
    }
}

/// The batch runner runs its own schedule of the tape (outputs handed on as soon as they
/// are made, registers given again): every row is still the point runner's bits, for
/// outputs that are inputs, constants or one value several times, a `sin` and a `cos` of an
/// input, a long logsumexp and a long gradient; and the sums over rows are the rows' sums.
#[test]
fn batch_schedules_keep_every_rows_bits() {
    let long_sum: Vec<String> = (1..=40).map(|i| format!("exp(x*{i} - y)")).collect();
    let sources = [
        "x*y".to_string(),
        "2*x + y".into(),
        "x + y".into(),
        "exp(x + y)".into(),
        "sin(x)*cos(x) + cos(y)*sin(y)^2".into(),
        "log(1 + 2*x^2) * sigmoid(x*y - 1)".into(),
        format!("log({})", long_sum.join(" + ")),
        rosenbrock_text(60),
    ];
    let rows = 777;
    for src in &sources {
        let (tape, data) =
            gradient_tape_and_rows(src, rows, |r, i| (r * 13 + i * 7) % 29, 9.0, 1.5);
        let columns: Vec<Column<f64>> = data.iter().map(|d| Column::Rows(d)).collect();
        let point = |r: usize| data.iter().map(|d| d[r]).collect();
        let sums = assert_rows_are_points(&tape, &columns, rows, point, src);
        let total = tape.run_batch(&columns, rows, Reduce::Sum);
        for (k, (&t, &s)) in total.iter().zip(&sums).enumerate() {
            assert!(close(t, s, 1e-12), "{src}: sum of output {k}: {t} vs {s}");
        }
    }
}

/// The gradient tape of `src` over all its variables, and `rows` rows of data for them:
/// variable `i` in row `r` is `pattern(r, i) / scale - shift`.
fn gradient_tape_and_rows(
    src: &str,
    rows: usize,
    pattern: impl Fn(usize, usize) -> usize,
    scale: f64,
    shift: f64,
) -> (eval::Tape, Vec<Vec<f64>>) {
    let mut f = Formula::parse(src).unwrap();
    let vars: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
    let tape = f.gradient_tape(&vars).unwrap();
    let data = (0..vars.len())
        .map(|i| (0..rows).map(|r| pattern(r, i) as f64 / scale - shift).collect())
        .collect();
    (tape, data)
}

/// Asserts that every row of one batch of `tape` over `columns` has the bits of the point
/// runner at `point(row)` (one register buffer for all points); the points' sums.
fn assert_rows_are_points(
    tape: &eval::Tape,
    columns: &[Column<f64>],
    rows: usize,
    point: impl Fn(usize) -> Vec<f64>,
    what: &str,
) -> Vec<f64> {
    let every = tape.run_batch(columns, rows, Reduce::None);
    let width = tape.outputs();
    let mut sums = vec![0.0; width];
    let mut registers = Vec::new();
    for r in 0..rows {
        let one = tape.run(&point(r), &mut registers);
        let row = &every[r * width..(r + 1) * width];
        let same = row.iter().zip(&one).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{what} row {r}: {row:?} vs {one:?}");
        sums.iter_mut().zip(&one).for_each(|(s, v)| *s += v);
    }
    sums
}

/// The point runner runs its own program of the tape (instructions of one kind together,
/// in loops of their own, the last result read from a machine register): every point is
/// still the batch runner's bits, for a network's dot products, Rosenbrock's alike terms,
/// a chain of functions and a long sum.
#[test]
fn point_programs_keep_the_tapes_bits() {
    let dots: Vec<String> = (1..=6)
        .map(|j| {
            let dot: Vec<String> = (1..=5).map(|i| format!("w{i}_{j}*x{i}")).collect();
            format!("v{j}*sigmoid({} + b{j})", dot.join(" + "))
        })
        .collect();
    let chain = "sin(exp(cos(x1*x2) * x1) - x2) / (1 + x1^2)";
    let sources = [
        format!("softplus(-({}))", dots.join(" + ")),
        rosenbrock_text(40),
        chain.to_string(),
        (1..=30).map(|i| format!("(x1 - {i})^2*x2")).collect::<Vec<_>>().join(" + "),
    ];
    let rows = 50;
    for src in &sources {
        let (tape, data) =
            gradient_tape_and_rows(src, rows, |r, i| (r * 11 + i * 5) % 23, 7.0, 1.6);
        let columns: Vec<Column<f64>> = data.iter().map(|d| Column::Rows(d)).collect();
        assert_rows_are_points(&tape, &columns, rows, |r| data.iter().map(|d| d[r]).collect(), src);
    }
}

/// `sum_{i<n} 100*(x(i+1) - x(i)^2)^2 + (1 - x(i))^2` over `x1..xn`.
fn rosenbrock_text(n: usize) -> String {
    let terms: Vec<String> =
        (1..n).map(|i| format!("100*(x{} - x{i}^2)^2 + (1 - x{i})^2", i + 1)).collect();
    terms.join(" + ")
}

/// A full block reads its inputs where the columns hold them, a last partial block from
/// a copy: both give the point runner's bits, with fixed columns among the rows, an
/// output that is an input (d/dw of w*x + b*sin(x) is x) and a function of one.
#[test]
fn inputs_read_in_place_or_copied_keep_the_bits() {
    let mut f = Formula::parse("w*x + b*sin(x)").unwrap();
    let vars: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
    let tape = f.gradient_tape(&["w", "b"]).unwrap();
    let rows = 3 * eval::BLOCK + 17;
    let xs: Vec<f64> = (0..rows).map(|r| r as f64 / 10.0 - 4.0).collect();
    let fixed = [("w", 1.5), ("b", -0.25)];
    let columns: Vec<Column<f64>> = vars
        .iter()
        .map(|v| match fixed.iter().find(|(name, _)| name == v) {
            Some(&(_, value)) => Column::Fixed(value),
            None => Column::Rows(&xs),
        })
        .collect();
    let point = |r: usize| -> Vec<f64> {
        let at = |v: &String| fixed.iter().find(|(name, _)| name == v).map(|&(_, value)| value);
        vars.iter().map(|v| at(v).unwrap_or(xs[r])).collect()
    };
    assert_rows_are_points(&tape, &columns, rows, point, "w*x + b*sin(x)");
}

#[test]
fn fixed_columns_broadcast() {
    let f = Formula::parse("w*x + b").unwrap();
    let tape = f.compile(&[f.root()]).unwrap();
    let x = [1.0, 2.0, 3.0];
    let out = tape.run_batch(
        &[Column::Fixed(2.0), Column::Rows(&x), Column::Fixed(0.5)],
        3,
        Reduce::None,
    );
    assert_eq!(out, vec![2.5, 4.5, 6.5]);
}

#[cfg(feature = "native")]
#[test]
fn native_code_agrees_with_the_interpreter_to_the_bit() {
    for case in cases("eval") {
        let (_, tape) = full_tape(&case);
        let native = eval::compile_native(&tape).unwrap();
        for pt in case["points"].as_array().unwrap() {
            let (_, values) = point(&case, &pt["at"]);
            let interpreted = tape.run(&values, &mut Vec::new());
            let mut compiled = vec![0.0; tape.outputs()];
            native.run_into(&values, &mut compiled);
            let same = interpreted
                .iter()
                .zip(&compiled)
                .all(|(a, b)| a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan());
            assert!(same, "{}: {interpreted:?} vs {compiled:?}", case["id"]);
        }
    }
}

/// Tapes of many thousand instructions are compiled as several functions that pass
/// registers through memory: the results are still the interpreter's, bit for bit.
#[cfg(feature = "native")]
#[test]
fn long_tapes_run_native_in_several_functions_to_the_bit() {
    let rosenbrock: Vec<String> =
        (1..400).map(|i| format!("100*(x{}^2 - x{i})^2 + (x{i} - 1)^2", i + 1)).collect();
    let waves: Vec<String> = (1..3000).map(|k| format!("sin({k}*x + {k}/7)")).collect();
    let chain = (0..1500).fold("x".to_string(), |s, i| match i % 3 {
        0 => format!("sin({s})"),
        1 => format!("cos({s})"),
        _ => format!("exp(-{s})"),
    });
    for source in [rosenbrock.join(" + "), waves.join(" + "), chain] {
        let mut f = Formula::parse(&source).unwrap();
        let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
        let tape = f.gradient_tape(&names).unwrap();
        assert!(
            tape.len() > 4_000,
            "{} instructions: too short to need several functions",
            tape.len()
        );
        let native = eval::compile_native(&tape).unwrap();
        for seed in 0..3 {
            let values: Vec<f64> =
                (0..names.len()).map(|i| ((i * 7 + seed * 13) % 11) as f64 / 10.0 - 0.4).collect();
            let interpreted = tape.run(&values, &mut Vec::new());
            let mut compiled = vec![0.0; tape.outputs()];
            native.run_into(&values, &mut compiled);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&interpreted), bits(&compiled), "{} instructions", tape.len());
        }
    }
}

#[test]
fn registers_are_reused() {
    let chain = (0..500).fold("x".to_string(), |s, i| {
        if i % 2 == 0 {
            format!("sin({s})")
        } else {
            format!("tanh({s})")
        }
    });
    let mut f = Formula::parse(&chain).unwrap();
    let tape = f.gradient_tape(&["x"]).unwrap();
    let plain = {
        let roots: Vec<NodeId> = vec![f.root()];
        let options = CompileOptions { fuse: false, reuse_registers: false };
        eval::compile_with(f.graph(), &roots, f.var_ids(), options).unwrap()
    };
    println!("{} instructions in {} registers", tape.len(), tape.registers());
    assert!(
        tape.registers() * 2 < tape.len(),
        "{} registers for {} instructions",
        tape.registers(),
        tape.len()
    );
    assert!(plain.registers() > 500);
}

#[test]
fn fusion_and_reuse_do_not_change_values() {
    for case in cases("eval") {
        let (f, fast) = full_tape(&case);
        let names = var_names(&case);
        let options = CompileOptions { fuse: false, reuse_registers: false };
        let ids: Vec<_> = names.iter().map(|n| f.graph().var_id(n).unwrap()).collect();
        let plain = eval::compile_with(f.graph(), &[f.root()], &ids, options).unwrap();
        for pt in case["points"].as_array().unwrap() {
            let (_, values) = point(&case, &pt["at"]);
            let a = fast.run(&values, &mut Vec::new())[0];
            let b = plain.run(&values, &mut Vec::new())[0];
            assert!(close(a, b, 1e-14), "{}: {a} vs {b}", case["id"]);
        }
    }
}

/// Value and gradient of `src` at `point` through the command line's path (library here).
fn value_and_gradient(src: &str, point: &[(&str, f64)]) -> Vec<f64> {
    let mut f = Formula::parse(src).unwrap();
    let names: Vec<String> = f.vars().map(|v| v.name.to_string()).collect();
    let tape = f.gradient_tape(&names).unwrap();
    let values: Vec<f64> =
        names.iter().map(|n| point.iter().find(|(m, _)| m == n).unwrap().1).collect();
    tape.run(&values, &mut Vec::new())
}

#[test]
fn losses_are_computed_stably() {
    assert_eq!(value_and_gradient("bce(sigmoid(z), 1)", &[("z", -800.0)]), vec![800.0, -1.0]);
    assert_eq!(value_and_gradient("bce(sigmoid(z), 0)", &[("z", 800.0)]), vec![800.0, 1.0]);
    let f = Formula::parse("softmax_cross_entropy([1000, 0], [0, 1])").unwrap();
    assert_eq!(eval::evaluate(f.graph(), &[f.root()], &[], &[]).unwrap(), vec![1000.0]);
    let softmax = "cross_entropy([exp(a)/(exp(a) + exp(b)), exp(b)/(exp(a) + exp(b))], [0, 1])";
    assert_eq!(value_and_gradient(softmax, &[("a", 1000.0), ("b", 0.0)]), vec![1000.0, 1.0, -1.0]);
    assert_eq!(value_and_gradient("ln(sigmoid(x))", &[("x", -1000.0)]), vec![-1000.0, 1.0]);
    assert_eq!(value_and_gradient("softplus(x)", &[("x", 1000.0)]), vec![1000.0, 1.0]);
    assert_eq!(value_and_gradient("softplus(x)", &[("x", -1000.0)]), vec![0.0, 0.0]);
    let lse = value_and_gradient("logsumexp([x, y])", &[("x", 1000.0), ("y", 1000.0)]);
    assert_eq!(lse[0], 1000.0 + 2f64.ln());
    // exp(x - logsumexp) loses |logsumexp| * eps to cancellation: 1e-13 here
    assert!(close(lse[1], 0.5, 1e-12) && close(lse[2], 0.5, 1e-12), "{lse:?}");
    assert_eq!(value_and_gradient("sigmoid(x)", &[("x", -1000.0)])[0], 0.0);
    let mse = value_and_gradient("mse([a, b], [1, 2])", &[("a", 3.0), ("b", 2.0)]);
    assert_eq!(mse, vec![2.0, 2.0, 0.0]);
}

#[test]
fn the_first_nonfinite_value_is_traced_to_its_node() {
    let f = Formula::parse("y + sqrt(x) * ln(x - 2)").unwrap();
    let tape = f.compile(&[f.root()]).unwrap();
    let (node, value) = tape.first_nonfinite(&[0.0f64, 1.0]).unwrap();
    assert_eq!(f.text(node), "ln(x - 2)");
    assert!(value.is_nan());
    let span = f.origin(node).unwrap();
    assert_eq!(&f.source()[span.start..span.end], "ln(x - 2)");
    assert!(tape.first_nonfinite(&[0.0f64, 3.0]).is_none());
}

#[test]
fn check_passes_on_the_corpus() {
    let mut compared = 0;
    for case in cases("eval") {
        let mut f = Formula::parse(case["expr"].as_str().unwrap()).unwrap();
        let names = var_names(&case);
        let gradient = raw_gradient(&mut f, &names);
        let ids = f.ids(&names);
        for pt in case["points"].as_array().unwrap() {
            let (_, values) = point(&case, &pt["at"]);
            for row in check::gradient(f.graph(), f.root(), &gradient, &ids, &values).unwrap() {
                assert!(row.passes(1e-6), "{} {}: {row:?}", case["id"], case["expr"]);
                compared += 1;
            }
        }
    }
    assert!(compared > 1200, "only {compared} compared");
}

#[test]
fn check_catches_a_wrong_gradient() {
    let mut f = Formula::parse("x^3 + sin(y)").unwrap();
    let ids = f.var_ids().to_vec();
    // d/dx of x^3 is 3*x^2; claim 2*x^2, and the right d/dy.
    let wrong = Formula::parse("2*x^2").unwrap();
    let x = f.var("x");
    let g = f.graph_mut();
    let two = g.constant(2.0);
    let x2 = g.pow(x, two);
    let claimed = g.mul(two, x2);
    let y = g.var("y");
    let dy = g.func(chainrule::graph::Func::Cos, &[y]);
    let rows = check::gradient(f.graph(), f.root(), &[claimed, dy], &ids, &[1.5, 0.5]).unwrap();
    assert!(!rows[0].passes(1e-6), "{rows:?}");
    assert!(rows[1].passes(1e-6), "{rows:?}");
    assert_eq!(wrong.text(wrong.root()), "2*x^2");
}

#[test]
fn check_adapts_its_step_to_the_formula() {
    // ln(x) at x = 0.0055 varies on the scale of x: a fixed step of 1e-3 was 18% of it.
    let mut f = Formula::parse("tanh(x*y) + ln(x)").unwrap();
    let ids = f.var_ids().to_vec();
    let d = f.derive(&Request::new(ids.clone()).with_hessian()).unwrap();
    let point = [0.005525758385816815, 0.5742865932028556];
    let mut rows = check::gradient(f.graph(), f.root(), &d.derivatives, &ids, &point).unwrap();
    rows.extend(check::hessian(f.graph(), &d.derivatives, &d.hessian, &ids, &point).unwrap());
    assert!(rows.iter().all(|r| r.passes(1e-6)), "{rows:?}");
    // the README's example
    let (status, out, _) =
        chainrule(&["check", "tanh(x*y) + ln(x)", "--hessian", "--points", "5", "--seed", "7"]);
    assert_eq!(status, 0, "{out}");
}

#[test]
fn check_compares_hessians() {
    let mut f = Formula::parse("x^2*y^3 + exp(x*y)").unwrap();
    let ids = f.var_ids().to_vec();
    let d = f.derive(&Request::new(ids.clone()).with_hessian()).unwrap();
    let rows = check::hessian(f.graph(), &d.derivatives, &d.hessian, &ids, &[0.7, -0.4]).unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.passes(1e-7)), "{rows:?}");
}

// ------------------------------------------------------------------ the command line

fn csv_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("chainrule-{}-{name}.csv", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// `eval (w*x - y)^2 --data PATH --at w=2` with more flags.
fn eval_line(path: &str, flags: &[&str]) -> String {
    let mut args = vec!["eval", "(w*x - y)^2", "--data", path, "--at", "w=2"];
    args.extend(flags);
    let (status, out, err) = chainrule(&args);
    assert_eq!(status, 0, "{err}");
    out
}

#[test]
fn eval_over_a_data_set() {
    let data = csv_file("lin", "x,y\n1,2\n2,4\n3,7\n");
    let path = data.to_str().unwrap();
    let v: Value = serde_json::from_str(&eval_line(path, &["--grad", "--json"])).unwrap();
    // residuals 0, 0, -1: mean loss 1/3; d/dw = mean(2*(w*x - y)*x) = -2
    assert!(close(v["value"].as_f64().unwrap(), 1.0 / 3.0, 1e-15));
    assert!(close(v["gradient"]["w"].as_f64().unwrap(), -2.0, 1e-15));
    let sum: Value =
        serde_json::from_str(&eval_line(path, &["--reduce", "sum", "--json"])).unwrap();
    assert_eq!(sum["value"], 1.0);
    let rows: Value =
        serde_json::from_str(&eval_line(path, &["--reduce", "none", "--json"])).unwrap();
    assert_eq!(rows["rows"].as_array().unwrap().len(), 3);
    assert_eq!(rows["rows"][2]["value"], 1.0);
    // The gradient is with respect to the parameters (the variables that are no column)...
    let table = eval_line(path, &["--reduce", "none", "--grad"]);
    assert_eq!(table, "value,d/dw\n0,0\n0,0\n1,-6\n");
    // ...unless --wrt names others.
    let table = eval_line(path, &["--reduce", "none", "--grad", "--wrt", "x,w"]);
    assert_eq!(table, "value,d/dx,d/dw\n0,0,0\n0,0,0\n1,-4,-6\n");
    std::fs::remove_file(data).ok();
}

#[test]
fn data_errors_are_clear() {
    let data = csv_file("bad", "x,q\n1,2\n");
    let path = data.to_str().unwrap();
    let (status, _, err) = chainrule(&["eval", "w*x", "--data", path, "--at", "w=1"]);
    assert_eq!(status, 2);
    assert!(err.contains("the data column `q` names no variable"), "{err}");
    let data2 = csv_file("ok", "x\n1\n");
    let (status, _, err) = chainrule(&["eval", "w*x", "--data", data2.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(err.contains("no value for variable `w`"), "{err}");
    let data3 = csv_file("nan", "x\n1\nabc\n");
    let (status, _, err) = chainrule(&["eval", "x", "--data", data3.to_str().unwrap()]);
    assert_eq!(status, 1);
    assert!(err.contains("row 2, column `x`: `abc` is not a number"), "{err}");
    let data4 = csv_file("dom", "x\n3\n1\n");
    let (status, _, err) = chainrule(&["eval", "ln(x - 2)", "--data", data4.to_str().unwrap()]);
    assert_eq!(status, 1);
    assert!(err.contains("in data row 2: `ln(x - 2)` gives NaN"), "{err}");
    for p in [data, data2, data3, data4] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn check_from_the_command_line() {
    let (status, out, _) = chainrule(&["check", "sin(x)*exp(y)", "--at", "x=0.5,y=1", "--hessian"]);
    assert_eq!(status, 0);
    assert_eq!(out.lines().filter(|l| l.ends_with(" ok")).count(), 6, "{out}");
    let (status, out, _) =
        chainrule(&["check", "tanh(x*y) + ln(x)", "--points", "4", "--seed", "3"]);
    assert_eq!(status, 0, "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("at ")).count(), 4);
    assert_eq!(
        chainrule(&["check", "tanh(x*y) + ln(x)", "--points", "4", "--seed", "3"]).1,
        out,
        "a seed fixes the points"
    );
    // A kink makes finite differences disagree: relu at 0 has subgradient 0, the difference 0.5.
    let (status, _, err) = chainrule(&["check", "relu(x)", "--at", "x=0"]);
    assert_eq!(status, 1);
    assert!(err.contains("1 of 1 derivatives differ"), "{err}");
}

#[test]
fn binding_many_variables_takes_linear_time() {
    // x1^2 + ... + x60000^2 at a point naming every variable: a linear search per variable
    // (in binding and in the tape compiler) took minutes here.
    let n = 60_000;
    let formula = (1..=n).map(|i| format!("x{i}^2")).collect::<Vec<_>>().join(" + ");
    let params: serde_json::Map<String, Value> =
        (1..=n).map(|i| (format!("x{i}"), Value::from(0.5))).collect();
    let dir = std::env::temp_dir();
    let id = std::process::id();
    let source = dir.join(format!("chainrule-{id}-many.txt"));
    let values = dir.join(format!("chainrule-{id}-many.json"));
    std::fs::write(&source, formula).unwrap();
    std::fs::write(&values, Value::Object(params).to_string()).unwrap();
    let start = std::time::Instant::now();
    let (status, out, err) = chainrule(&[
        "eval",
        "-f",
        source.to_str().unwrap(),
        "--params",
        values.to_str().unwrap(),
        "--grad",
    ]);
    let elapsed = start.elapsed();
    let _ = (std::fs::remove_file(&source), std::fs::remove_file(&values));
    assert_eq!(status, 0, "{err}");
    assert!(out.starts_with("value = 15000\n") && out.ends_with("d/dx60000 = 1\n"));
    assert!(elapsed.as_secs() < 20, "{elapsed:?} for {n} variables");
}
