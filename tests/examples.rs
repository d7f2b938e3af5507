//! The array examples of examples/arrays against their closed forms: the gradient of linear
//! least squares is A^T (A x - s), that of log-sum-exp is softmax; and `eval --data` binds
//! array elements from columns `x[2]` and `"W[1,2]"`.

mod common;

use common::chainrule;
use serde_json::Value;

/// `eval --grad --json` of an example file at `at`: the value and the gradient of `name`.
fn value_and_gradient(file: &str, at: &str, name: &str) -> (f64, Vec<f64>) {
    let (status, out, err) = chainrule(&["eval", "-f", file, "--at", at, "--grad", "--json"]);
    assert_eq!(status, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let gradient = v["gradient"][name].as_array().unwrap_or_else(|| panic!("{out}"));
    (v["value"].as_f64().unwrap(), gradient.iter().map(|g| g.as_f64().unwrap()).collect())
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * w.abs().max(1.0), "[{i}]: {g} against {w}");
    }
}

#[test]
fn least_squares_gradient_is_a_transpose_times_the_residual() {
    let file = "examples/arrays/least_squares.expr";
    let source = std::fs::read_to_string(file).unwrap();
    // the measurements as the file writes them; the times are (i - 1)/19
    let s: Vec<f64> = source
        .lines()
        .find_map(|l| l.strip_prefix("s = ["))
        .unwrap()
        .trim_end_matches(']')
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();
    assert_eq!(s.len(), 20);
    let a: Vec<Vec<f64>> =
        (0..20).map(|i| (0..6).map(|j| (i as f64 / 19.0).powi(j)).collect()).collect();
    for x in [[1.0, -1.0, 0.0, 0.0, 0.0, 0.0], [0.3, 2.0, -4.5, 1.25, 7.0, -3.0]] {
        let residual: Vec<f64> =
            (0..20).map(|i| (0..6).map(|j| a[i][j] * x[j]).sum::<f64>() - s[i]).collect();
        let want: Vec<f64> = (0..6).map(|j| (0..20).map(|i| a[i][j] * residual[i]).sum()).collect();
        let at = format!("x={x:?}");
        let (value, gradient) = value_and_gradient(file, &at, "x");
        let half_squares = 0.5 * residual.iter().map(|r| r * r).sum::<f64>();
        assert!((value - half_squares).abs() < 1e-12 * half_squares.max(1.0), "{value}");
        assert_close(&gradient, &want, 1e-12);
    }
}

#[test]
fn logsumexp_gradient_is_softmax() {
    let file = "examples/arrays/logsumexp.expr";
    for z in [
        [1.0, 2.0, 3.0, 4.0, 5.0],
        [-0.5, 0.0, 0.25, 3.0, -7.0],
        [1000.0, 999.0, 998.0, 0.0, -1000.0],
    ] {
        let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = z.iter().map(|v| (v - top).exp()).sum();
        let softmax: Vec<f64> = z.iter().map(|v| (v - top).exp() / total).collect();
        let (value, gradient) = value_and_gradient(file, &format!("z={z:?}"), "z");
        assert!((value - (top + total.ln())).abs() < 1e-13 * value.abs().max(1.0), "{value}");
        assert_close(&gradient, &softmax, 1e-13);
    }
}

#[test]
fn eval_data_binds_array_elements_from_columns() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("rows.csv");
    // "W[1, 2]" with a space is the column W[1,2]
    std::fs::write(&data, "\"W[1,1]\",\"W[1, 2]\",\"W[2,1]\",\"W[2,2]\"\n1,2,3,4\n-1,0.5,2,0\n")
        .unwrap();
    let data = data.to_str().unwrap();
    let formula = "W: [2, 2]; x: [2]; sum(W @ x)";
    let (status, out, err) = chainrule(&[
        "eval", formula, "--data", data, "--at", "x=[1,2]", "--reduce", "none", "--grad", "--json",
    ]);
    assert_eq!(status, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    // sum(W @ x) = x[1]*(W[1,1] + W[2,1]) + x[2]*(W[1,2] + W[2,2]); the default --wrt
    // leaves out W, whose elements are columns
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows[0]["value"], 1.0 + 3.0 + 2.0 * (2.0 + 4.0));
    assert_eq!(rows[0]["gradient"], serde_json::json!({"x": [4.0, 6.0]}));
    assert_eq!(rows[1]["value"], -1.0 + 2.0 + 2.0 * 0.5);
    assert_eq!(rows[1]["gradient"], serde_json::json!({"x": [1.0, 0.5]}));
    // a value for a column's variable in --at is refused; so is a column out of the shape
    let (status, _, err) =
        chainrule(&["eval", formula, "--data", data, "--at", "x=[1,2],W=[[1,2],[3,4]]"]);
    assert_eq!(status, 2);
    assert!(err.contains("`W[1,1]` is a column of the data and also has a value in --at"), "{err}");
    let (status, _, err) =
        chainrule(&["eval", "W: [2, 1]; x: [1]; sum(W @ x)", "--data", data, "--at", "x=[1]"]);
    assert_eq!(status, 2);
    assert!(
        err.contains("the data column `W[1,2]` names no element of `W` (declared [2, 1])"),
        "{err}"
    );
}
