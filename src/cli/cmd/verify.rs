//! `chainrule verify`: is a hand-derived derivative right? Each claim holds (symbolically,
//! or at so many points within the rounding bound) or fails at a point, with the part of
//! the claim that differs. Exit status 0 when every claim holds, 1 when one does not.

use crate::cli::input::{check_wrt, failure, normalize, read_formula, scalar_result, usage};
use crate::cli::{json, Failure, InputArgs};
use chainrule::error::{line_col, Error, ErrorKind, Span};
use chainrule::print::format_float;
use chainrule::verify::{self, Claims, Options, Part, PartKind, Verdict};
use chainrule::Formula;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The variable the --claim is the derivative in.
    #[arg(long, value_name = "w")]
    wrt: Option<String>,
    /// The claimed derivative in --wrt: a formula, which may use the formula's own names.
    #[arg(long, value_name = "FORMULA", allow_hyphen_values = true)]
    claim: Option<String>,
    /// A file of claims: `d/dw = FORMULA` lines, assignments before them, `#` comments.
    #[arg(long, value_name = "PATH")]
    claim_file: Option<PathBuf>,
    /// How many random points of the domain a claim is compared at.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    points: u32,
    /// Seed of the random points.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &VerifyArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    scalar_result(&formula, "verify")?;
    let sets = claim_sets(args, &mut formula)?;
    let options = Options { points: args.points as usize, seed: args.seed };
    let mut verdicts = Vec::new();
    for set in &sets {
        for claim in &set.claims {
            let verdict = verify::verify(&mut formula, set, claim, &options)
                .map_err(|e| failure(&formula, e))?;
            verdicts.push((verdict, set));
        }
    }
    let text = if args.json {
        let claims: Vec<serde_json::Value> = verdicts.iter().map(|(v, s)| to_json(v, s)).collect();
        format!("{}\n", serde_json::json!({ "claims": claims }))
    } else {
        verdicts.iter().map(|(v, s)| to_text(v, s)).collect()
    };
    out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
    Ok(if verdicts.iter().all(|(v, _)| v.holds) { 0 } else { 1 })
}

/// The claims of `--claim` and of `--claim-file`, each set with its own text.
fn claim_sets(args: &VerifyArgs, formula: &mut Formula) -> Result<Vec<Claims>, Failure> {
    let mut sets = Vec::new();
    match (&args.wrt, &args.claim) {
        (Some(wrt), Some(text)) => {
            check_wrt(formula, std::slice::from_ref(wrt))?;
            let claims = Claims::one(formula, &normalize(wrt), text)
                .map_err(|e| in_claim(&e, text, "--claim"))?;
            sets.push(claims);
        }
        (None, Some(_)) => {
            return Err(usage("--claim needs --wrt: the variable it is the derivative in"))
        }
        (Some(_), None) => {
            return Err(usage("--wrt names the variable of a --claim; give the claim"))
        }
        (None, None) => {}
    }
    if let Some(path) = &args.claim_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let message = format!("cannot read {}: {e}", path.display());
            Failure::from_error(&Error::new(ErrorKind::Io(message)), "")
        })?;
        let place = path.display().to_string();
        sets.push(Claims::file(formula, &text).map_err(|e| in_claim(&e, &text, &place))?);
    }
    if sets.is_empty() {
        return Err(usage("give a claim: --wrt w --claim \"FORMULA\", or --claim-file PATH"));
    }
    Ok(sets)
}

/// An error in a claim's text, rendered against that text and saying where it is.
fn in_claim(error: &Error, text: &str, place: &str) -> Failure {
    let mut failure = Failure::from_error(error, text);
    if let Some(rest) = failure.message.strip_prefix("error: ") {
        failure.message = format!("error in {place}: {rest}");
    }
    failure
}

