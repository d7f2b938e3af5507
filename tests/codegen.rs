//! Generated code, run for real: every formula of the public corpus as Rust (rustc, and
//! clippy when installed), C (cc), Python (NumPy) and SQL (DuckDB through its Python
//! package), against the interpreter at every corpus point, value, gradient and Hessian,
//! to 1e-12 relative. One compilation (or one Python process) per language covers the
//! whole corpus. A language whose toolchain is missing here is skipped with a note;
//! `.ci/run` installs them all.

mod common;

use chainrule::codegen::{generate, Lang, Options};
use chainrule::{Formula, Request, Simplify};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// One corpus formula at its points, with the interpreter's outputs.
struct Case {
    id: String,
    expr: String,
    vars: Vec<String>,
    hessian: bool,
    /// Per point: the variables' values, and the value, gradient, Hessian.
    points: Vec<(Vec<f64>, Vec<f64>)>,
}

const TOLERANCE: f64 = 1e-12;

fn cases() -> Vec<Case> {
    common::cases("eval").iter().map(case).collect()
}

fn case(c: &Value) -> Case {
    let expr = c["expr"].as_str().unwrap().to_string();
    let hessian = c["points"][0].get("hessian").is_some();
    let at: Vec<&serde_json::Map<String, Value>> =
        c["points"].as_array().unwrap().iter().map(|p| p["at"].as_object().unwrap()).collect();
    let id = c["id"].as_str().unwrap();
    case_at(id, &expr, hessian, |vars| {
        at.iter().map(|p| vars.iter().map(|v| p[v].as_f64().unwrap()).collect()).collect()
    })
}

/// `expr` at the points that `points(vars)` gives, with the interpreter's outputs.
fn case_at(
    id: &str,
    expr: &str,
    hessian: bool,
    points: impl FnOnce(&[String]) -> Vec<Vec<f64>>,
) -> Case {
    let expr = expr.to_string();
    let mut f = Formula::parse(&expr).unwrap();
    let vars: Vec<String> = f.var_names().into_iter().map(str::to_string).collect();
    let mut request = Request::new(f.var_ids().to_vec()).simplify(Simplify::Together);
    if hessian {
        request = request.with_hessian();
    }
    let derived = f.derive(&request).unwrap();
    let tape = f.compile(&derived.roots()).unwrap();
    let points = points(&vars)
        .into_iter()
        .map(|values| {
            let outputs = tape.run(&values, &mut Vec::new());
            (values, outputs)
        })
        .collect();
    Case { id: id.to_string(), expr, vars, hessian, points }
}

fn code(case: &Case, lang: Lang) -> String {
    let mut options = Options::new(lang).name(&format!("f_{}", case.id));
    options.hessian = case.hessian;
    let mut f = Formula::parse(&case.expr).unwrap();
    generate(&mut f, &options).unwrap_or_else(|e| panic!("{}: {e}", case.id))
}

/// Whether `program --version` (or `args`) runs.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).chars().take(6000).collect::<String>()
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Compares lines `id k v1 v2 ...` with the interpreter's outputs (to [`TOLERANCE`]).
fn compare(cases: &[Case], output: &str, lang: &str) {
    compare_with(cases, output, lang, |g, w| common::close(g, w, TOLERANCE));
}

