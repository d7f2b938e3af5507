//! `chainrule bench`: graph sizes, the time of each phase of building the program that
//! `eval --grad` runs (built by the same function, [`eval::program`]), and the time of running
//! it: per call at a point, and per row of the batch runner.

use crate::cli::cmd::eval::{self, Program};
use crate::cli::input::{failure, parse_timed, read_point, read_source, usage};
use crate::cli::{Failure, InputArgs};
use chainrule::eval::{Column, Reduce, Tape};
use chainrule::graph::walk;
use chainrule::Formula;
use clap::Args;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

/// What `--help` says of the keys.
const KEYS: &str = "\
Keys (JSON with --json, else `key = value` lines):
  nodes                  nodes of the formula's DAG
  gradient_nodes         nodes of the DAG of all requested derivatives, with what they share
  parse_ms, lower_ms     parsing the text; lowering it to the graph (arrays unrolled)
  diff_ms, simplify_ms   reverse mode; the canonical simplification of value and derivatives
                         together (the nodes `eval --grad` evaluates)
  compile_ms             compiling them to the tape that `eval --grad` runs
  native_compile_ms      compiling that tape to machine code (where native code is built)
  eval_ns, grad_ns       one evaluation of the value / of value and gradient at the point:
                         the mean over 9 batches of calls of ~20 ms each
  eval_ns_min, grad_ns_min  the same, the fastest batch's mean (peers are timed this way)
  native_eval_ns[_min], native_grad_ns[_min]  the same for the machine code
  tape_instructions, tape_registers  the size of the value-and-gradient tape
  batch_grad_ns_per_row  with --rows N: value and gradient per row of the batch runner over N
                         rows (the point repeated), one thread, fastest batch
  native_batch_grad_ns_per_row  the same for the machine code
The phases (*_ms) are of one build; with --repeat N, the minimum of N builds in this process.
The point is 0.5 for every variable that --at does not give.

Example:
  chainrule bench -f model.expr --wrt w,b --repeat 5 --rows 1000 --at w=0.1 --json
";

#[derive(Args, Debug)]
#[command(after_long_help = KEYS)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The variables of the gradient (default: every free variable).
    #[arg(long, value_delimiter = ',', value_name = "x[,y...]")]
    wrt: Vec<String>,
    /// The point to time at, as `eval --at` takes it (default: 0.5 for every variable).
    #[arg(long, value_name = "x=1.5,y=2", allow_hyphen_values = true)]
    at: Option<String>,
    /// Build the program N times (parse, lower, diff, simplify, compile, native compile) and
    /// report each phase's minimum.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least_one,
          allow_hyphen_values = true)]
    repeat: u64,
    /// Also time the batch runner over N rows on one thread (`batch_grad_ns_per_row`).
    #[arg(long, value_name = "N", value_parser = at_least_one, allow_hyphen_values = true)]
    rows: Option<u64>,
    /// Print JSON (the shape of SPEC.md, with the keys `--help` lists).
    #[arg(long)]
    json: bool,
}

