//! Bad input: every bad case of the corpus through the command line (exit status, message
//! snapshot, no panic), and hostile input through the library (never a panic or a stack
//! overflow).

mod common;

use chainrule::{diff, simplify, Error, ErrorKind, Formula};
use proptest::prelude::*;

fn expand(case: &serde_json::Value) -> Option<String> {
    if let Some(e) = case["expr"].as_str() {
        return Some(e.to_string());
    }
    let parts = case["expr_parts"].as_array()?;
    Some(
        parts
            .iter()
            .map(|p| p[0].as_str().unwrap().repeat(p[1].as_u64().unwrap() as usize))
            .collect(),
    )
}

/// Runs a corpus "bad" case as diffcheck does; returns (status, stdout, stderr).
fn run_case(case: &serde_json::Value, dir: &std::path::Path) -> (i32, String, String) {
    let expr = expand(case);
    let mut stdin = None;
    let mut args: Vec<String> = Vec::new();
    for a in case["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()) {
        match a {
            "{EXPR}" => match case["input"].as_str().unwrap_or("arg") {
                "file" => {
                    let path = dir.join(format!("{}.cr", case["id"].as_str().unwrap()));
                    std::fs::write(&path, expr.as_ref().unwrap()).unwrap();
                    args.extend(["-f".to_string(), path.display().to_string()]);
                }
                "stdin" => {
                    stdin = expr.clone();
                    args.push("-".into());
                }
                _ => args.push(expr.clone().unwrap()),
            },
            "{MISSING}" => args.push("tests/cases/no-such-dir/formula.cr".into()),
            other => args.push(other.into()),
        }
    }
    common::chainrule_with_stdin(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &stdin.unwrap_or_default(),
    )
}

#[test]
fn corpus_bad_inputs_get_their_status_and_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("chainrule-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for case in common::cases("bad") {
        let id = case["id"].as_str().unwrap();
        let (status, stdout, stderr) = run_case(&case, &dir);
        let allowed: Vec<i64> =
            case["expect_status"].as_array().unwrap().iter().map(|s| s.as_i64().unwrap()).collect();
        assert!(
            allowed.contains(&(status as i64)),
            "{id}: status {status}, want {allowed:?}; stderr: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{id} panicked: {stderr}");
        if status != 0 {
            assert!(!stderr.trim().is_empty(), "{id}: no message");
            if case["caret"] == true && status == 2 {
                assert!(
                    stderr
                        .lines()
                        .any(|l| l.trim_start().starts_with("| ") && l.trim_end().ends_with('^')
                            || l.contains("| ") && l.contains('^')),
                    "{id}: no caret in {stderr}"
                );
            }
            if let Some(text) = case["stderr_contains"].as_str() {
                assert!(stderr.contains(text), "{id}: {stderr} lacks {text}");
            }
            let shown = if stderr.len() > 2000 {
                format!("{}...", &stderr[..2000])
            } else {
                stderr.clone()
            };
            insta::assert_snapshot!(format!("bad_{id}"), shown);
        } else if let Some(point) = case["points"].as_array().and_then(|p| p.first()) {
            let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert!(
                common::close(
                    value["value"].as_f64().unwrap(),
                    point["value"].as_f64().unwrap(),
                    1e-8
                ),
                "{id}: {stdout}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_hundred_thousand_open_parentheses_are_refused_with_a_caret() {
    let src = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
    let error = Formula::parse(&src).unwrap_err();
    assert_eq!(error.kind, ErrorKind::TooDeep { limit: 10_000 });
    assert!(error.render(&src).contains("column 10001"));
}

#[test]
fn deep_but_allowed_nesting_parses_on_a_small_stack() {
    // Test threads have small stacks; the parser grows its own.
    let src = format!("{}y*2{}", "(".repeat(9_000), ")".repeat(9_000));
    let handle = std::thread::Builder::new().stack_size(256 * 1024).spawn(move || {
        let mut f = Formula::parse(&src).unwrap();
        f.derivative("y", 1).map(|d| f.text(d))
    });
    assert_eq!(handle.unwrap().join().unwrap().unwrap(), "2");
}

#[test]
fn chains_of_powers_and_signs_count_as_nesting() {
    for src in ["2^".repeat(20_000) + "x", "-".repeat(20_000) + "x", "sin(".repeat(20_000) + "x"] {
        assert!(matches!(Formula::parse(&src).unwrap_err().kind, ErrorKind::TooDeep { .. }));
    }
}

#[test]
fn empty_and_comment_only_formulas_are_refused() {
    for src in ["", "  \n\t", "# only a comment", ";;"] {
        assert_eq!(Formula::parse(src).unwrap_err().kind, ErrorKind::Empty, "{src:?}");
    }
}

#[test]
fn too_large_numbers_are_refused() {
    let error = Formula::parse("1e400*x").unwrap_err();
    assert!(matches!(error.kind, ErrorKind::Syntax(_)));
    assert_eq!(error.span.unwrap().start, 0);
}

/// The whole pipeline on any text: an error or a result, never a panic.
fn pipeline(src: &str) -> Result<String, Error> {
    let mut f = Formula::parse(src)?;
    let vars = f.var_nodes();
    let root = f.root();
    let g = diff::grad(f.graph_mut(), root, &vars)?;
    let s = simplify::simplify(f.graph_mut(), &g)?;
    Ok(s.iter().map(|&d| f.text(d) + &f.latex(d)).collect())
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,60}") {
        let _ = pipeline(&src);
    }

    #[test]
    fn formula_like_text_never_panics(src in "[-+*/^(),;= \n\\[\\]xye0-9.a-z#]{0,60}") {
        let _ = pipeline(&src);
    }

    #[test]
    fn array_like_text_never_panics(
        tokens in prop::collection::vec(prop::sample::select(ARRAY_TOKENS.to_vec()), 0..24)
    ) {
        let src = tokens.concat();
        let options = chainrule::ParseOptions { max_elements: 100_000, ..Default::default() };
        if let Ok(mut f) = Formula::parse_with(&src, options) {
            let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
            f.graph_mut().set_node_limit(200_000);
            if f.outputs().len() <= 32 {
                let _ = f.jacobian(&names);
                let _ = f.result_text();
            }
            if let Ok(gradient) = f.gradient(&names) {
                for d in gradient {
                    let _ = (f.text(d), f.latex(d));
                }
            }
        }
    }
}

