//! Exact constants: whole numbers and ratios stay exact rationals through differentiation
//! and simplification, `pi`, `e`, `ln(2)`, `sqrt(2*pi)` stay symbolic, decimals the user
//! wrote stay decimals, and every printed form parses back to the same node.

mod common;

use chainrule::Formula;
use common::close;

/// The simplified derivative of `formula` with respect to `wrt`, as text.
fn derivative(formula: &str, wrt: &str, order: usize) -> String {
    let mut f = Formula::parse(formula).unwrap();
    let d = f.derivative(wrt, order).unwrap();
    f.text(d)
}

/// Each `(formula, wrt, order, printed derivative)` prints as given.
fn assert_derivatives(cases: &[(&str, &str, usize, &str)]) {
    for &(formula, wrt, order, want) in cases {
        assert_eq!(derivative(formula, wrt, order), want, "d/d{wrt} {formula}");
    }
}

#[test]
fn derivatives_print_exact_constants() {
    let cases = [
        ("2^x", "x", 1, "ln(2)*2^x"),
        ("x^(1/3)", "x", 1, "1/(3*x^(2/3))"),
        ("sqrt(x)", "x", 1, "1/(2*sqrt(x))"),
        ("x*y/3", "x", 1, "y/3"),
        ("x^2*y/(3*z)", "z", 1, "-x^2*y/(3*z^2)"),
        ("pi*x^2", "x", 1, "2*pi*x"),
        ("log2(x)", "x", 1, "1/(ln(2)*x)"),
        ("erf(x)", "x", 1, "2*exp(-x^2)/sqrt(pi)"),
        ("mean([x, y, z])", "y", 1, "1/3"),
        ("1/(3*x^2)", "x", 1, "-2/(3*x^3)"),
        // A decimal the user wrote stays a decimal.
        ("0.5*m*v^2", "m", 1, "0.5*v^2"),
        ("0.5*m*v^2", "v", 1, "m*v"),
        ("x^0.5", "x", 1, "0.5/x^0.5"),
    ];
    assert_derivatives(&cases);
}

#[test]
fn the_gaussian_keeps_sqrt_2_pi() {
    let pdf = "exp(-(x - mu)^2/(2*s^2))/(s*sqrt(2*pi))";
    for wrt in ["x", "mu", "s"] {
        let text = derivative(pdf, wrt, 1);
        assert!(text.contains("sqrt(2*pi)"), "d/d{wrt}: {text}");
        assert!(!text.contains('.'), "d/d{wrt} has a decimal: {text}");
    }
}

#[test]
fn printed_forms_parse_back_to_the_same_node() {
    let forms = [
        "x/3",
        "x*y/3",
        "-2*x/3",
        "1/(3*x^2)",
        "-1/(3*x^2)",
        "2*x*y/(3*z)",
        "-1/(4*x*sqrt(x))",
        "x*y/(3*w*z)",
        "sqrt(x^2 + 1)^3",
        "x^(1/3)",
        "1/(3*x^(2/3))",
        "(x + 1)/3",
        "ln(2)*2^x",
        "2*pi*x",
        "2*exp(-x^2)/sqrt(pi)",
        "x^2/3 + x/7",
        "-x/7 + 1/3",
        "sqrt(2*pi)*exp(-x^2/2)",
        "e*x",
    ];
    for text in forms {
        let f = Formula::parse(text).unwrap();
        let printed = f.text(f.root());
        let again = Formula::parse(&printed).unwrap();
        assert_eq!(again.text(again.root()), printed, "{text} prints as {printed}");
        chainrule::check::round_trip(text, 100_000).unwrap();
    }
}

#[test]
fn exact_constants_evaluate_to_their_values() {
    let cases = [
        ("x/3", 0.9, 0.3),
        ("pi*x", 2.0, 2.0 * std::f64::consts::PI),
        ("e^x", 1.0, std::f64::consts::E),
        ("ln(2)*x", 1.0, std::f64::consts::LN_2),
        ("sqrt(2*pi)*x", 1.0, (2.0 * std::f64::consts::PI).sqrt()),
        ("x^(1/3)", 27.0, 3.0),
    ];
    for (text, x, want) in cases {
        let got = common::eval_text(text, &["x".to_string()], &[x]);
        assert!(close(got, want, 1e-15), "{text} at {x}: {got} vs {want}");
    }
}

#[test]
fn exact_folding_never_hides_an_irrational_number() {
    // Whole results fold; irrational ones stay symbolic.
    for (text, want) in [("sqrt(4)", "2"), ("8^(2/3)", "4"), ("exp(0)", "1"), ("ln(1)", "0")] {
        let f = Formula::parse(text).unwrap();
        assert_eq!(f.text(f.root()), want);
    }
    for text in ["sqrt(2)", "ln(2)", "exp(1)", "pi"] {
        let f = Formula::parse(text).unwrap();
        assert_eq!(f.text(f.root()), text);
    }
    // `u^(1/2)` is `sqrt(u)`: one node for one value.
    let f = Formula::parse("2^(1/2)").unwrap();
    assert_eq!(f.text(f.root()), "sqrt(2)");
}

#[test]
fn derivatives_read_as_a_person_writes_them() {
    let cases = [
        ("bce(sigmoid(z), y)", "z", 1, "sigmoid(z) - y"),
        ("exp(x)*sin(x)", "x", 4, "-4*exp(x)*sin(x)"),
        ("(1 - p)^2/((1 - p)*(1 - q))", "p", 1, "1/(q - 1)"),
        ("bce(p, y)", "p", 1, "(p - y)/(p*(1 - p))"),
        ("sigmoid(w*x + b)", "b", 1, "sigmoid(w*x + b)*(1 - sigmoid(w*x + b))"),
        ("x^2 + x + 1", "x", 1, "2*x + 1"),
        ("sqrt(x^2 + 1)^2", "x", 1, "2*x"),
        ("atan(y/x)", "x", 1, "-y/(x^2 + y^2)"),
        ("1/(pi*g*(1 + ((x - x0)/g)^2))", "x", 1, "-2*g*(x - x0)/(pi*(g^2 + (x - x0)^2)^2)"),
        (
            "exp(-(x - mu)^2/(2*sigma^2))/(sigma*sqrt(2*pi))",
            "sigma",
            1,
            "exp(-(x - mu)^2/(2*sigma^2))*((x - mu)^2 - sigma^2)/(sqrt(2*pi)*sigma^4)",
        ),
    ];
    assert_derivatives(&cases);
}
