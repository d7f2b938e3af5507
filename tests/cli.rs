//! The command line end to end: outputs, JSON shapes of SPEC.md, input sources, exit statuses.

mod common;

use serde_json::Value;

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    run_with_stdin(args, "")
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Run {
    let (status, stdout, stderr) = common::chainrule_with_stdin(args, stdin);
    Run { status, stdout, stderr }
}

fn json(args: &[&str]) -> Value {
    let r = run(args);
    assert_eq!(r.status, 0, "{args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn diff_prints_one_line_per_variable() {
    let r = run(&["diff", "x^2*y^3", "--wrt", "x,y"]);
    assert_eq!(r.stdout, "d/dx = 2*x*y^3\nd/dy = 3*x^2*y^2\n");
    assert_eq!(r.status, 0);
}

#[test]
fn higher_orders_are_labelled() {
    assert_eq!(run(&["diff", "x^3", "--wrt", "x", "--order", "2"]).stdout, "d2/dx2 = 6*x\n");
    assert_eq!(run(&["diff", "sin(x)", "--wrt", "x", "--order", "3"]).stdout, "d3/dx3 = -cos(x)\n");
}

#[test]
fn diff_json_has_the_spec_shape() {
    let v = json(&["diff", "x*y + sin(x*y)", "--wrt", "y,x", "--format", "json"]);
    assert_eq!(v["expr"], "x*y + sin(x*y)");
    assert_eq!(v["order"], 1);
    let keys: Vec<&String> = v["derivatives"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["y", "x"]);
    assert_eq!(v["derivatives"]["x"], "y*(cos(x*y) + 1)");
    assert_eq!(json(&["diff", "x^2", "--wrt", "x", "--json"])["derivatives"]["x"], "2*x");
}

#[test]
fn latex_output() {
    let r = run(&["diff", "sigmoid(w*x)/x", "--wrt", "w", "--format", "latex"]);
    assert_eq!(r.stdout, "\\frac{\\partial f}{\\partial w} = \\operatorname{sigmoid}\\left(w x\\right) \\left(1 - \\operatorname{sigmoid}\\left(w x\\right)\\right)\n");
}

#[test]
fn grad_defaults_to_every_variable_in_order_of_appearance() {
    let r = run(&["grad", "b + w*x"]);
    assert_eq!(r.stdout, "d/db = 1\nd/dw = x\nd/dx = w\n");
}

#[test]
fn cse_prints_shared_parts_once_as_a_valid_program() {
    let formula = "h = sigmoid(w*x + b); (h - y)^2";
    let at = "w=0.5,b=-0.25,x=1.5,y=0.75";
    let r = run(&["grad", formula, "--wrt", "w,b", "--cse"]);
    assert_eq!(r.status, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("t1 = "), "{}", r.stdout);
    let expected = json(&["eval", formula, "--at", at, "--grad", "--json"]);
    let assignments: Vec<&str> = lines.iter().filter(|l| l.starts_with('t')).copied().collect();
    for line in lines.iter().filter(|l| l.starts_with("d/d")) {
        let (lhs, rhs) = line.split_once(" = ").unwrap();
        let program = format!("{}\n{rhs}", assignments.join("\n"));
        let value = run_with_stdin(&["eval", "-", "--at", at, "--json"], &program);
        assert_eq!(value.status, 0, "{program}: {}", value.stderr);
        let got: Value = serde_json::from_str(&value.stdout).unwrap();
        let want = &expected["gradient"][&lhs[3..]];
        assert!(
            (got["value"].as_f64().unwrap() - want.as_f64().unwrap()).abs() < 1e-12,
            "{program}"
        );
    }
}

#[test]
fn input_from_stdin_and_from_a_file() {
    let r = run_with_stdin(&["diff", "-", "--wrt", "x"], "a = x^2\n# comment\na*3\n");
    assert_eq!(r.stdout, "d/dx = 6*x\n");
    let path = std::env::temp_dir().join(format!("chainrule-cli-{}.cr", std::process::id()));
    std::fs::write(&path, "-x^2").unwrap();
    let r = run(&["diff", "-f", path.to_str().unwrap(), "--wrt", "x"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(r.stdout, "d/dx = -2*x\n");
}

#[test]
fn eval_json_with_gradient_and_hessian() {
    let v = json(&["eval", "x^2*y", "--at", "y=2,x=1.5", "--grad", "--hessian", "--json"]);
    assert_eq!(v["value"], 4.5);
    assert_eq!(v["gradient"]["x"], 6.0);
    assert_eq!(v["gradient"]["y"], 2.25);
    assert_eq!(v["hessian"]["x"]["y"], 3.0);
    assert_eq!(v["hessian"]["y"]["y"], 0.0);
    let keys: Vec<&String> = v["gradient"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["x", "y"]);
    assert!(v.get("hessian").is_some());
    assert!(json(&["eval", "x", "--at", "x=1", "--json"]).get("gradient").is_none());
}

#[test]
fn eval_plain_text() {
    let r = run(&["eval", "x*y", "--at", "x=3,y=-2", "--grad"]);
    assert_eq!(r.stdout, "value = -6\nd/dx = -2\nd/dy = 3\n");
}

#[test]
fn a_non_finite_value_is_reported_with_its_subexpression() {
    let r = run(&["eval", "y + ln(x - 2)", "--at", "x=1,y=0", "--json"]);
    assert_eq!(r.status, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["value"], "NaN");
    assert!(r.stderr.contains("`ln(x - 2)` gives NaN"), "{}", r.stderr);
    assert!(r.stderr.contains("column 5"), "{}", r.stderr);
    let r = run(&["eval", "1/x", "--at", "x=0", "--json"]);
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).unwrap()["value"], "inf");
}

#[test]
fn exit_statuses() {
    assert_eq!(run(&["diff", "x^", "--wrt", "x"]).status, 2);
    assert_eq!(run(&["diff", "x", "--wrt", "x", "--bogus"]).status, 2);
    assert_eq!(run(&["diff", "-f", "/no/such/file", "--wrt", "x"]).status, 1);
    assert_eq!(run(&["eval", "x + y", "--at", "x=1"]).status, 2);
    assert_eq!(run(&["eval", "x", "--at", "x=abc"]).status, 2);
    assert_eq!(run(&["diff", "h = x; h", "--wrt", "h"]).status, 2);
    assert_eq!(run(&["diff", "x", "--wrt", "x", "--order", "0"]).status, 2);
    assert_eq!(run(&["--help"]).status, 0);
}

#[test]
fn help_shows_examples() {
    assert!(run(&["--help"]).stdout.contains("chainrule diff \"x^3*sin(x)\" --wrt x"));
    for sub in ["diff", "grad", "eval"] {
        assert!(run(&[sub, "--help"]).stdout.contains("Examples:"), "{sub}");
    }
}

#[test]
fn a_formula_starting_with_minus_is_an_argument() {
    assert_eq!(run(&["diff", "-x^2", "--wrt", "x"]).stdout, "d/dx = -2*x\n");
}

/// Formulas whose derivatives print differently simplified together than one by one.
const SHARED: [(&str, &str); 3] = [
    ("mse(p, t)", "p,t"),
    ("h = sigmoid(w1*x + b1); out = sigmoid(w2*h + b2); mse(out, y)", "w1,w2"),
    ("z1 = w1*x + b1; h = tanh(z1); out = w2*h + b2; (out - y)^2", "w1,b1,w2,b2"),
];

#[test]
fn diff_prints_the_library_s_derivative_lines() {
    for (formula, wrt) in SHARED {
        let names: Vec<&str> = wrt.split(',').collect();
        for order in [1, 2] {
            let mut f = chainrule::Formula::parse(formula).unwrap();
            let lines = f.derivative_lines(&names, order).unwrap();
            let printed = run(&["diff", formula, "--wrt", wrt, "--order", &order.to_string()]);
            assert_eq!(printed.stdout, lines, "{formula} order {order}");
        }
    }
}

#[test]
fn check_verifies_the_printed_derivatives() {
    for (formula, wrt) in SHARED {
        let names: Vec<String> = chainrule::Formula::parse(formula)
            .unwrap()
            .var_names()
            .into_iter()
            .map(String::from)
            .collect();
        let values: Vec<f64> = (0..names.len()).map(|i| 0.3 + 0.2 * i as f64).collect();
        let at: Vec<String> = names.iter().zip(&values).map(|(n, v)| format!("{n}={v}")).collect();
        let checked = run(&["check", formula, "--at", &at.join(",")]);
        assert_eq!(checked.status, 0, "{}", checked.stderr);
        let printed = run(&["grad", formula]).stdout;
        for (line, derivative) in checked.stdout.lines().skip(1).zip(printed.lines()) {
            let (label, text) = derivative.split_once(" = ").unwrap();
            let value = common::eval_text(text, &names, &values);
            let symbolic = line.split_whitespace().nth(2).unwrap();
            assert!(line.trim_start().starts_with(label), "{line} vs {derivative}");
            assert_eq!(symbolic, chainrule::print::format_float(value), "{formula}: {label}");
        }
        assert!(wrt.split(',').all(|w| names.iter().any(|n| n == w)));
    }
}
