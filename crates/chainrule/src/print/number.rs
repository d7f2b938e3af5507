//! Numbers and names: shortest round-trip floats, LaTeX forms.

use crate::graph::Number;

/// A number as the text form writes it: an exact `p/q` (or whole `p`), or the shortest float.
pub fn format_constant(n: Number) -> String {
    match n.fraction() {
        (p, 1) => format_float(p.to_f64()),
        (p, q) => format!("{}/{q}", format_float(p.to_f64())),
    }
}

/// A number in LaTeX: `\frac{1}{3}`, `-\frac{2}{3}`, `1.5 \times 10^{-7}`.
pub fn latex_constant(n: Number) -> String {
    match n.fraction() {
        (p, 1) => latex_float(p.to_f64()),
        (p, q) if p.is_negative() => format!("-\\frac{{{}}}{{{q}}}", latex_float(-p.to_f64())),
        (p, q) => format!("\\frac{{{}}}{{{q}}}", latex_float(p.to_f64())),
    }
}

/// A float in LaTeX: `1.5 \times 10^{-7}`.
fn latex_float(v: f64) -> String {
    let text = format_float(v);
    match text.split_once('e') {
        Some((mantissa, exponent)) if !mantissa.is_empty() && mantissa != "-" => {
            format!("{mantissa} \\times 10^{{{exponent}}}")
        }
        _ => text,
    }
}

/// The shortest text that reads back to the same f64 (`NaN`, `inf`, `-inf` when not finite).
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v == 0.0 {
        return "0".into(); // and -0 too
    }
    if v < 0.0 {
        return format!("-{}", format_float(-v));
    }
    if v.is_infinite() {
        "inf".into()
    } else if v != 0.0 && !(1e-5..1e16).contains(&v) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

const GREEK: [&str; 24] = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "varepsilon",
];

/// A variable name in LaTeX: `theta` as `\theta`, `x_2` and `w1` with subscripts.
pub fn latex_name(name: &str) -> String {
    // An array element `W[1,2]`: its subscripts below the array's name.
    if let Some((array, rest)) = name.split_once('[') {
        let indices = rest.trim_end_matches(']');
        let base = latex_name(array);
        return match base.contains('_') {
            true => format!("{{{base}}}_{{{indices}}}"),
            false => format!("{base}_{{{indices}}}"),
        };
    }
    let (base, sub) = match name.split_once('_') {
        Some((b, s)) if !b.is_empty() && !s.is_empty() => (b, Some(s)),
        _ => {
            let digits = name.trim_end_matches(|c: char| c.is_ascii_digit());
            if digits.len() < name.len() && !digits.is_empty() {
                (digits, Some(&name[digits.len()..]))
            } else {
                (name, None)
            }
        }
    };
    let base = if GREEK.contains(&base) {
        format!("\\{base}")
    } else if base.chars().count() > 1 {
        format!("\\mathrm{{{}}}", base.replace('_', "\\_"))
    } else {
        base.to_string()
    };
    match sub {
        Some(s) => format!("{base}_{{{}}}", s.replace('_', "\\_")),
        None => base,
    }
}
