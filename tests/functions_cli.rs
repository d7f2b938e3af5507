//! The new functions through every command: `diff`, `grad`, `eval --grad` (against the
//! mpmath reference of tests/cases/functions.jsonl), `check`, `graph --format json` and
//! `train` on a small data set.

mod common;

use chainrule::operators::Func;
use common::{chainrule, derivative_tolerance, reference, relative_error};
use serde_json::Value;

/// The argument names the CLI cases use, in order.
const ARGS: [&str; 3] = ["a", "b", "c"];

fn ok(args: &[&str]) -> String {
    let (status, out, err) = chainrule(args);
    assert_eq!(status, 0, "{args:?}: {err}");
    out
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

/// `--at a=..,b=..` for exact arguments (`{:?}` prints the shortest text that reads back).
fn at(args: &[f64]) -> String {
    ARGS.iter().zip(args).map(|(n, v)| format!("{n}={v:?}")).collect::<Vec<_>>().join(",")
}

#[test]
fn eval_grad_gives_the_reference_values_and_derivatives() {
    let mut failures = Vec::new();
    for case in reference() {
        let call = format!("{}({})", case.function, ARGS[..case.args.len()].join(", "));
        let v = json(&["eval", &call, "--at", &at(&case.args), "--grad", "--json"]);
        let value = v["value"].as_f64().unwrap_or(f64::NAN);
        if relative_error(value, case.value) > 1e-15 {
            failures.push(format!("{call} at {:?} = {value}, want {:?}", case.args, case.value));
        }
        for (i, want) in case.partials.iter().enumerate() {
            let got = v["gradient"][ARGS[i]].as_f64().unwrap_or(f64::NAN);
            if relative_error(got, *want) > derivative_tolerance(&case.function, &case.args, 1e-12)
            {
                failures.push(format!(
                    "d/d{} {call} at {:?} = {got}, want {want:?}",
                    ARGS[i], case.args
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn diff_prints_the_rules() {
    let diff = |f: &str, wrt: &str| ok(&["diff", f, "--wrt", wrt]);
    assert_eq!(diff("log1p(x)", "x"), "d/dx = 1/(x + 1)\n");
    assert_eq!(diff("expm1(2*x)", "x"), "d/dx = 2*exp(2*x)\n");
    assert_eq!(diff("asinh(x)", "x"), "d/dx = 1/hypot(x, 1)\n");
    assert_eq!(diff("acosh(x)", "x"), "d/dx = 1/(sqrt(x - 1)*sqrt(x + 1))\n");
    assert_eq!(diff("atanh(x)", "x"), "d/dx = 1/((x + 1)*(1 - x))\n");
    assert_eq!(diff("elu(x)", "x"), "d/dx = exp(min(x, 0))\n");
    assert_eq!(diff("swish(x)", "x"), "d/dx = sigmoid(x)*(x*(1 - sigmoid(x)) + 1)\n");
    assert_eq!(diff("round(x)*x + floor(x) + ceil(x)", "x"), "d/dx = round(x)\n");
    assert_eq!(diff("leaky_relu(x, 0.01)", "x"), "d/dx = step(x) + 0.01*(1 - step(x))\n");
    assert_eq!(
        diff("clamp(x, lo, hi)", "x,lo,hi"),
        "d/dx = (1 - step(x - hi))*(1 - step(lo - x))\nd/dlo = step(lo - x)\nd/dhi = step(x - hi)\n"
    );
    let latex = ok(&["diff", "erf(x)", "--wrt", "x", "--format", "latex"]);
    assert!(latex.contains(r"e^{-x^{2}}"), "{latex}");
    let v = json(&["diff", "hypot(x, y)", "--wrt", "y,x", "--format", "json"]);
    assert_eq!(v["derivatives"]["x"], "x/hypot(x, y)");
    assert_eq!(v["derivatives"]["y"], "y/hypot(x, y)");
}

/// Every printed derivative of `grad`, read back by `eval`, gives the reference value at a
/// tail point of each function: the printed text loses nothing.
#[test]
fn grad_output_evaluates_to_the_reference_in_the_tails() {
    for (f, args) in [
        ("gelu(a)", vec![-30.0]),
        ("silu(a)", vec![-40.0]),
        ("erf(a)", vec![1e-10]),
        ("erfc(a)", vec![26.0]),
        ("log1p(a)", vec![1e-20]),
        ("expm1(a)", vec![1e-20]),
        ("log2(a)", vec![1e-300]),
        ("log10(a)", vec![1e300]),
        ("asinh(a)", vec![1e200]),
        ("acosh(a)", vec![1.0 + 1e-10]),
        ("atanh(a)", vec![1.0 - 1e-10]),
        ("cbrt(a)", vec![-27.0]),
        ("elu(a)", vec![-1e-12]),
        ("hypot(a, b)", vec![1e200, 1e200]),
        ("leaky_relu(a, b)", vec![-0.45, 1e20]),
        ("clamp(a, b, c)", vec![1e300, -1e300, 1e299]),
    ] {
        let name = &f[..f.find('(').unwrap()];
        let case = reference()
            .into_iter()
            .find(|c| c.function == name && c.args == args)
            .unwrap_or_else(|| panic!("no reference for {f} at {args:?}"));
        let out = ok(&["grad", f]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), args.len(), "{out}");
        for (i, line) in lines.iter().enumerate() {
            let (label, text) = line.split_once(" = ").unwrap();
            assert_eq!(label, format!("d/d{}", ARGS[i]));
            // `eval` wants every variable of the text: bind all arguments by name
            let program = format!("{text} + 0*({})", ARGS[..args.len()].join(" + "));
            let v = json(&["eval", &program, "--at", &at(&args), "--json"]);
            let got = v["value"].as_f64().unwrap();
            let err = relative_error(got, case.partials[i]);
            assert!(err <= 1e-12, "{label} {f} = {text} at {args:?}: {got} (error {err:.1e})");
        }
    }
}

#[test]
fn check_passes_on_every_new_function() {
    let formula = "gelu(x)*erf(y) + erfc(x - y) + log1p(x^2)*expm1(y) + log2(2 + y^2) \
                   + log10(3 + x^2) + asinh(x*y) + acosh(2 + y^2) + atanh(tanh(x)/2) \
                   + cbrt(x + 5) + silu(x - y) + swish(y) + elu(x) + hypot(x, y) \
                   + leaky_relu(x*y, 0.1) + clamp(x, -5, 5)*y + floor(x)*round(y)*ceil(x*y)";
    let out = ok(&["check", formula, "--points", "5", "--seed", "3", "--tol", "1e-8"]);
    assert_eq!(out.matches(" ok").count(), 10, "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    let out = ok(&["check", formula, "--hessian", "--at", "x=0.7,y=-1.3", "--tol", "1e-6"]);
    assert_eq!(out.matches(" ok").count(), 6, "{out}");
    // and check can fail: the tolerance is real
    let (status, out, _) = chainrule(&["check", "gelu(x)", "--at", "x=0.3", "--tol", "1e-30"]);
    assert_eq!(status, 1, "{out}");
}

#[test]
fn graph_json_names_the_new_operations() {
    let v = json(&[
        "graph",
        "gelu(x) + hypot(x, y) + clamp(x, 0, y) + leaky_relu(y, 0.1)",
        "--wrt",
        "x,y",
        "--format",
        "json",
    ]);
    let nodes = v["nodes"].as_array().unwrap();
    let ops: Vec<&str> = nodes.iter().map(|n| n["op"].as_str().unwrap()).collect();
    for op in ["gelu", "hypot", "clamp", "leaky_relu", "erfc", "step", "exp"] {
        assert!(ops.contains(&op), "{op} not in {ops:?}");
    }
    let ids: Vec<u64> = nodes.iter().map(|n| n["id"].as_u64().unwrap()).collect();
    for e in v["edges"].as_array().unwrap() {
        assert!(ids.contains(&e[0].as_u64().unwrap()) && ids.contains(&e[1].as_u64().unwrap()));
    }
    let labels: Vec<&str> =
        v["outputs"].as_array().unwrap().iter().map(|o| o["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["f", "d/dx", "d/dy"]);
    // a function node has as many incoming edges as arguments
    let clamp = nodes.iter().find(|n| n["op"] == "clamp").unwrap()["id"].as_u64().unwrap();
    let into = v["edges"].as_array().unwrap().iter().filter(|e| e[1] == clamp).count();
    assert_eq!(into, 3);
}

/// The value of `name = value` in `train`'s output.
fn trained(out: &str, name: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} = ")))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
        .parse()
        .unwrap()
}

#[test]
fn train_fits_models_made_of_the_new_functions() {
    let dir = tempfile::tempdir().unwrap();
    // y = gelu(2x - 0.5) and y = leaky_relu(1.5x + 0.3, 0.1), exactly
    let write = |name: &str, f: &dyn Fn(f64) -> f64| {
        let mut csv = String::from("x,y\n");
        for i in 0..13 {
            let x = -1.5 + 0.25 * i as f64;
            csv.push_str(&format!("{x},{:?}\n", f(x)));
        }
        let path = dir.path().join(name);
        std::fs::write(&path, csv).unwrap();
        path.to_str().unwrap().to_string()
    };
    let gelu = write("gelu.csv", &|x| Func::Gelu.eval_f64([2.0 * x - 0.5, 0.0, 0.0]));
    let leaky = write("leaky.csv", &|x| Func::LeakyRelu.eval_f64([1.5 * x + 0.3, 0.1, 0.0]));
    let run = |model: &str, data: &str, params: &str| {
        ok(&[
            "train", model, "--data", data, "--params", params, "--lr", "0.05", "--epochs", "3000",
        ])
    };
    let out = run("(gelu(w*x + b) - y)^2", &gelu, "w,b");
    assert!((trained(&out, "w") - 2.0).abs() < 1e-3, "{out}");
    assert!((trained(&out, "b") + 0.5).abs() < 1e-3, "{out}");
    assert!(trained(&out, "loss") < 1e-6, "{out}");
    let out = run("(leaky_relu(w*x + b, a) - y)^2", &leaky, "w,b,a");
    assert!((trained(&out, "w") - 1.5).abs() < 1e-3, "{out}");
    assert!((trained(&out, "b") - 0.3).abs() < 1e-3, "{out}");
    assert!((trained(&out, "a") - 0.1).abs() < 1e-3, "{out}");
    assert!(trained(&out, "loss") < 1e-6, "{out}");
}
