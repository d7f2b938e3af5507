//! `chainrule check`: symbolic derivatives against finite differences.

use crate::cli::input::{failure, read_formula, read_point, usage};
use crate::cli::{Failure, InputArgs};
use chainrule::check::{self, Comparison};
use chainrule::formula::nested_text;
use chainrule::{print, Derived, Formula, Request};
use clap::Args;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::io::Write;

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The point to check at (default: random points, see --points and --seed).
    #[arg(long, value_name = "x=1.5,y=2", allow_hyphen_values = true)]
    at: Option<String>,
    /// The largest relative error accepted.
    #[arg(long, default_value_t = 1e-6)]
    tol: f64,
    /// Check the Hessian too.
    #[arg(long)]
    hessian: bool,
    /// How many random points, when --at is not given.
    #[arg(long, default_value_t = 3)]
    points: usize,
    /// Seed of the random points.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub(crate) fn run(args: &CheckArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let derived = derive(&mut formula, args.hessian)?;
    let points = points(&formula, args)?;
    let mut text = String::new();
    let (mut failed, mut total) = (0, 0);
    for point in &points {
        let mut rows = Vec::new();
        for (k, derived) in derived.iter().enumerate() {
            let compared = compare(&formula, derived, point, args.hessian)?;
            rows.extend(compared.into_iter().map(|row| match derived.of {
                // `d/dx` of element k of an array result is `d out[2]/dx`.
                Some(_) => Comparison { label: of_output(&formula, k, &row.label), ..row },
                None => row,
            }));
        }
        text.push_str(&format!("at {}\n", describe_point(&formula, point)));
        for row in &rows {
            text.push_str(&line(row, args.tol));
            total += 1;
            failed += usize::from(!row.passes(args.tol));
        }
    }
    out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
    if failed > 0 {
        eprintln!(
            "error: {failed} of {total} derivatives differ from finite differences by more than {}",
            args.tol
        );
        return Ok(1);
    }
    Ok(0)
}

/// The gradient (and Hessian) in every variable, as `diff` prints them, of each element of
/// the result (for an array result, the rows of its Jacobian): what is checked.
fn derive(formula: &mut Formula, hessian: bool) -> Result<Vec<Derived>, Failure> {
    let mut request = Request::new(formula.var_ids().to_vec());
    request.hessian = hessian;
    (0..formula.outputs().len())
        .map(|k| formula.derive_output(k, &request).map_err(|e| failure(formula, e)))
        .collect()
}

/// The gradient (and Hessian) of one element of the result against finite differences.
fn compare(
    formula: &Formula,
    derived: &Derived,
    point: &[f64],
    hessian: bool,
) -> Result<Vec<Comparison>, Failure> {
    let (g, vars) = (formula.graph(), formula.var_ids());
    let mut rows = check::gradient(g, derived.value, &derived.derivatives, vars, point)
        .map_err(|e| failure(formula, e))?;
    if hessian {
        rows.extend(
            check::hessian(g, &derived.derivatives, &derived.hessian, vars, point)
                .map_err(|e| failure(formula, e))?,
        );
    }
    Ok(rows)
}

/// `d/dx` (or `d2/dxdy`) of element `k` of the result: `d out[2]/dx`.
fn of_output(formula: &Formula, k: usize, label: &str) -> String {
    let (order, rest) = label.split_once('/').unwrap_or(("d", label));
    format!("{order} {}/{rest}", formula.output_name(k))
}

fn line(row: &Comparison, tol: f64) -> String {
    format!(
        "  {:<12} symbolic {:<24} numeric {:<24} error {:.1e}  {}\n",
        row.label,
        print::format_float(row.symbolic),
        print::format_float(row.numeric),
        row.error,
        if row.passes(tol) { "ok" } else { "FAIL" }
    )
}

/// The point as `--at` takes it: `x=0.5, W=[[1, 2], [3, 4]]`.
fn describe_point(formula: &Formula, point: &[f64]) -> String {
    let value = |name: &str| formula.position(name).map_or(f64::NAN, |i| point[i]);
    let pairs: Vec<String> = formula
        .names()
        .iter()
        .map(|name| {
            let shape = formula.shape_of(name);
            let elements = formula.expand_names(&[name]);
            let texts: Vec<String> =
                elements.iter().map(|e| print::format_float(value(e))).collect();
            format!("{name}={}", nested_text(shape, &texts))
        })
        .collect();
    pairs.join(", ")
}

/// The --at point, or random points where the formula has a finite value.
fn points(formula: &Formula, args: &CheckArgs) -> Result<Vec<Vec<f64>>, Failure> {
    if let Some(at) = &args.at {
        let given = read_point(formula, at)?;
        let given: HashMap<String, f64> = given.into_iter().collect();
        let point = formula
            .vars()
            .map(|v| {
                given
                    .get(v.name.as_str())
                    .copied()
                    .ok_or_else(|| usage(format!("--at gives no value for `{}`", v.name)))
            })
            .collect::<Result<Vec<f64>, Failure>>()?;
        return Ok(vec![point]);
    }
    let tape = formula.compile(formula.outputs()).map_err(|e| failure(formula, e))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let mut found = Vec::new();
    for _ in 0..args.points * 100 {
        let p: Vec<f64> = formula.vars().map(|_| rng.random_range(-2.0..2.0)).collect();
        if tape.run(&p, &mut Vec::new()).iter().all(|v| v.is_finite()) {
            found.push(p);
            if found.len() == args.points {
                break;
            }
        }
    }
    if found.is_empty() {
        return Err(usage("found no random point where the formula is finite; give one with --at"));
    }
    Ok(found)
}
