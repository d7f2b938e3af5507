//! `chainrule verify` end to end: text snapshots (each read before acceptance), JSON shape
//! and exit statuses.

mod common;

use common::chainrule;

fn run(args: &[&str]) -> (i32, String) {
    let (status, out, err) = chainrule(args);
    (status, format!("{out}{err}"))
}

#[test]
fn a_right_claim_holds_symbolically() {
    let (status, text) =
        run(&["verify", "x^2*sin(x)", "--wrt", "x", "--claim", "x*(2*sin(x) + x*cos(x))"]);
    assert_eq!(status, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn a_right_claim_in_another_form_holds_numerically() {
    let (status, text) = run(&["verify", "sin(x)^2", "--wrt", "x", "--claim", "sin(2*x)"]);
    assert_eq!(status, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn a_flipped_sign_fails_with_the_term() {
    let (status, text) =
        run(&["verify", "x^2*sin(x)", "--wrt", "x", "--claim", "2*x*sin(x) - x^2*cos(x)"]);
    assert_eq!(status, 1);
    insta::assert_snapshot!(text);
}

#[test]
fn a_near_miss_fails_with_a_caret() {
    let claim = "2*x*sin(x) + x^2*cos(x) + 1e-15*x";
    let (status, text) = run(&["verify", "x^2*sin(x)", "--wrt", "x", "--claim", claim]);
    assert_eq!(status, 1);
    insta::assert_snapshot!(text);
}

#[test]
fn the_xor_tutorial_bug_is_caught_and_the_fix_holds() {
    let model = "examples/xor/model-scalar.expr";
    let (status, text) =
        run(&["verify", "-f", model, "--claim-file", "examples/xor/backprop-wrong.claims"]);
    assert_eq!(status, 1);
    insta::assert_snapshot!(text);
    let (status, _) = run(&["verify", "-f", model, "--claim-file", "examples/xor/backprop.claims"]);
    assert_eq!(status, 0);
}

#[test]
fn a_grad_cse_program_verifies_against_itself() {
    let model = "examples/xor/model-scalar.expr";
    let (status, program, _) = chainrule(&["grad", "-f", model, "--cse"]);
    assert_eq!(status, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grad.claims");
    std::fs::write(&path, program).unwrap();
    let (status, text) = run(&["verify", "-f", model, "--claim-file", path.to_str().unwrap()]);
    assert_eq!(status, 0, "{text}");
    let claims = text.matches("\nd/d").count() + 1;
    assert_eq!(text.matches("holds: symbolic").count(), claims, "{text}");
}

#[test]
fn json_has_the_spec_shape() {
    let (status, out, _) =
        chainrule(&["verify", "x*y", "--wrt", "x", "--claim", "x", "--json", "--points", "20"]);
    assert_eq!(status, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let claim = &v["claims"][0];
    assert_eq!(claim["wrt"], "x");
    assert_eq!(claim["holds"], false);
    assert_eq!(claim["method"], "numeric");
    let ce = &claim["counterexample"];
    assert!(ce["at"]["x"].is_number() && ce["at"]["y"].is_number(), "{v}");
    assert_eq!(ce["claimed"], ce["at"]["x"]);
    assert_eq!(ce["actual"], ce["at"]["y"]);
}

#[test]
fn bad_claims_are_usage_errors_with_a_caret() {
    let (status, text) = run(&["verify", "x^2", "--wrt", "x", "--claim", "2*z"]);
    assert_eq!(status, 2);
    insta::assert_snapshot!(text);
    let (status, text) = run(&["verify", "x^2", "--wrt", "x", "--claim", "2x"]);
    assert_eq!(status, 2, "{text}");
    let (status, _) = run(&["verify", "x^2", "--claim", "2*x"]);
    assert_eq!(status, 2);
    let (status, _) = run(&["verify", "x^2", "--wrt", "q", "--claim", "2*x"]);
    assert_eq!(status, 2);
    let (status, _) = run(&["verify", "x^2"]);
    assert_eq!(status, 2);
    let path = "tests/cases/verify/unknown-variable.claims";
    let (status, text) = run(&["verify", "x^2", "--claim-file", path]);
    assert_eq!(status, 2);
    insta::assert_snapshot!(text);
    let (status, _) = run(&["verify", "x^2", "--claim-file", "/no/such/file"]);
    assert_eq!(status, 1);
}
