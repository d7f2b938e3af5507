//! `chainrule bench`: graph sizes and the time of each phase.

use crate::cli::input::{check_wrt, failure, read_formula_timed, usage};
use crate::cli::{Failure, InputArgs};
use chainrule::graph::walk;
use chainrule::{eval, simplify, NodeId, Request, Simplify};
use clap::Args;
use std::io::Write;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The variables of the gradient (default: every free variable).
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    /// Print JSON (the shape of SPEC.md, with `lower_ms` apart from `parse_ms`).
    #[arg(long)]
    json: bool,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(crate) fn run(args: &BenchArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let (mut formula, timings) = read_formula_timed(&args.input)?;
    let wrt = check_wrt(&formula, &args.wrt)?;
    let wrt = if wrt.is_empty() { formula.var_ids().to_vec() } else { formula.ids(&wrt) };
    let outputs = formula.outputs().len();
    let start = Instant::now();
    // Of an array result, every row of the Jacobian.
    let request = Request::new(wrt).simplify(Simplify::Raw);
    let raw = (0..outputs)
        .map(|k| formula.derive_output(k, &request))
        .collect::<chainrule::Result<Vec<_>>>()
        .map_err(|e| failure(&formula, e))?;
    let diffed = start.elapsed();
    let start = Instant::now();
    // Values and derivatives simplified together share one forward pass.
    let mut roots: Vec<NodeId> = raw.iter().map(|d| d.value).collect();
    roots.extend(raw.iter().flat_map(|d| d.derivatives.iter().copied()));
    let roots =
        simplify::simplify(formula.graph_mut(), &roots).map_err(|e| failure(&formula, e))?;
    let simplified = start.elapsed();
    let start = Instant::now();
    let value_tape = formula.compile(&roots[..outputs]).map_err(|e| failure(&formula, e))?;
    let grad_tape = formula.compile(&roots).map_err(|e| failure(&formula, e))?;
    let compiled = start.elapsed();
    let point = vec![0.5; formula.var_ids().len()];
    let eval_ns = time_per_run(&value_tape, &point);
    let grad_ns = time_per_run(&grad_tape, &point);
    let native =
        native_timings(&value_tape, &grad_tape, &point).map_err(|e| failure(&formula, e))?;
    let report = serde_json::json!({
        "nodes": walk::reachable(formula.graph(), formula.outputs()).len(),
        "gradient_nodes": walk::reachable(formula.graph(), &roots[outputs..]).len(),
        "parse_ms": ms(timings.parse),
        "lower_ms": ms(timings.lower),
        "diff_ms": ms(diffed),
        "simplify_ms": ms(simplified),
        "compile_ms": ms(compiled),
        "eval_ns": eval_ns,
        "grad_ns": grad_ns,
        "tape_instructions": grad_tape.len(),
        "tape_registers": grad_tape.registers(),
    });
    let mut report = report;
    if let (Some(map), Some(native)) = (report.as_object_mut(), native) {
        map.extend(native);
    }
    let text = if args.json {
        format!("{report}\n")
    } else {
        report.as_object().unwrap().iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
    };
    out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
    Ok(0)
}

/// Compile time and run times of the native code, where it is built in.
#[cfg(feature = "native")]
fn native_timings(
    value: &eval::Tape,
    grad: &eval::Tape,
    point: &[f64],
) -> chainrule::Result<Option<serde_json::Map<String, serde_json::Value>>> {
    if grad.len() > eval::NATIVE_MAX_INSTRUCTIONS {
        return Ok(None);
    }
    let start = Instant::now();
    let native_value = eval::compile_native(value)?;
    let native_grad = eval::compile_native(grad)?;
    let compiled = start.elapsed();
    let mut out_value = vec![0.0; native_value.outputs()];
    let mut out_grad = vec![0.0; native_grad.outputs()];
    let mut map = serde_json::Map::new();
    map.insert("native_compile_ms".into(), ms(compiled).into());
    map.insert(
        "native_eval_ns".into(),
        repeat(|| native_value.run_into(point, &mut out_value)).into(),
    );
    map.insert(
        "native_grad_ns".into(),
        repeat(|| native_grad.run_into(point, &mut out_grad)).into(),
    );
    Ok(Some(map))
}

#[cfg(not(feature = "native"))]
fn native_timings(
    _: &eval::Tape,
    _: &eval::Tape,
    _: &[f64],
) -> chainrule::Result<Option<serde_json::Map<String, serde_json::Value>>> {
    Ok(None)
}

/// Mean nanoseconds of one run of `tape` at `point`.
fn time_per_run(tape: &eval::Tape, point: &[f64]) -> f64 {
    let mut registers = Vec::new();
    let mut out = vec![0.0; tape.outputs()];
    repeat(|| tape.run_into(std::hint::black_box(point), &mut registers, &mut out))
}

/// Mean nanoseconds of one call of `run`, over enough calls to fill ~0.2 s.
fn repeat(mut run: impl FnMut()) -> f64 {
    let mut runs = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..runs {
            run();
        }
        let elapsed = start.elapsed();
        if elapsed > Duration::from_millis(200) || runs >= 1 << 30 {
            return elapsed.as_nanos() as f64 / runs as f64;
        }
        runs *= 4;
    }
}