/// Compares lines `id k v1 v2 ...` with the interpreter's outputs: `agree(got, want)`.
fn compare_with(cases: &[Case], output: &str, lang: &str, agree: impl Fn(f64, f64) -> bool) {
    let mut got: HashMap<(String, usize), Vec<f64>> = HashMap::new();
    for line in output.lines() {
        let mut words = line.split_whitespace();
        let id = words.next().unwrap().to_string();
        let k: usize = words.next().unwrap().parse().unwrap();
        let values = words.map(|w| w.parse::<f64>().unwrap()).collect();
        got.insert((id, k), values);
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases {
        for (k, (_, want)) in case.points.iter().enumerate() {
            let Some(values) = got.get(&(case.id.clone(), k)) else {
                failures.push(format!("{} point {k}: no output", case.id));
                continue;
            };
            assert_eq!(values.len(), want.len(), "{}: output count", case.id);
            for (i, (&g, &w)) in values.iter().zip(want).enumerate() {
                checked += 1;
                let same = (g.is_nan() && w.is_nan()) || g == w || agree(g, w);
                if !same {
                    failures.push(format!("{} point {k} output {i}: {g:?}, want {w:?}", case.id));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{lang}: {} of {checked} outputs differ from the interpreter:\n{}",
        failures.len(),
        failures.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
    eprintln!("{lang}: {checked} outputs agree with the interpreter");
}

fn outputs(case: &Case) -> (usize, usize) {
    let n = case.vars.len();
    (n, if case.hessian { n * n } else { 0 })
}

#[test]
fn rust_of_every_corpus_formula_compiles_without_warnings_and_agrees() {
    let cases = cases();
    compare(&cases, &rust_outputs(&cases), "rust");
}

/// The outputs of the generated Rust of `cases` at their points, after checking with clippy
/// when it is installed.
fn rust_outputs(cases: &[Case]) -> String {
    let mut src = String::new();
    let mut main = String::from(
        "#[allow(unused_mut)]\nfn main() {\n    let mut grad = vec![0.0; 64];\n    let mut hess = vec![0.0; 4096];\n",
    );
    for case in cases {
        src.push_str(&code(case, Lang::Rust));
        src.push('\n');
        let (n, h) = outputs(case);
        for (k, (values, _)) in case.points.iter().enumerate() {
            let input: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            let hess_arg = if case.hessian { format!(", &mut hess[..{h}]") } else { String::new() };
            writeln!(
                main,
                "    let v = f_{}(&[{}], &mut grad[..{n}]{hess_arg});\n    \
                 report(\"{}\", {k}, v, &grad[..{n}], &hess[..{h}]);",
                case.id,
                input.join(", "),
                case.id
            )
            .unwrap();
        }
    }
    main.push_str("}\n\nfn report(id: &str, k: usize, v: f64, grad: &[f64], hess: &[f64]) {\n    let all: Vec<String> = std::iter::once(v).chain(grad.iter().copied()).chain(hess.iter().copied()).map(|x| format!(\"{x:?}\")).collect();\n    println!(\"{id} {k} {}\", all.join(\" \"));\n}\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.rs"), format!("{src}\n{main}")).unwrap();
    let args = ["--edition", "2021", "-D", "warnings", "-C", "opt-level=1", "main.rs"];
    run(dir.path(), "rustc", &args);
    let output = run(dir.path(), "./main", &[]);
    if runs("clippy-driver", &["--version"]) {
        let args =
            ["--edition", "2021", "-D", "warnings", "-D", "clippy::all", "main.rs", "-o", "lint"];
        run(dir.path(), "clippy-driver", &args);
        eprintln!("rust: clippy-clean");
    } else {
        eprintln!("note: clippy-driver is not installed; generated Rust was not linted");
    }
    output
}

#[test]
fn c_of_every_corpus_formula_compiles_without_warnings_and_agrees() {
    if !runs("cc", &["--version"]) {
        eprintln!("note: no C compiler (cc); the C test is skipped");
        return;
    }
    let cases = cases();
    compare(&cases, &c_outputs(&cases), "c");
}

/// The outputs of the generated C of `cases` at their points.
fn c_outputs(cases: &[Case]) -> String {
    let mut src = String::from("#include <stdio.h>\n");
    let mut main = String::from(
        "static void report(const char *id, int k, double v, const double *grad, int n, const double *hess, int h) {\n    printf(\"%s %d %.17g\", id, k, v);\n    for (int i = 0; i < n; i++) printf(\" %.17g\", grad[i]);\n    for (int i = 0; i < h; i++) printf(\" %.17g\", hess[i]);\n    printf(\"\\n\");\n}\n\nint main(void) {\n    double grad[64] = {0}, hess[4096] = {0};\n",
    );
    for case in cases {
        src.push_str(&code(case, Lang::C));
        src.push('\n');
        let (n, h) = outputs(case);
        for (k, (values, _)) in case.points.iter().enumerate() {
            let input: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            let input = if input.is_empty() { "0.0".to_string() } else { input.join(", ") };
            let hess_arg = if case.hessian { ", hess" } else { "" };
            writeln!(
                main,
                "    {{ const double in[] = {{{input}}}; double v = f_{}(in, grad{hess_arg}); report(\"{}\", {k}, v, grad, {n}, hess, {h}); }}",
                case.id, case.id
            )
            .unwrap();
        }
    }
    main.push_str("    return 0;\n}\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.c"), format!("{src}\n{main}")).unwrap();
    let args = [
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-pedantic",
        "-Werror",
        "-O1",
        "main.c",
        "-o",
        "main",
        "-lm",
    ];
    run(dir.path(), "cc", &args);
    run(dir.path(), "./main", &[])
}

/// Whether python3 can import `modules`.
fn python_with(modules: &str) -> bool {
    runs("python3", &["-c", &format!("import {modules}")])
}

#[test]
fn python_of_every_corpus_formula_agrees_over_all_points_in_one_call() {
    if !python_with("numpy") {
        eprintln!("note: python3 with numpy is not installed; the Python test is skipped");
        return;
    }
    let cases = cases();
    compare(&cases, &python_outputs(&cases), "python");
}

/// The outputs of the generated Python of `cases`, all points of a case in one call.
fn python_outputs(cases: &[Case]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut driver = String::from("import numpy as np\n\ndef report(id, value, grad, hess):\n    for k in range(len(value)):\n        row = [value[k]] + [g[k] for g in grad] + [h[k] for line in hess for h in line]\n        print(id, k, ' '.join(repr(float(x)) for x in row))\n\n");
    for case in cases {
        std::fs::write(dir.path().join(format!("gen_{}.py", case.id)), code(case, Lang::Python))
            .unwrap();
        let columns: Vec<String> = (0..case.vars.len())
            .map(|i| {
                let column: Vec<String> =
                    case.points.iter().map(|(values, _)| format!("{:?}", values[i])).collect();
                format!("np.array([{}])", column.join(", "))
            })
            .collect();
        let rows = case.points.len();
        let call = if columns.is_empty() {
            // No variables: one value, repeated for the rows.
            format!("[np.repeat(np.asarray(x), {rows}) for x in (lambda r: [r[0]] + list(r[1:]))(m.f_{}())]", case.id)
        } else {
            format!("m.f_{}({})", case.id, columns.join(", "))
        };
        writeln!(
            driver,
            "import gen_{id} as m\nr = {call}\nreport('{id}', r[0], r[1], r[2] if len(r) > 2 else [])",
            id = case.id
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("driver.py"), driver).unwrap();
    run(dir.path(), "python3", &["-W", "error", "driver.py"])
}

#[test]
fn sql_of_every_corpus_formula_agrees_in_duckdb() {
    if !python_with("duckdb") {
        eprintln!("note: python3 with duckdb is not installed; the SQL test is skipped");
        return;
    }
    let cases = cases();
    compare(&cases, &sql_outputs(&cases), "sql");
}

/// The outputs of the generated SQL of `cases` in DuckDB, a table of a case's points each.
fn sql_outputs(cases: &[Case]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut driver = String::from("import duckdb\n\ndef check(id, columns, rows, query):\n    con = duckdb.connect()\n    names = ', '.join('\"%s\" DOUBLE' % c for c in columns) or 'dummy DOUBLE'\n    con.execute('CREATE TABLE data (%s)' % names)\n    con.executemany('INSERT INTO data VALUES (%s)' % ', '.join('?' for _ in rows[0]), rows)\n    for k, row in enumerate(con.execute(query).fetchall()):\n        print(id, k, ' '.join(repr(float(x)) for x in row))\n\n");
    for case in cases {
        let query = code(case, Lang::Sql);
        let rows: Vec<String> = case
            .points
            .iter()
            .map(|(values, _)| {
                let row: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
                if row.is_empty() {
                    "[0.0]".to_string()
                } else {
                    format!("[{}]", row.join(", "))
                }
            })
            .collect();
        let columns: Vec<String> = case.vars.iter().map(|v| format!("'{v}'")).collect();
        writeln!(
            driver,
            "check('{}', [{}], [{}], {:?})",
            case.id,
            columns.join(", "),
            rows.join(", "),
            query
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("driver.py"), driver).unwrap();
    run(dir.path(), "python3", &["driver.py"])
}

/// erf, erfc and gelu across their range and in their tails: the generated Rust carries the
/// evaluator's erf and erfc (the libm crate's, ported), so it agrees to 2 ulp (to the bit
/// but for the derivatives' `exp`: std's there, the evaluator's own fast one here, 1 ulp
/// apart), or to ε/2 absolute where gelu's derivative `Φ(x) + xφ(x)`, terms below 1,
/// cancels (next to x = -0.75); C (math.h)
/// and NumPy (`math.erfc`, and the gelu's rounding correction by Dekker's product) to
/// 4e-15 relative, with no absolute floor in the tails, so they count (`gelu(-30)` is
/// 1e-197; without the correction, NumPy's would be 3e-14 off there): the ε/2 absolute for
/// the cancellation in gelu's derivative applies only above 1e-3.
#[test]
fn erf_erfc_and_gelu_agree_in_their_tails_rust_to_2_ulp() {
    let mut xs: Vec<f64> =
        (0..400).map(|k| -38.0 + 0.19 * k as f64 + 0.003 * (k % 7) as f64).collect();
    xs.extend([-30.0, -27.5, -26.0, -6.0, -1e-20, -0.0, 0.0, 1e-300, 0.25, 0.84375, 1.25]);
    xs.extend([1.0 / 0.35, 6.0, 26.0, 27.9, 28.0, 30.0]);
    let points = |_: &[String]| xs.iter().map(|&x| vec![x]).collect();
    let cases: Vec<Case> = [("erf", "erf(x)"), ("erfc", "erfc(x)"), ("gelu", "gelu(x)")]
        .into_iter()
        .map(|(id, expr)| case_at(id, expr, false, points))
        .collect();
    let ulps = |x: f64| x.to_bits() as i64;
    let to_2_ulp = |g: f64, w: f64| {
        let near = g.signum() == w.signum() && (ulps(g) - ulps(w)).abs() <= 2;
        near || (g - w).abs() <= f64::EPSILON / 2.0 && w.abs() > 1e-3
    };
    compare_with(&cases, &rust_outputs(&cases), "rust", to_2_ulp);
    let relative = |g: f64, w: f64| {
        (g - w).abs() <= 4e-15 * w.abs() || (g - w).abs() <= f64::EPSILON / 2.0 && w.abs() > 1e-3
    };
    if runs("cc", &["--version"]) {
        compare_with(&cases, &c_outputs(&cases), "c", relative);
    }
    if python_with("numpy") {
        compare_with(&cases, &python_outputs(&cases), "python", relative);
    }
}

/// Array formulas: every element of `W: [3, 2]` is an input of its own (`W_1_2` in Rust, C
/// and Python, the column `"W[1,2]"` in SQL), flattened row by row; the generated code
/// compiles, runs and agrees with the interpreter in every language, Hessian included.
#[test]
fn array_formulas_compile_and_agree_in_every_language() {
    let sources = [
        ("net", "W: [3, 2]; b: [3]; v: [3]; x: [2]\nh = tanh(W @ x + b)\nout = sigmoid(dot(v, h) + c)\nbce(out, y)", false),
        ("quadratic", "A: [2, 2]; x: [2]; x @ A @ x + logsumexp(x)", true),
        ("scalar_named_like_an_element", "x: [2]; x[1]*x_1 + x[2]^2*x_2", false),
    ];
    let cases: Vec<Case> = sources
        .iter()
        .map(|&(id, expr, hessian)| {
            case_at(id, expr, hessian, |vars| {
                (0..3)
                    .map(|k| {
                        (0..vars.len())
                            .map(|i| 0.1 + 0.37 * ((i * 7 + k * 3) % 11) as f64 / 11.0)
                            .collect()
                    })
                    .collect()
            })
        })
        .collect();
    assert!(cases[0].vars.contains(&"W[3,2]".to_string()), "{:?}", cases[0].vars);
    compare(&cases, &rust_outputs(&cases), "rust");
    if runs("cc", &["--version"]) {
        compare(&cases, &c_outputs(&cases), "c");
    }
    if python_with("numpy") {
        compare(&cases, &python_outputs(&cases), "python");
    }
    if python_with("duckdb") {
        compare(&cases, &sql_outputs(&cases), "sql");
    }
}