fn to_text(v: &Verdict, claims: &Claims) -> String {
    let head = format!("d/d{} = {}", v.wrt, v.claim);
    if v.holds {
        return match v.method {
            verify::Method::Symbolic => {
                format!("{head}\n  holds: symbolic (the same canonical form)\n")
            }
            verify::Method::Numeric => format!(
                "{head}\n  holds: numeric ({} points of the domain agree, to within {} relative)\n",
                v.points,
                short(v.tolerance)
            ),
        };
    }
    let Some(c) = &v.counterexample else {
        return format!(
            "{head}\n  FAILS: undecided (no point of the domain where rounding leaves the values \
             clear)\n"
        );
    };
    let at: Vec<String> = c.at.iter().map(|(n, x)| format!("{n}={}", format_float(*x))).collect();
    let (claimed, actual) = match (short(c.claimed), short(c.actual)) {
        (a, b) if a == b => (format_float(c.claimed), format_float(c.actual)),
        pair => pair,
    };
    let mut text =
        format!("{head}\n  FAILS at {}\n  claimed {claimed}, actual {actual}\n", at.join(", "));
    if let Some(part) = &c.part {
        text.push_str(&describe(part));
        if let Some(span) = part.span {
            text.push_str(&caret(&claims.source, span));
        }
    }
    text
}

/// What differs, in words.
fn describe(p: &Part) -> String {
    let (one, many) = match p.kind {
        PartKind::Terms => ("term", "terms"),
        PartKind::Factors => ("factor", "factors"),
        PartKind::Subexpression => ("part", "part"),
    };
    let what = |count: usize| if count > 1 { many } else { one };
    let value = |x: f64| short(x);
    match (p.claimed.is_empty(), p.actual.is_empty()) {
        (true, _) => format!(
            "  the claim lacks the {} {} (= {}) of the derivative\n",
            what(p.counts.1),
            p.actual,
            value(p.actual_value)
        ),
        (_, true) => format!(
            "  the claim has the {} {} (= {}) that the derivative does not have\n",
            what(p.counts.0),
            p.claimed,
            value(p.claimed_value)
        ),
        _ => format!(
            "  the claim's {} {} (= {})\n  where the derivative has {} (= {})\n",
            what(p.counts.0),
            p.claimed,
            value(p.claimed_value),
            p.actual,
            value(p.actual_value)
        ),
    }
}

/// `line L, column C`, the line and a caret under `span`.
fn caret(source: &str, span: Span) -> String {
    let (line, col) = line_col(source, span.start);
    let text = source.split('\n').nth(line - 1).unwrap_or("").trim_end_matches('\r');
    let width = source[span.start..span.end].split('\n').next().unwrap_or("").chars().count();
    format!(
        "  --> line {line}, column {col}\n   | {text}\n   | {}{}\n",
        " ".repeat(col - 1),
        "^".repeat(width.max(1))
    )
}

/// A number to six significant digits, for people.
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format_float(x);
    }
    if (1e-4..1e6).contains(&x.abs()) {
        let digits = (5 - x.abs().log10().floor() as i32).max(0) as usize;
        let t = format!("{x:.digits$}");
        let t = if t.contains('.') { t.trim_end_matches('0').trim_end_matches('.') } else { &t };
        return t.to_string();
    }
    let t = format!("{x:.5e}");
    match t.split_once('e') {
        Some((m, e)) if m.contains('.') => {
            format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => t,
    }
}

fn to_json(v: &Verdict, claims: &Claims) -> serde_json::Value {
    let mut value = serde_json::json!({
        "wrt": v.wrt,
        "claim": v.claim,
        "holds": v.holds,
        "method": v.method.name(),
    });
    if v.method == verify::Method::Numeric {
        value["points"] = v.points.into();
        value["tolerance"] = json::number(v.tolerance);
    }
    value["counterexample"] = match &v.counterexample {
        None => serde_json::Value::Null,
        Some(c) => {
            let mut ce = serde_json::json!({
                "at": json::object(c.at.iter().map(|(n, x)| (n.clone(), json::number(*x)))),
                "claimed": json::number(c.claimed),
                "actual": json::number(c.actual),
            });
            if let Some(p) = &c.part {
                ce["differs"] = part_json(p, claims);
            }
            ce
        }
    };
    value
}

fn part_json(p: &Part, claims: &Claims) -> serde_json::Value {
    let kind = match p.kind {
        PartKind::Terms => "terms",
        PartKind::Factors => "factors",
        PartKind::Subexpression => "subexpression",
    };
    let mut value = serde_json::json!({
        "kind": kind,
        "claimed": p.claimed,
        "actual": p.actual,
        "claimed_value": json::number(p.claimed_value),
        "actual_value": json::number(p.actual_value),
    });
    if let Some(span) = p.span {
        let (line, column) = line_col(&claims.source, span.start);
        value["line"] = line.into();
        value["column"] = column.into();
    }
    value
}
