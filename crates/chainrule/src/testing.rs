//! Snapshot tests of formulas: a folder of case files, each derivative printed for a
//! snapshot and checked against finite differences, so that a snapshot can only record a
//! right answer. No snapshot library is needed here: [`snapshot`] returns the text to pass
//! to `insta::assert_snapshot!` (or to compare with a file).
//!
//! A case file holds one case a line, `formula | variables | order` (the order may be left
//! out for 1); blank lines and lines starting with `#` are skipped:
//!
//! ```text
//! # activations
//! sigmoid(w*x + b) | w,b
//! tanh(x) | x | 2
//! ```
//!
//! Each case prints as the formula, its simplified form, then per variable the derivative
//! exactly as `chainrule diff` prints it and its LaTeX:
//!
//! ```
//! let text = chainrule::testing::snapshot("x^3 | x | 2").unwrap();
//! assert_eq!(text, "x^3\n  = x^3\n  d2/dx2 = 6*x\n           6 x\n");
//! ```
//!
//! The numeric check evaluates the printed derivative, parsed back, at a test point and
//! compares it with a central difference of the printed derivative one order lower (of
//! the formula, for the first order). It skips points where either side is not finite,
//! provided the lower order is not finite there either or the difference is not.

use crate::print;
use crate::request::Request;
use crate::Formula;

/// Test values for the variables, in order of first appearance: away from kinks and
/// mostly inside the domains of asin, acos, ln and sqrt.
pub const VALUES: [f64; 12] = [0.7, 1.3, 0.45, 1.9, 0.85, 1.15, 0.6, 1.45, 0.35, 1.05, 0.55, 1.6];

/// The relative tolerance of the numeric check: `|symbolic - numeric| <= TOLERANCE *
/// max(1, |numeric|)`.
pub const TOLERANCE: f64 = 1e-5;

/// One line of a case file.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The formula (a program is fine, with `;` between statements).
    pub formula: String,
    /// The variables to differentiate with respect to.
    pub wrt: Vec<String>,
    /// The order of the derivatives.
    pub order: usize,
}

impl Case {
    /// Reads `formula | variables [| order]`.
    pub fn parse(line: &str) -> Result<Case, String> {
        let parts: Vec<&str> = line.split(" | ").collect();
        let (formula, wrt, order) = match parts.as_slice() {
            [f, w] => (*f, *w, 1),
            [f, w, o] => {
                let order = o.trim().parse().map_err(|_| format!("bad order in case: {line}"))?;
                (*f, *w, order)
            }
            _ => return Err(format!("bad case line (formula | variables [| order]): {line}")),
        };
        let wrt = wrt.split(',').map(|v| v.trim().to_string()).collect();
        Ok(Case { formula: formula.to_string(), wrt, order })
    }

    /// The case's printed text (see the module documentation), after checking every
    /// derivative numerically; `Err` describes the first failure.
    pub fn report(&self) -> Result<String, String> {
        let source = &self.formula;
        let mut f = Formula::parse(source).map_err(|e| e.render(source))?;
        let simplified = f.simplified().map_err(|e| e.to_string())?;
        let ids = f.ids(&self.wrt);
        let derived = f.derive(&Request::new(ids).order(self.order)).map_err(|e| e.to_string())?;
        let labels = derived.derivative_labels(f.graph());
        let mut out = format!("{source}\n  = {}\n", f.text(simplified));
        for ((v, label), &d) in self.wrt.iter().zip(labels).zip(&derived.derivatives) {
            out.push_str(&format!("  {label} = {}\n", f.text(d)));
            out.push_str(&format!("  {:width$}   {}\n", "", f.latex(d), width = label.len()));
            let lower = if self.order == 1 {
                f.text(simplified)
            } else {
                let lower = f.derivative(v, self.order - 1).map_err(|e| e.to_string())?;
                f.text(lower)
            };
            check_derivative(&f, &lower, &f.text(d), v)?;
        }
        Ok(out)
    }
}

/// Every case of a case file, in order.
pub fn cases(text: &str) -> Result<Vec<Case>, String> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(Case::parse).collect()
}

