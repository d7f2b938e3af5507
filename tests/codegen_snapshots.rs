//! Generated source, snapshotted (each one read before it was accepted: it must read like
//! code an expert would write), and the bad requests of code generation: an unknown
//! language, a function a language lacks (erf in DuckDB), a keyword as a name.

mod common;

use chainrule::codegen::{generate, Dialect, Lang, Options, Reduce};
use chainrule::Formula;

const NEURON: &str = "h = sigmoid(w*x + b)\n(h - y)^2";
const XOR: &str = include_str!("../examples/xor/model-scalar.expr");
const LAYER: &str = "W: [2, 2]; b: [2]; x: [2]\nh = tanh(W @ x + b)\nsum(h^2)";

fn code(src: &str, options: Options) -> String {
    let mut f = Formula::parse(src).unwrap();
    generate(&mut f, &options).unwrap()
}

#[test]
fn snapshots_of_generated_source() {
    let sql = |dialect, reduce| {
        let mut o = Options::new(Lang::Sql);
        o.dialect = dialect;
        o.reduce = reduce;
        o
    };
    let xor_params = [
        "w1_1", "w1_2", "b1", "w2_1", "w2_2", "b2", "w3_1", "w3_2", "b3", "w4_1", "w4_2", "b4",
        "v1", "v2", "v3", "v4", "c",
    ];
    let cases: Vec<(&str, &str, Options)> = vec![
        ("neuron_rust", NEURON, Options::new(Lang::Rust).name("loss").wrt(&["w", "b"])),
        ("neuron_c", NEURON, Options::new(Lang::C).name("loss").wrt(&["w", "b"])),
        ("neuron_python", NEURON, Options::new(Lang::Python).name("loss").wrt(&["w", "b"])),
        (
            "neuron_sql_mean",
            NEURON,
            sql(Dialect::DuckDb, Reduce::Mean).wrt(&["w", "b"]).at("w", 0.5).at("b", -0.25),
        ),
        ("xor_rust", XOR, Options::new(Lang::Rust).name("xor_loss").wrt(&xor_params)),
        ("cubic_sin_c_hessian", "x^3*sin(x)*y", Options::new(Lang::C).hessian()),
        (
            "rosenbrock_rust_hessian",
            "(1 - x)^2 + 100*(y - x^2)^2",
            Options::new(Lang::Rust).name("rosenbrock").hessian(),
        ),
        (
            "softmax_python",
            "softmax_cross_entropy([a*x, b*x, c], [1, 0, 0])",
            Options::new(Lang::Python).wrt(&["a", "b", "c"]),
        ),
        ("keywords_rust", "fn*int + lambda^2 + input", Options::new(Lang::Rust)),
        ("keywords_python", "fn*int + lambda^2 + input", Options::new(Lang::Python)),
        ("keywords_c", "fn*int + lambda^2 + double", Options::new(Lang::C)),
        (
            "softplus_postgres",
            "softplus(a*x) - log1p(x^2)",
            sql(Dialect::Postgres, Reduce::None).wrt(&["a"]),
        ),
        ("select_spark_sum", "select*from + Value", sql(Dialect::Spark, Reduce::Sum)),
        ("gelu_rust", "gelu(w*x)", Options::new(Lang::Rust).name("gelu_loss").wrt(&["w"])),
        (
            "kinks_c",
            "max(x, y) + min(x, 0)*atan2(y, x) + hypot(x, y) + clamp(x, -1, 1)",
            Options::new(Lang::C),
        ),
    ];
    for (name, src, options) in cases {
        insta::assert_snapshot!(name, code(src, options));
    }
}

