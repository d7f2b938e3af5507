//! Reading what the command line names: the formula (string, `-`, or file), `--wrt`
//! lists and `--at` points.

use super::{Failure, InputArgs};
use chainrule::error::{Error, ErrorKind};
use chainrule::{Formula, ParseOptions};
use std::io::Read;

/// The formula text the arguments name.
fn read_source(args: &InputArgs) -> Result<String, Failure> {
    let io_failure = |what: String| Failure::from_error(&Error::new(ErrorKind::Io(what)), "");
    match (&args.file, args.expr.as_deref()) {
        (Some(path), _) => std::fs::read_to_string(path)
            .map_err(|e| io_failure(format!("cannot read {}: {e}", path.display()))),
        (None, Some("-")) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| io_failure(format!("cannot read standard input: {e}")))?;
            Ok(s)
        }
        (None, Some(expr)) => Ok(expr.to_string()),
        (None, None) => Err(usage("give a formula, `-` for standard input, or -f PATH")),
    }
}

/// Reads and parses the formula, with the limits the arguments set. A file is read only
/// with `-f`: a formula argument that also names a file gets a hint (when it does not parse)
/// or a note (when it does), never a silent switch of meaning.
pub(crate) fn read_formula(args: &InputArgs) -> Result<Formula, Failure> {
    let source = read_source(args)?;
    let options = ParseOptions { max_depth: args.max_depth, max_bytes: args.max_bytes };
    let parsed = Formula::parse_with(&source, options);
    let mut formula = match (parsed, named_file(args)) {
        (Ok(formula), None) => formula,
        (Ok(formula), Some(path)) => {
            eprintln!("note: `{path}` is also a file; use -f {path} to read it");
            formula
        }
        (Err(e), Some(path)) => {
            let hint = format!("to read the formula from the file `{path}`, use -f {path}");
            return Err(Failure::from_error(&e.with_hint(hint), &source));
        }
        (Err(e), None) => return Err(Failure::from_error(&e, &source)),
    };
    formula.graph_mut().set_node_limit(args.node_limit);
    Ok(formula)
}

/// The positional formula argument when it names an existing file.
fn named_file(args: &InputArgs) -> Option<&str> {
    let text = args.expr.as_deref().filter(|t| *t != "-" && !t.contains('\n'))?;
    std::path::Path::new(text).is_file().then_some(text)
}

/// A usage failure (exit status 2) with `message`.
pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure::from_error(&Error::new(ErrorKind::Usage(message.into())), "")
}

/// A failure from a library error about `formula`.
pub(crate) fn failure(formula: &Formula, error: Error) -> Failure {
    Failure::from_error(&error, formula.source())
}

/// Checks `--wrt` names (see [`check_vars`]).
pub(crate) fn check_wrt(formula: &Formula, wrt: &[String]) -> Result<(), Failure> {
    check_vars(formula, wrt.iter().map(String::as_str), "--wrt")
}

/// Checks `--at` names (see [`check_vars`]).
pub(crate) fn check_at(formula: &Formula, point: &[(String, f64)]) -> Result<(), Failure> {
    check_vars(formula, point.iter().map(|(name, _)| name.as_str()), "--at")
}

/// Checks names the command line gives for variables (in `option`): each must be a variable
/// of the formula, a name its text uses and does not assign, so that a slip is an error
/// rather than a silent derivative of 0 or an ignored value.
pub(crate) fn check_vars<'a>(
    formula: &Formula,
    names: impl IntoIterator<Item = &'a str>,
    option: &str,
) -> Result<(), Failure> {
    let names_of_vars = formula.var_names();
    let vars = if names_of_vars.is_empty() {
        "the formula has no variables".to_string()
    } else {
        format!("its variables are: {}", names_of_vars.join(", "))
    };
    for name in names {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || name == "pi" || name == "e" {
            return Err(usage(format!("`{name}` in {option} is not a variable name")));
        }
        if formula.assigned().iter().any(|a| a == name) {
            return Err(usage(format!(
                "`{name}` in {option} is defined in the program, not a variable; {vars}"
            )));
        }
        if formula.position(name).is_none() {
            let message = format!("`{name}` in {option} is not a variable of the formula; {vars}");
            let error = Error::new(ErrorKind::Usage(message));
            let error = match chainrule::error::closest(name, names_of_vars.iter().copied()) {
                Some(best) => error.with_hint(format!("did you mean `{best}`?")),
                None => error,
            };
            return Err(Failure::from_error(&error, ""));
        }
    }
    Ok(())
}

/// Parses `x=1.5,y=-2` into (name, value) pairs.
pub(crate) fn parse_point(text: &str) -> Result<Vec<(String, f64)>, Failure> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| usage(format!("--at takes name=value pairs, got `{pair}`")))?;
            let value: f64 = value.trim().parse().map_err(|_| {
                usage(format!("--at: `{}` is not a number (for `{}`)", value.trim(), name.trim()))
            })?;
            Ok((name.trim().to_string(), value))
        })
        .collect()
}

/// Reads a JSON object of parameter values (`{"w": 0.5, ...}`), as `train --save` writes it.
pub(crate) fn read_params(path: &std::path::Path) -> Result<Vec<(String, f64)>, Failure> {
    let io = |what: String| Failure::from_error(&Error::new(ErrorKind::Io(what)), "");
    let text = std::fs::read_to_string(path)
        .map_err(|e| io(format!("cannot read {}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| io(format!("{} is not JSON: {e}", path.display())))?;
    let object = value
        .as_object()
        .ok_or_else(|| io(format!("{} is not a JSON object of numbers", path.display())))?;
    object
        .iter()
        .map(|(name, v)| {
            let number = match v {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => match s.as_str() {
                    "NaN" => Some(f64::NAN),
                    "inf" => Some(f64::INFINITY),
                    "-inf" => Some(f64::NEG_INFINITY),
                    _ => None,
                },
                _ => None,
            };
            number
                .map(|x| (name.clone(), x))
                .ok_or_else(|| io(format!("{}: `{name}` is not a number", path.display())))
        })
        .collect()
}
