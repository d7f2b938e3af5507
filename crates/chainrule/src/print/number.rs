//! Numbers and names: shortest round-trip floats, LaTeX forms.

use std::f64::consts::{E, PI};

/// The shortest text that reads back to the same f64: whole numbers without `.0`,
/// exponent form for very large or small magnitudes, `pi` and `e` by name.
pub fn format_number(v: f64) -> String {
    if v == PI {
        return "pi".into();
    }
    if v == E {
        return "e".into();
    }
    format_float(v)
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

/// A number in LaTeX: `\pi`, `e`, `1.5 \times 10^{-7}`.
pub fn latex_number(v: f64) -> String {
    let text = format_number(v);
    match text.as_str() {
        "pi" => "\\pi".into(),
        "-pi" => "-\\pi".into(),
        _ => match text.split_once('e') {
            Some((mantissa, exponent)) if !mantissa.is_empty() && mantissa != "-" => {
                format!("{mantissa} \\times 10^{{{exponent}}}")
            }
            _ => text,
        },
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