/// Pieces of array programs (SPEC "Arrays"), good and bad, for random concatenation.
const ARRAY_TOKENS: [&str; 48] = [
    "x: [3]; ",
    "W: [2, 3]; ",
    "A: [2, 2]; ",
    "n = 3; ",
    "f(a, b) = ",
    "g(v) = ",
    "; ",
    "\n",
    "x",
    "W",
    "A",
    "y",
    "i",
    "j",
    "n",
    "f(",
    "g(",
    "sum(",
    "prod(",
    "max(",
    "softmax(",
    "transpose(",
    "len(",
    "rows(",
    "dot(",
    "outer(",
    "i = 1..n, ",
    "j = i..3, ",
    "[",
    "]",
    "(",
    ")",
    ", ",
    ":",
    "..",
    " for i = 1..3",
    " @ ",
    " + ",
    "*",
    "^",
    "-",
    "1",
    "2",
    "0",
    "0.5",
    "1000000",
    "x[i]",
    "W[i, :]",
];

#[test]
fn an_expression_in_the_middle_of_a_program_is_refused_by_the_library() {
    for (src, stray) in
        [("x^2; y", "x^2"), ("a = 1\nx^2 # note\n+ y", "x^2"), ("sin(x); h = 2; h", "sin(x)")]
    {
        let error = Formula::parse(src).unwrap_err();
        assert_eq!(error.kind, ErrorKind::StrayExpression, "{src:?}");
        let span = error.span.unwrap();
        assert_eq!(&src[span.start..span.end], stray, "{src:?}");
    }
    for src in ["h = x^2; h + y", "h = x^2\nh +\ny", "x^2\n", "a = 1; b = 2"] {
        assert!(Formula::parse(src).is_ok(), "{src:?}");
    }
}
