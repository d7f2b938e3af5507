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
    json_with_stdin(args, "")
}

fn json_with_stdin(args: &[&str], stdin: &str) -> Value {
    let r = run_with_stdin(args, stdin);
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
fn wrt_lists_keep_the_comma_inside_an_element_name() {
    let formula = "W: [2, 2]; x: [2]; sum(W @ x) + c*x[1]";
    let r = run(&["diff", formula, "--wrt", "W[1, 2],c,x"]);
    assert_eq!(
        r.stdout,
        "d/dW[1,2] = x[2]\nd/dc = x[1]\nd/dx[1] = W[1,1] + W[2,1] + c\nd/dx[2] = W[1,2] + W[2,2]\n",
        "{}",
        r.stderr
    );
    let j = json(&["grad", formula, "--wrt", "W[2,1],x", "--json"]);
    assert_eq!(j["derivatives"]["W[2,1]"], "x[1]");
    assert_eq!(j["derivatives"]["x"][1], "W[1,2] + W[2,2]");
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
    // The program's own name for a shared part, then temporaries for the rest.
    assert_eq!(lines[..3], ["h = sigmoid(w*x + b)", "t1 = h - y", "t2 = 1 - h"], "{}", r.stdout);
    let expected = json(&["eval", formula, "--at", at, "--grad", "--json"]);
    let assignments: Vec<&str> = lines.iter().filter(|l| !l.starts_with("d/d")).copied().collect();
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
fn cse_json_gives_the_assignments_and_derivatives_that_use_them() {
    let formula = "h = sigmoid(w*x + b); (h - y)^2";
    let at = "w=0.5,b=-0.25,x=1.5,y=0.75";
    let v = json(&["grad", formula, "--wrt", "w,b", "--cse", "--json"]);
    assert_eq!(v["expr"], "(sigmoid(w*x + b) - y)^2");
    let assignments = v["assignments"].as_array().unwrap();
    assert_eq!(assignments[0], serde_json::json!({"name": "h", "expr": "sigmoid(w*x + b)"}));
    let program: String = assignments
        .iter()
        .map(|a| format!("{} = {}\n", a["name"].as_str().unwrap(), a["expr"].as_str().unwrap()))
        .collect();
    let expected = json(&["eval", formula, "--at", at, "--grad", "--json"]);
    for var in ["w", "b"] {
        let text = v["derivatives"][var].as_str().unwrap();
        assert!(!text.contains("sigmoid"), "{var}: {text} repeats what is assigned");
        let value =
            json_with_stdin(&["eval", "-", "--at", at, "--json"], &format!("{program}{text}"));
        let (got, want) =
            (value["value"].as_f64().unwrap(), expected["gradient"][var].as_f64().unwrap());
        assert!((got - want).abs() < 1e-12, "{var}: {got} vs {want}");
    }
}

#[test]
fn cse_latex_names_the_shared_parts_in_latex() {
    let r = run(&[
        "grad",
        "h1 = tanh(w*x + b); (h1 - y)^2",
        "--wrt",
        "w,b",
        "--cse",
        "--format",
        "latex",
    ]);
    assert_eq!(
        r.stdout,
        "h_{1} = \\tanh\\left(w x + b\\right)\n\
         t_{1} = h_{1} - y\n\
         t_{2} = 1 - h_{1}^{2}\n\
         \\frac{\\partial f}{\\partial w} = 2 x t_{1} t_{2}\n\
         \\frac{\\partial f}{\\partial b} = 2 t_{1} t_{2}\n"
    );
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

// ------------------------------------------------------------------ no silent wrong answers

#[test]
fn a_wrt_name_the_formula_does_not_use_is_an_error_in_every_command() {
    let r = run(&["diff", "x^2", "--wrt", "X"]);
    assert_eq!((r.status, r.stdout.as_str()), (2, ""));
    insta::assert_snapshot!("wrt_not_a_variable", r.stderr);
    for command in [
        vec!["grad", "x^2*theta", "--wrt", "x,thet"],
        vec!["graph", "x^2*theta", "--wrt", "thet"],
        vec!["hessian", "x^2*theta", "--wrt", "thet"],
        vec!["bench", "x^2*theta", "--wrt", "thet", "--json"],
        vec!["eval", "x^2*theta", "--at", "x=1,theta=2", "--grad", "--wrt", "thet"],
    ] {
        let r = run(&command);
        assert_eq!(r.status, 2, "{command:?}: {}", r.stdout);
        assert!(
            r.stderr.contains(
                "`thet` in --wrt is not a variable of the formula; its variables are: x, theta"
            ),
            "{command:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("did you mean `theta`?"), "{command:?}: {}", r.stderr);
    }
    let r = run(&["diff", "x^2", "--wrt", "q"]);
    assert!(!r.stderr.contains("did you mean"), "one letter is not close to another: {}", r.stderr);
    let r = run(&["diff", "3", "--wrt", "x"]);
    assert!(r.stderr.contains("the formula has no variables"), "{}", r.stderr);
}

#[test]
fn a_variable_that_cancels_has_derivative_zero() {
    assert_eq!(run(&["grad", "x*y/y", "--wrt", "y"]).stdout, "d/dy = 0\n");
    assert_eq!(run(&["diff", "x + y - y", "--wrt", "x,y"]).stdout, "d/dx = 1\nd/dy = 0\n");
}

#[test]
fn an_expression_in_the_middle_of_a_program_is_an_error_not_dropped() {
    let r = run(&["grad", "x^2; y"]);
    assert_eq!((r.status, r.stdout.as_str()), (2, ""));
    insta::assert_snapshot!("stray_expression", r.stderr);
    let r = run(&["grad", "x^2\n+ y"]);
    assert_eq!((r.status, r.stdout.as_str()), (2, ""));
    insta::assert_snapshot!("stray_expression_line_break", r.stderr);
    assert_eq!(run(&["grad", "x^2 +\ny"]).stdout, "d/dx = 2*x\nd/dy = 1\n");
    // After an assignment too: `+ y` would otherwise silently become the result.
    let r = run(&["grad", "h = x^2\n+ y"]);
    assert_eq!((r.status, r.stdout.as_str()), (2, ""));
    insta::assert_snapshot!("leading_plus_after_assignment", r.stderr);
}

/// Runs the binary in `dir`.
fn run_in(dir: &std::path::Path, args: &[&str]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: text(out.stdout),
        stderr: text(out.stderr),
    }
}

#[test]
fn a_formula_argument_is_never_silently_read_from_a_file() {
    let dir = std::env::temp_dir().join(format!("chainrule-cli-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model"), "x^3").unwrap();
    std::fs::write(dir.join("model.expr"), "x^3").unwrap();
    // Not a formula, but a file: an error that says how to read the file.
    let r = run_in(&dir, &["grad", "model.expr"]);
    assert_eq!((r.status, r.stdout.as_str()), (2, ""));
    insta::assert_snapshot!("formula_argument_names_a_file", r.stderr);
    // A formula, and also a file: the formula, with a note.
    let r = run_in(&dir, &["grad", "model"]);
    assert_eq!((r.status, r.stdout.as_str()), (0, "d/dmodel = 1\n"));
    assert_eq!(r.stderr, "note: `model` is also a file; use -f model to read it\n");
    // -f reads the file.
    assert_eq!(run_in(&dir, &["grad", "-f", "model.expr"]).stdout, "d/dx = 3*x^2\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_at_name_the_formula_does_not_use_is_an_error() {
    for command in ["eval", "check"] {
        let r = run(&[command, "x^2 + y", "--at", "x=1,y=2,z=3"]);
        assert_eq!(r.status, 2, "{command}: {}", r.stdout);
        assert!(
            r.stderr
                .contains("`z` in --at is not a variable of the formula; its variables are: x, y"),
            "{command}: {}",
            r.stderr
        );
    }
    let r = run(&["eval", "h = x^2; h", "--at", "x=1,h=2"]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("`h` in --at is defined in the program, not a variable"),
        "{}",
        r.stderr
    );
}

/// A CSV file in the temporary folder.
fn csv(name: &str, text: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("chainrule-cli-{}-{name}.csv", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_at_value_for_a_data_column_is_an_error() {
    let data = csv("column", "x,y\n1,2\n2,4\n");
    let path = data.to_str().unwrap();
    let r = run(&["eval", "(w*x - y)^2", "--data", path, "--at", "w=1,x=5"]);
    std::fs::remove_file(&data).ok();
    assert_eq!((r.status, r.stdout.as_str()), (2, ""));
    insta::assert_snapshot!("at_value_for_a_column", r.stderr);
}

#[test]
fn a_parameters_file_binds_parameters_but_not_columns() {
    let data = csv("file", "x,y\n1,2\n2,4\n");
    let params = std::env::temp_dir().join(format!("chainrule-cli-{}-p.json", std::process::id()));
    let (data_path, params_path) = (data.to_str().unwrap(), params.to_str().unwrap());
    let eval = |json: &str| {
        std::fs::write(&params, json).unwrap();
        run(&["eval", "(w*x - y)^2", "--data", data_path, "--params", params_path, "--json"])
    };
    // Exactly the parameters, as train --save writes them; a name the formula does not use
    // is no harm (its value is not used).
    assert_eq!(eval(r#"{"w": 2}"#).stdout, "{\"value\":0.0}\n");
    assert_eq!(eval(r#"{"w": 2, "b": 1}"#).status, 0);
    let r = eval(r#"{"w": 2, "x": 1}"#);
    std::fs::remove_file(&data).ok();
    std::fs::remove_file(&params).ok();
    assert_eq!(r.status, 2);
    assert!(
        r.stderr
            .contains("`x` is a column of the data and also has a value in the parameters file"),
        "{}",
        r.stderr
    );
}

#[test]
fn eval_over_data_differentiates_with_respect_to_the_parameters() {
    let data = csv("params", "x,y\n1,2\n2,4\n3,7\n");
    let path = data.to_str().unwrap();
    let v =
        json(&["eval", "(w*x + b - y)^2", "--data", path, "--at", "w=2,b=0", "--grad", "--json"]);
    let keys: Vec<&String> = v["gradient"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["w", "b"]);
    // residuals 0, 0, -1: d/dw = mean(2*r*x) = -2, d/db = mean(2*r) = -2/3
    assert_eq!(v["gradient"]["w"], -2.0);
    let v = json(&[
        "eval",
        "(w*x + b - y)^2",
        "--data",
        path,
        "--at",
        "w=2,b=0",
        "--hessian",
        "--wrt",
        "b",
        "--json",
    ]);
    std::fs::remove_file(&data).ok();
    assert_eq!(v["hessian"], serde_json::json!({"b": {"b": 2.0}}));
}