/// The printed text of every case of a case file, each derivative checked numerically
/// first: the text to snapshot. `Err` describes the first case that fails.
pub fn snapshot(text: &str) -> Result<String, String> {
    let mut out = String::new();
    for case in cases(text)? {
        out.push_str(&case.report()?);
    }
    Ok(out)
}

/// Checks that `derivative` (text) is d/d`var` of `lower` (text), at [`VALUES`] given to
/// the variables of `f` in order.
pub fn check_derivative(
    f: &Formula,
    lower: &str,
    derivative: &str,
    var: &str,
) -> Result<(), String> {
    let names = f.var_names();
    let values: Vec<f64> = VALUES.iter().cycle().take(names.len()).copied().collect();
    let Some(i) = f.position(var) else {
        return match derivative {
            "0" => Ok(()),
            _ => Err(format!("d/d{var} of {lower} is {derivative}, with no {var} in it")),
        };
    };
    let h = 1e-5;
    let at = |delta: f64| {
        let mut p = values.clone();
        p[i] += delta;
        value_of(lower, &names, &p)
    };
    let numeric = (at(h)? - at(-h)?) / (2.0 * h);
    let symbolic = value_of(derivative, &names, &values)?;
    let described = || {
        let point: Vec<String> =
            names.iter().zip(&values).map(|(n, x)| format!("{n}={x}")).collect();
        format!("d/d{var} of {lower} = {derivative} at {}", point.join(", "))
    };
    if numeric.is_finite() && symbolic.is_finite() {
        if (symbolic - numeric).abs() > TOLERANCE * numeric.abs().max(1.0) {
            let (symbolic, numeric) = (print::format_float(symbolic), print::format_float(numeric));
            return Err(format!(
                "{}: {symbolic} but finite differences give {numeric}",
                described()
            ));
        }
    } else if at(0.0)?.is_finite() && numeric.is_finite() {
        return Err(format!("{}: {symbolic} where the lower order is finite", described()));
    }
    Ok(())
}

/// The value of formula text at a point (names it does not use are ignored).
pub fn value_of(text: &str, names: &[&str], values: &[f64]) -> Result<f64, String> {
    let mut f = Formula::parse(text).map_err(|e| format!("{text:?} does not parse: {e}"))?;
    let inputs = f.ids(names);
    let tape = crate::eval::compile(f.graph(), &[f.root()], &inputs).map_err(|e| e.to_string())?;
    Ok(tape.run(values, &mut Vec::new())[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_derivative_is_reported_with_both_values() {
        let f = Formula::parse("x^3*y").unwrap();
        let error = check_derivative(&f, "x^3*y", "2*x^2*y", "x").unwrap_err();
        assert!(error.starts_with("d/dx of x^3*y = 2*x^2*y at x=0.7, y=1.3: "), "{error}");
        assert!(
            error.contains(": 1.2739999999999998 but finite differences give 1.911"),
            "{error}"
        );
        assert_eq!(check_derivative(&f, "x^3*y", "3*x^2*y", "x"), Ok(()));
        assert!(check_derivative(&f, "x^3*y", "1", "z").unwrap_err().contains("no z in it"));
    }

    #[test]
    fn case_lines_and_files() {
        let case = Case::parse("tanh(x*y) | x, y | 2").unwrap();
        assert_eq!((case.wrt, case.order), (vec!["x".into(), "y".into()], 2));
        assert!(Case::parse("x^2").unwrap_err().contains("formula | variables"));
        assert_eq!(cases("# a comment\n\nx | x\n").unwrap().len(), 1);
        let printed = snapshot("mse(p, t) | p,t").unwrap();
        let latex = |s: &str| format!("         {s}\n");
        let expected = format!(
            "  d/dp = 2*(p - t)\n{}  d/dt = 2*(t - p)\n{}",
            latex("2 \\left(p - t\\right)"),
            latex("2 \\left(t - p\\right)")
        );
        assert!(printed.ends_with(&expected), "{printed}");
    }
}
