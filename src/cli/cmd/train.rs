//! `chainrule train`: gradient descent on a model written as a formula.

use crate::cli::input::{check_vars, failure, flatten, read_formula, read_params, usage};
use crate::cli::output::write_atomic;
use crate::cli::{Failure, InputArgs};
use chainrule::error::{Error, ErrorKind};
use chainrule::eval::data::read_csv;
use chainrule::print::format_float;
use chainrule::train::{self, Model, Optimizer, TrainOptions};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The training data: a CSV file whose header names the model's inputs.
    #[arg(long, value_name = "rows.csv")]
    data: PathBuf,
    /// The parameters: names or patterns (`w*`), comma-separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "w1,b*,...")]
    params: Vec<String>,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// Passes over the data.
    #[arg(long, default_value_t = 1000)]
    epochs: usize,
    /// Rows per step (default: all rows).
    #[arg(long, value_name = "B")]
    batch_size: Option<usize>,
    /// The update rule.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
    optimizer: OptimizerArg,
    /// Seed of the random starting values and of the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Start from the parameters in this JSON file (as --save writes it).
    #[arg(long, value_name = "params.json")]
    init: Option<PathBuf>,
    /// Write the trained parameters to this JSON file.
    #[arg(long, value_name = "params.json")]
    save: Option<PathBuf>,
    /// Log a line every K epochs (when standard error is not a terminal).
    #[arg(long, value_name = "K")]
    log_every: Option<usize>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OptimizerArg {
    Sgd,
    Momentum,
    Adam,
}

pub(crate) fn run(args: &TrainArgs, out: &mut impl Write) -> Result<i32, Failure> {
    let mut formula = read_formula(&args.input)?;
    let names = args.params.iter().filter(|p| !p.contains('*')).map(String::as_str);
    check_vars(&formula, names, "--params")?;
    let data = read_csv(&args.data).map_err(|e| failure(&formula, e))?;
    let params = train::select_params(&formula.var_names(), &args.params)
        .map_err(|e| failure(&formula, naming_params(e, true)))?;
    let model = Model::new(&mut formula, &params, &data)
        .map_err(|e| failure(&formula, naming_params(e, false)))?;
    let start = match &args.init {
        Some(path) => starting_values(&formula, path, &params)?,
        None => train::initial_params(&formula, &params, args.seed),
    };
    let options = TrainOptions {
        lr: args.lr,
        epochs: args.epochs,
        batch_size: args.batch_size,
        optimizer: match args.optimizer {
            OptimizerArg::Sgd => Optimizer::Sgd,
            OptimizerArg::Momentum => Optimizer::momentum(),
            OptimizerArg::Adam => Optimizer::adam(),
        },
        seed: args.seed,
    };
    let mut report = Reporter::new(args.epochs, args.log_every);
    let result =
        train::train(&model, &data, &start, &options, |epoch, loss| report.epoch(epoch, loss));
    report.finish();
    match result {
        Ok(trained) => {
            let text = summary(&params, &trained.params, trained.loss);
            out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
            if let Some(path) = &args.save {
                write_atomic(path, params_json(&params, &trained.params).as_bytes())?;
            }
            Ok(0)
        }
        Err((last, diverged)) => {
            let culprit = match &diverged.param {
                Some((p, v)) => {
                    format!("; the parameter `{p}` went bad first ({p} = {})", format_float(*v))
                }
                None => String::new(),
            };
            let message = format!(
                "training stopped at epoch {}: the loss is {}{culprit}",
                diverged.epoch,
                format_float(diverged.loss)
            );
            let text = summary(&params, &last.params, diverged.loss);
            out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
            Err(failure(
                &formula,
                Error::new(ErrorKind::Domain(message))
                    .with_hint("lower --lr, or start from other values (--seed, --init)"),
            ))
        }
    }
}

/// A parameter error in the command line's words: the parameters are `--params` (and
/// `selecting`: the message is select_params' "`w*` matches no variable ...").
fn naming_params(mut error: Error, selecting: bool) -> Error {
    match &error.kind {
        ErrorKind::Usage(message) if selecting => {
            error.kind = ErrorKind::Usage(format!("--params {message}"));
        }
        ErrorKind::Unbound(v) => {
            let hint = format!("`{v}` is neither a parameter (--params) nor a column of the data");
            error.hint = Some(hint);
        }
        _ => {}
    }
    error
}

fn starting_values(
    formula: &chainrule::Formula,
    path: &std::path::Path,
    params: &[String],
) -> Result<Vec<f64>, Failure> {
    let values: std::collections::HashMap<String, f64> =
        flatten(formula, &read_params(path)?)?.into_iter().collect();
    params
        .iter()
        .map(|p| {
            values.get(p).copied().ok_or_else(|| {
                usage(format!("{} has no value for the parameter `{p}`", path.display()))
            })
        })
        .collect()
}

/// `loss = ...` then `name = value` per parameter.
fn summary(names: &[String], values: &[f64], loss: f64) -> String {
    let mut s = format!("loss = {}\n", format_float(loss));
    for (n, v) in names.iter().zip(values) {
        s.push_str(&format!("{n} = {}\n", format_float(*v)));
    }
    s
}

/// The parameters as a JSON object, the shape --init and `eval --params` read.
fn params_json(names: &[String], values: &[f64]) -> String {
    let object: serde_json::Map<String, serde_json::Value> =
        names.iter().cloned().zip(values.iter().map(|&v| crate::cli::json::number(v))).collect();
    serde_json::to_string_pretty(&serde_json::Value::Object(object)).expect("numbers serialise")
        + "\n"
}

/// Progress: a bar on a terminal, plain lines every K epochs otherwise.
struct Reporter {
    bar: Option<ProgressBar>,
    every: usize,
    epochs: usize,
}

impl Reporter {
    fn new(epochs: usize, every: Option<usize>) -> Reporter {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(epochs as u64);
            let style = ProgressStyle::with_template(
                "epoch {pos}/{len} {bar:30} loss {msg} ({per_sec}, {eta} left)",
            )
            .expect("a valid template");
            bar.set_style(style);
            bar
        });
        Reporter { bar, every: every.unwrap_or((epochs / 10).max(1)), epochs }
    }

    fn epoch(&mut self, epoch: usize, loss: f64) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(epoch as u64);
                bar.set_message(format!("{loss:.6}"));
            }
            None if epoch.is_multiple_of(self.every) || epoch == self.epochs || epoch == 1 => {
                eprintln!("epoch {epoch}/{}  loss {}", self.epochs, format_float(loss));
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
