//! `chainrule train`: gradient descent on a model written as a formula.

use crate::cli::input::{
    check_vars, failure, flatten, name_list, read_formula, read_params, usage,
};
use crate::cli::output::write_atomic;
use crate::cli::{Failure, InputArgs};
use chainrule::error::{Error, ErrorKind};
use chainrule::eval::data::{read_csv, Table};
use chainrule::formula::nested_text;
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
    let patterns: Vec<String> = name_list(&args.params);
    let names = patterns.iter().filter(|p| !p.contains('*')).map(String::as_str);
    check_vars(&formula, names, "--params")?;
    let data = read_csv(&args.data).map_err(|e| failure(&formula, e))?;
    let params = choose_params(&formula, &patterns, &data)?;
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
            let text = summary(&formula, &params, &trained.params, trained.loss);
            out.write_all(text.as_bytes()).map_err(|e| usage(e.to_string()))?;
            if let Some(path) = &args.save {
                let json = params_json(&formula, &params, &trained.params);
                write_atomic(path, json.as_bytes())?;
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
            let text = summary(&formula, &params, &last.params, diverged.loss);
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

/// The parameters `patterns` name (see [`train::select_params`]): a name (an array's name
/// stands for its elements) must not be a data column; a pattern with `*` passes over the
/// data columns, so `--params '*'` means every variable that is not a column.
fn choose_params(
    formula: &chainrule::Formula,
    patterns: &[String],
    data: &Table,
) -> Result<Vec<String>, Failure> {
    for name in patterns.iter().filter(|p| !p.contains('*')) {
        if let Some(column) =
            formula.expand_names(&[name]).into_iter().find(|v| data.column(v).is_some())
        {
            let message = match *name == column {
                true => format!("`{name}` in --params is a column of the data, not a parameter"),
                false => format!(
                    "`{name}` in --params has a column of the data (`{column}`), not a parameter"
                ),
            };
            return Err(usage(message));
        }
    }
    let candidates: Vec<&str> =
        formula.var_names().into_iter().filter(|v| data.column(v).is_none()).collect();
    train::select_params(&candidates, patterns)
        .map_err(|e| failure(formula, naming_params(e, true)))
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
                // an array none of whose elements is given is missing as a whole
                let array = formula.arrays().iter().find(|a| {
                    formula.expand_names(&[&a.name]).iter().any(|e| e == p)
                        && !formula.expand_names(&[&a.name]).iter().any(|e| values.contains_key(e))
                });
                let name = array.map_or(p.as_str(), |a| a.name.as_str());
                usage(format!("{} has no value for the parameter `{name}`", path.display()))
            })
        })
        .collect()
}

/// The parameters as the user names them: an array whose elements are all parameters, in
/// order, by its name and shape (with the range of its values), any other parameter alone.
fn grouped<'a>(
    formula: &'a chainrule::Formula,
    params: &'a [String],
) -> Vec<(&'a str, &'a [usize], std::ops::Range<usize>)> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < params.len() {
        let whole = formula.arrays().iter().find(|a| {
            let elements = formula.expand_names(&[&a.name]);
            params[i..].starts_with(&elements)
        });
        match whole {
            Some(a) => {
                let n = a.elements.len();
                groups.push((a.name.as_str(), a.shape.as_slice(), i..i + n));
                i += n;
            }
            None => {
                groups.push((params[i].as_str(), &[][..], i..i + 1));
                i += 1;
            }
        }
    }
    groups
}

/// `loss = ...` then `name = value` per parameter; an array as a nested list, a matrix one
/// row a line with its columns aligned (the text `--at` reads).
fn summary(formula: &chainrule::Formula, names: &[String], values: &[f64], loss: f64) -> String {
    let mut s = format!(
        "loss = {}
",
        format_float(loss)
    );
    for (name, shape, range) in grouped(formula, names) {
        let cells: Vec<String> = values[range].iter().map(|&v| format_float(v)).collect();
        let text = match shape {
            [_, cols] => {
                let cols = *cols;
                let widths: Vec<usize> = (0..cols)
                    .map(|j| cells.iter().skip(j).step_by(cols).map(String::len).max().unwrap_or(0))
                    .collect();
                let rows: Vec<String> = cells
                    .chunks(cols)
                    .map(|row| {
                        let padded: Vec<String> = row
                            .iter()
                            .zip(&widths)
                            .enumerate()
                            .map(|(j, (c, &w))| match j + 1 == cols {
                                true => c.clone(),
                                false => format!("{c},{}", " ".repeat(w - c.len())),
                            })
                            .collect();
                        format!("[{}]", padded.join(" "))
                    })
                    .collect();
                let indent = format!(",\n{}", " ".repeat(name.len() + 4));
                format!("[{}]", rows.join(&indent))
            }
            _ => nested_text(shape, &cells),
        };
        s.push_str(&format!("{name} = {text}\n"));
    }
    s
}

/// The parameters as a JSON object, the shape --init and `eval --params` read: an array as
/// nested lists of its shape, a matrix one row a line.
fn params_json(formula: &chainrule::Formula, names: &[String], values: &[f64]) -> String {
    let number = |v: f64| crate::cli::json::number(v).to_string();
    let row =
        |vs: &[f64]| format!("[{}]", vs.iter().map(|&v| number(v)).collect::<Vec<_>>().join(", "));
    let entries: Vec<String> = grouped(formula, names)
        .into_iter()
        .map(|(name, shape, range)| {
            let vs = &values[range];
            let value = match shape {
                [] => number(vs[0]),
                [_] => row(vs),
                [_, cols] => {
                    let rows: Vec<String> =
                        vs.chunks(*cols).map(|r| format!("    {}", row(r))).collect();
                    format!("[\n{}\n  ]", rows.join(",\n"))
                }
                _ => unreachable!("arrays have at most two dimensions"),
            };
            format!("  {}: {value}", serde_json::Value::from(name))
        })
        .collect();
    format!("{{\n{}\n}}\n", entries.join(",\n"))
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