/// Array variables: one identifier per element (`W_1_2`), or in SQL the column `"W[1,2]"`
/// and the derivative `d_W_1_2`; `--wrt W` is every element of `W`, row by row.
#[test]
fn snapshots_of_generated_source_with_arrays() {
    let wrt = |lang| Options::new(lang).name("layer").wrt(&["W", "b"]);
    let mut sql = Options::new(Lang::Sql).wrt(&["W"]).at("x[1]", 0.5).at("x[2]", -1.0);
    sql.reduce = Reduce::Mean;
    let cases: Vec<(&str, Options)> = vec![
        ("layer_rust", wrt(Lang::Rust)),
        ("layer_c", wrt(Lang::C)),
        ("layer_python", wrt(Lang::Python)),
        ("layer_sql_mean", sql),
    ];
    for (name, options) in cases {
        insta::assert_snapshot!(name, code(LAYER, options));
    }
}

#[test]
fn an_array_result_is_refused_with_the_way_out() {
    let (status, _, stderr) =
        common::chainrule(&["codegen", "x: [2]; out = softmax(x)", "--lang", "rust"]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("this formula's result is a vector of 2"), "{stderr}");
    assert!(stderr.contains("out[1]"), "{stderr}");
    let (status, out, _) =
        common::chainrule(&["codegen", "x: [2]; out = softmax(x); out[1]", "--lang", "rust"]);
    assert_eq!(status, 0);
    assert!(out.contains("let x_1 = input[0];"), "{out}");
}

#[test]
fn wrt_and_at_take_arrays_on_the_command_line() {
    let src = "W: [2, 2]; x: [2]; sum(tanh(W @ x))";
    let args = ["codegen", src, "--lang", "c", "--wrt", "W", "--at", "x=[1,2]"];
    let (status, out, stderr) = common::chainrule(&args);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        out.contains("//     chainrule codegen --lang c --wrt W --at x[1]=1.0,x[2]=2.0"),
        "{out}"
    );
    assert!(out.contains("// grad:  [d/dW[1,1], ..., d/dW[2,2]]"), "{out}");
    assert!(out.contains("const double W_2_1 = input[2];"), "{out}");
    let (status, _, stderr) =
        common::chainrule(&["codegen", src, "--lang", "c", "--at", "x=[1,2,3]"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("`x` is declared [2] but given a vector of 3"), "{stderr}");
}

#[test]
fn unknown_language_is_a_usage_error() {
    let (status, _, stderr) = common::chainrule(&["codegen", "x^2", "--lang", "fortran"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("fortran"), "{stderr}");
}

#[test]
fn a_function_the_language_lacks_is_refused_with_the_way_out() {
    let (status, _, stderr) = common::chainrule(&["codegen", "gelu(x)", "--lang", "sql"]);
    assert_eq!(status, 1);
    assert!(stderr.contains("no duckdb SQL form"), "{stderr}");
    let (status, out, _) =
        common::chainrule(&["codegen", "gelu(x)", "--lang", "sql", "--dialect", "postgres"]);
    assert_eq!(status, 0);
    assert!(out.contains("ERFC("), "{out}");
}

#[test]
fn a_keyword_function_name_is_refused_and_keyword_variables_are_renamed() {
    let (status, _, stderr) =
        common::chainrule(&["codegen", "x^2", "--lang", "python", "--name", "lambda"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("`lambda` cannot name a function in python"), "{stderr}");
    let (status, out, _) = common::chainrule(&["codegen", "lambda*x", "--lang", "python"]);
    assert_eq!(status, 0);
    assert!(out.contains("def f(lambda_, x):") && out.contains("lambda is lambda_"), "{out}");
}

#[test]
fn wrt_and_at_name_variables_of_the_formula() {
    let (status, _, stderr) = common::chainrule(&["codegen", "x*y", "--lang", "c", "--wrt", "z"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("`z` in --wrt is not a variable"), "{stderr}");
    let (status, _, stderr) = common::chainrule(&["codegen", "x*y", "--lang", "c", "--at", "q=1"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("`q` in --at"), "{stderr}");
}

#[test]
fn output_goes_to_the_file_of_dash_o() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.rs");
    let (status, out, _) =
        common::chainrule(&["codegen", "x^2", "--lang", "rust", "-o", path.to_str().unwrap()]);
    assert_eq!((status, out.as_str()), (0, ""));
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("// Generated by chainrule"));
}