/// A whole number of at least 1 (`--repeat`, `--rows`).
fn at_least_one(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{text}` is not a whole number of at least 1")),
    }
}

/// The most values `--rows` may lay out (rows times variables): 400 MB.
const MAX_ROW_VALUES: u64 = 50_000_000;

pub(crate) fn run(args: &BenchArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let source = read_source(&args.input)?;
    let mut built = build(args, &source)?;
    for _ in 1..args.repeat {
        let again = build(args, &source)?;
        built = Build { phases: fastest(&built.phases, &again.phases), ..again };
    }
    let Build { mut formula, program, phases, native, point, rows } = built;
    let names = program.names.clone();
    let value = eval::program(&mut formula, names, false, false)?;
    let g = formula.graph();
    let mut report = Map::new();
    report.insert("nodes".into(), walk::reachable(g, formula.outputs()).len().into());
    let derivatives = &program.roots[program.outputs..];
    report.insert("gradient_nodes".into(), walk::reachable(g, derivatives).len().into());
    report.extend(phases.iter().map(|&(key, d)| (key.to_string(), ms(d).into())));
    per_call("eval_ns", interpreted(&value.tape, &point)).report(&mut report);
    per_call("grad_ns", interpreted(&program.tape, &point)).report(&mut report);
    report.insert("tape_instructions".into(), program.tape.len().into());
    report.insert("tape_registers".into(), program.tape.registers().into());
    if let Some(rows) = rows {
        let batch = batch_per_row(&point, rows, |c, n| program.tape.run_batch(c, n, Reduce::Mean));
        report.insert("batch_grad_ns_per_row".into(), batch.into());
    }
    if let Some(native) = native {
        native::report(&native, &value, &point, rows, &mut report)
            .map_err(|e| failure(&formula, e))?;
    }
    print(out, report, args.json)
}

/// One build of the evaluation program: the formula, the program, each phase's time (the
/// report's `*_ms` keys, in order) and the program's native code where it is built; and the
/// point and rows to time it at, checked before building.
struct Build {
    formula: Formula,
    program: Program,
    phases: Vec<(&'static str, Duration)>,
    native: Option<native::Code>,
    point: Vec<f64>,
    rows: Option<usize>,
}

/// Parses `source` and builds the program `eval --grad` runs, timing each phase.
fn build(args: &BenchArgs, source: &str) -> Result<Build, Failure> {
    let (mut formula, parsed) = parse_timed(&args.input, source)?;
    let point = point(&formula, args.at.as_deref())?;
    let rows = rows(args.rows, point.len())?;
    let names = eval::wrt(&formula, &args.wrt, None)?;
    let program = eval::program(&mut formula, names, true, false)?;
    let built = program.phases;
    let mut phases = vec![
        ("parse_ms", parsed.parse),
        ("lower_ms", parsed.lower),
        ("diff_ms", built.diff),
        ("simplify_ms", built.simplify),
        ("compile_ms", built.compile),
    ];
    let native = native::compile(&program.tape).map_err(|e| failure(&formula, e))?;
    if let Some(code) = &native {
        phases.push(("native_compile_ms", code.compiled));
    }
    Ok(Build { formula, program, phases, native, point, rows })
}

/// Each phase's smaller time of two builds.
fn fastest(
    a: &[(&'static str, Duration)],
    b: &[(&'static str, Duration)],
) -> Vec<(&'static str, Duration)> {
    a.iter().zip(b).map(|(&(key, x), &(_, y))| (key, x.min(y))).collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The values of [`Formula::vars`] to time at: `--at`'s, read and checked as `eval` reads
/// them, and 0.5 for the others.
fn point(formula: &Formula, at: Option<&str>) -> Result<Vec<f64>, Failure> {
    let given: HashMap<String, f64> = read_point(formula, at.unwrap_or(""))?.into_iter().collect();
    Ok(formula.vars().map(|v| given.get(v.name.as_str()).copied().unwrap_or(0.5)).collect())
}

/// `--rows`, refused when the rows of every variable would take more than
/// [`MAX_ROW_VALUES`] values.
fn rows(rows: Option<u64>, vars: usize) -> Result<Option<usize>, Failure> {
    match rows {
        Some(n) if n.saturating_mul(vars.max(1) as u64) > MAX_ROW_VALUES => Err(usage(format!(
            "--rows {n} with {vars} variables would lay out more than {MAX_ROW_VALUES} values"
        ))),
        Some(n) => Ok(Some(n as usize)),
        None => Ok(None),
    }
}

/// One call of the interpreted `tape` at `point`.
fn interpreted<'a>(tape: &'a Tape, point: &'a [f64]) -> impl FnMut() + 'a {
    let (mut registers, mut out) = (Vec::new(), vec![0.0; tape.outputs()]);
    move || tape.run_into(black_box(point), &mut registers, &mut out)
}

/// Batches timed after calibration (the peers take the best of up to 9).
const BATCHES: u32 = 9;
/// The time one batch of calls fills.
const BATCH_TIME: Duration = Duration::from_millis(20);

/// Nanoseconds per call: the mean over every timed batch, and the fastest batch's mean.
struct PerCall {
    key: &'static str,
    mean: f64,
    min: f64,
}

impl PerCall {
    /// Adds `key` (the mean) and `key_min`.
    fn report(&self, report: &mut Map<String, Value>) {
        report.insert(self.key.into(), self.mean.into());
        report.insert(format!("{}_min", self.key), self.min.into());
    }
}

/// Times `run` in [`BATCHES`] batches of as many calls as fill [`BATCH_TIME`].
fn per_call(key: &'static str, mut run: impl FnMut()) -> PerCall {
    let calls = calibrate(&mut run);
    let times: Vec<u128> = (0..BATCHES).map(|_| time_calls(&mut run, calls).as_nanos()).collect();
    let total: u128 = times.iter().sum();
    let fastest = times.iter().copied().min().unwrap_or(0);
    // Whole nanoseconds divided once each, so that the minimum never exceeds the mean.
    let mean = total as f64 / (calls as f64 * f64::from(BATCHES));
    PerCall { key, mean, min: fastest as f64 / calls as f64 }
}

/// How many calls of `run` fill [`BATCH_TIME`].
fn calibrate(run: &mut impl FnMut()) -> u64 {
    let mut calls = 1;
    while calls < 1 << 30 && time_calls(run, calls) < BATCH_TIME {
        calls *= 4;
    }
    calls
}

fn time_calls(run: &mut impl FnMut(), calls: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..calls {
        run();
    }
    start.elapsed()
}

/// Nanoseconds per row of `run_batch` over `rows` copies of `point` (every variable a column
/// of the data, reduced to the mean), on one thread: the fastest batch.
fn batch_per_row(
    point: &[f64],
    rows: usize,
    run_batch: impl Fn(&[Column<f64>], usize) -> Vec<f64> + Sync,
) -> f64 {
    let data: Vec<Vec<f64>> = point.iter().map(|&v| vec![v; rows]).collect();
    let columns: Vec<Column<f64>> = data.iter().map(|d| Column::Rows(d)).collect();
    let run = || {
        black_box(run_batch(black_box(&columns), rows));
    };
    let timed = || per_call("batch", run).min / rows as f64;
    match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
        Ok(one_thread) => one_thread.install(timed),
        Err(_) => timed(),
    }
}

/// Prints the report as JSON or as `key = value` lines.
fn print(out: &mut impl Write, report: Map<String, Value>, json: bool) -> Result<i32, Failure> {
    let text = match json {
        true => format!("{}\n", Value::Object(report)),
        false => report.iter().map(|(k, v)| format!("{k} = {v}\n")).collect(),
    };
    out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
    Ok(0)
}

/// The native code of the program, where it is built in.
#[cfg(feature = "native")]
mod native {
    use super::{batch_per_row, per_call, Program};
    use chainrule::eval::{compile_native, NativeTape, Reduce, Tape, NATIVE_MAX_INSTRUCTIONS};
    use serde_json::{Map, Value};
    use std::hint::black_box;
    use std::time::{Duration, Instant};

    /// The program's tape in machine code, and how long compiling it took.
    pub(super) struct Code {
        grad: NativeTape,
        pub(super) compiled: Duration,
    }

    /// The machine code of `tape`, unless it is longer than native code is built for.
    pub(super) fn compile(tape: &Tape) -> chainrule::Result<Option<Code>> {
        if tape.len() > NATIVE_MAX_INSTRUCTIONS {
            return Ok(None);
        }
        let start = Instant::now();
        let grad = compile_native(tape)?;
        Ok(Some(Code { grad, compiled: start.elapsed() }))
    }

    /// Adds the `native_*` run times: of the value program `value` and of `code`.
    pub(super) fn report(
        code: &Code,
        value: &Program,
        point: &[f64],
        rows: Option<usize>,
        report: &mut Map<String, Value>,
    ) -> chainrule::Result<()> {
        let value = compile_native(&value.tape)?;
        let mut out_value = vec![0.0; value.outputs()];
        let mut out_grad = vec![0.0; code.grad.outputs()];
        per_call("native_eval_ns", || value.run_into(black_box(point), &mut out_value))
            .report(report);
        per_call("native_grad_ns", || code.grad.run_into(black_box(point), &mut out_grad))
            .report(report);
        if let Some(rows) = rows {
            let batch = batch_per_row(point, rows, |c, n| code.grad.run_batch(c, n, Reduce::Mean));
            report.insert("native_batch_grad_ns_per_row".into(), batch.into());
        }
        Ok(())
    }
}

/// Without native code built in, no `native_*` keys.
#[cfg(not(feature = "native"))]
mod native {
    use super::Program;
    use chainrule::eval::Tape;
    use serde_json::{Map, Value};
    use std::time::Duration;

    pub(super) struct Code {
        pub(super) compiled: Duration,
    }

    pub(super) fn compile(_: &Tape) -> chainrule::Result<Option<Code>> {
        Ok(None)
    }

    pub(super) fn report(
        _: &Code,
        _: &Program,
        _: &[f64],
        _: Option<usize>,
        _: &mut Map<String, Value>,
    ) -> chainrule::Result<()> {
        Ok(())
    }
}
