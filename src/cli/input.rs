//! Reading what the command line names: the formula (string, `-`, or file), `--wrt`
//! lists and `--at` points.

use super::{Failure, InputArgs};
use chainrule::error::{Error, ErrorKind};
use chainrule::{Formula, ParseOptions};
use std::io::Read;
use std::time::{Duration, Instant};

/// The formula text the arguments name.
pub(crate) fn read_source(args: &InputArgs) -> Result<String, Failure> {
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
    Ok(parse_timed(args, &read_source(args)?)?.0)
}

/// How long parsing and lowering took.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timings {
    pub(crate) parse: Duration,
    pub(crate) lower: Duration,
}

/// [`read_formula`] of `source` (read by [`read_source`], so that `bench --repeat` parses
/// it again), timing parsing and lowering apart.
pub(crate) fn parse_timed(args: &InputArgs, source: &str) -> Result<(Formula, Timings), Failure> {
    let options = ParseOptions {
        max_depth: args.max_depth,
        max_bytes: args.max_bytes,
        max_elements: args.max_elements,
    };
    let mut timings = Timings::default();
    let start = Instant::now();
    let parsed = chainrule::syntax::parse_with(source, options).and_then(|program| {
        timings.parse = start.elapsed();
        let start = Instant::now();
        let formula = Formula::lower(source, &program, options);
        timings.lower = start.elapsed();
        formula
    });
    let mut formula = match (parsed, named_file(args)) {
        (Ok(formula), None) => formula,
        (Ok(formula), Some(path)) => {
            eprintln!("note: `{path}` is also a file; use -f {path} to read it");
            formula
        }
        (Err(e), Some(path)) => {
            let hint = format!("to read the formula from the file `{path}`, use -f {path}");
            return Err(Failure::from_error(&e.with_hint(hint), source));
        }
        (Err(e), None) => return Err(Failure::from_error(&e, source)),
    };
    formula.graph_mut().set_node_limit(args.node_limit);
    Ok((formula, timings))
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

/// Checks `--wrt` names (see [`check_vars`]) and gives the variables they mean: an array's
/// name stands for its elements, row by row.
pub(crate) fn check_wrt(formula: &Formula, wrt: &[String]) -> Result<Vec<String>, Failure> {
    let wrt = name_list(wrt);
    check_vars(formula, wrt.iter().map(String::as_str), "--wrt")?;
    Ok(formula.expand_names(&wrt))
}

/// A name as the formula spells it: `W[1, 2]` is `W[1,2]`.
/// The names of a comma-separated option (`--wrt W1[1,2],c`) as the formula spells them:
/// the option parser splits `W1[1,2]` at its comma, so pieces are joined again until their
/// brackets balance, and spaces are dropped.
pub(crate) fn name_list(pieces: &[String]) -> Vec<String> {
    if pieces.is_empty() {
        return Vec::new();
    }
    top_level_pieces(&pieces.join(",")).into_iter().map(normalize).collect()
}

pub(crate) fn normalize(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The values of `given` (from --at or a parameters file) for each variable, arrays given
/// whole checked against their declared shapes and spread over their elements.
pub(crate) fn check_at(formula: &Formula, given: &[Given]) -> Result<Vec<(String, f64)>, Failure> {
    check_vars(formula, given.iter().map(|g| g.name.as_str()), "--at")?;
    flatten(formula, given)
}

/// The --at point of `text`, checked against `formula` (see [`check_at`]).
pub(crate) fn read_point(formula: &Formula, text: &str) -> Result<Vec<(String, f64)>, Failure> {
    check_at(formula, &parse_point(text)?)
}

/// `given` one value per variable: an array declared in `formula` spread over its elements
/// (its shape checked), any other array over elements named by its own shape.
pub(crate) fn flatten(formula: &Formula, given: &[Given]) -> Result<Vec<(String, f64)>, Failure> {
    let mut point = Vec::new();
    for g in given {
        match formula.array(&g.name) {
            Some(array) if array.shape != g.shape => {
                return Err(usage(format!(
                    "`{}` is declared {} but given {}",
                    g.name,
                    chainrule::graph::lower::shape_text(&array.shape),
                    chainrule::graph::lower::describe(&g.shape)
                )))
            }
            Some(array) => point.extend(
                formula.expand_names(&[&array.name]).into_iter().zip(g.values.iter().copied()),
            ),
            None if !g.shape.is_empty() && formula.position(&g.name).is_some() => {
                return Err(usage(format!(
                    "`{}` is a scalar but is given {}",
                    g.name,
                    chainrule::graph::lower::describe(&g.shape)
                )))
            }
            None => point.extend(g.values.iter().enumerate().map(|(k, &v)| {
                (chainrule::graph::lower::element_name(&g.name, &g.shape, k).into(), v)
            })),
        }
    }
    Ok(point)
}

/// Checks names the command line gives for variables (in `option`): each must be a variable
/// of the formula (an array, or one element `W[1,2]`), a name its text uses and does not
/// assign, so that a slip is an error rather than a silent derivative of 0 or an ignored
/// value.
pub(crate) fn check_vars<'a>(
    formula: &Formula,
    names: impl IntoIterator<Item = &'a str>,
    option: &str,
) -> Result<(), Failure> {
    let names_of_vars = formula.names();
    let vars = if names_of_vars.is_empty() {
        "the formula has no variables".to_string()
    } else {
        format!("its variables are: {}", names_of_vars.join(", "))
    };
    for name in names {
        if formula.array(name).is_some() || formula.position(name).is_some() {
            continue;
        }
        let base = name.split('[').next().unwrap_or(name);
        let valid = base.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || name == "pi" || name == "e" {
            return Err(usage(format!("`{name}` in {option} is not a variable name")));
        }
        if formula.assigned().iter().any(|a| a == name) {
            return Err(usage(format!(
                "`{name}` in {option} is defined in the program, not a variable; {vars}"
            )));
        }
        let message = format!("`{name}` in {option} is not a variable of the formula; {vars}");
        let error = Error::new(ErrorKind::Usage(message));
        let error = match chainrule::error::closest(name, names_of_vars.iter().map(String::as_str))
        {
            Some(best) => error.with_hint(format!("did you mean `{best}`?")),
            None => error,
        };
        return Err(Failure::from_error(&error, ""));
    }
    Ok(())
}

/// A value the command line gives a name: a number, or an array (`[1, 2]`,
/// `[[1, 2], [3, 4]]`) with its shape and elements row by row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Given {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) values: Vec<f64>,
}

/// Parses `x=1.5,y=-2,v=[1,2],W=[[1,2],[3,4]]`.
pub(crate) fn parse_point(text: &str) -> Result<Vec<Given>, Failure> {
    top_level_pieces(text)
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| usage(format!("--at takes name=value pairs, got `{pair}`")))?;
            let name = normalize(name);
            let json: serde_json::Value = serde_json::from_str(value.trim()).map_err(|_| {
                usage(format!(
                    "--at: `{}` is not a number or an array of numbers (for `{name}`)",
                    value.trim()
                ))
            })?;
            given(&name, &json).map_err(|what| usage(format!("--at: `{name}`: {what}")))
        })
        .collect()
}

/// `text` split at the commas outside brackets (`x=[1,2],y=3`, `W[1,2],c`).
fn top_level_pieces(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut pieces) = (0i32, 0, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth <= 0 => {
                pieces.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// A JSON number or nested list of numbers (`"NaN"`, `"inf"`, `"-inf"` allowed) as a
/// [`Given`]; rows of a matrix must have one length.
fn given(name: &str, value: &serde_json::Value) -> Result<Given, String> {
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    };
    let row = |v: &serde_json::Value| -> Option<Vec<f64>> {
        v.as_array()?.iter().map(scalar).collect::<Option<Vec<f64>>>().filter(|r| !r.is_empty())
    };
    let name = name.to_string();
    if let Some(x) = scalar(value) {
        return Ok(Given { name, shape: Vec::new(), values: vec![x] });
    }
    if let Some(r) = row(value) {
        return Ok(Given { name, shape: vec![r.len()], values: r });
    }
    let rows: Option<Vec<Vec<f64>>> = value.as_array().and_then(|rs| rs.iter().map(row).collect());
    match rows {
        Some(rows) if !rows.is_empty() && rows.iter().all(|r| r.len() == rows[0].len()) => {
            Ok(Given { name, shape: vec![rows.len(), rows[0].len()], values: rows.concat() })
        }
        _ => Err("not a number, a list of numbers, or a list of rows of one length".into()),
    }
}

/// Reads a JSON object of parameter values (`{"w": 0.5, "W": [[1, 2], [3, 4]], ...}`), as
/// `train --save` writes it.
pub(crate) fn read_params(path: &std::path::Path) -> Result<Vec<Given>, Failure> {
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
            given(name, v).map_err(|what| io(format!("{}: `{name}`: {what}", path.display())))
        })
        .collect()
}

/// Refuses a formula whose result is an array, for `command`, which needs a scalar.
pub(crate) fn scalar_result(formula: &Formula, command: &str) -> Result<(), Failure> {
    if formula.is_scalar() {
        return Ok(());
    }
    let message = format!(
        "`{command}` needs a scalar result; this formula's result is {}",
        chainrule::graph::lower::describe(formula.shape())
    );
    let hint = "reduce it (`sum(...)`, a loss), or pick one element (`out[1]`)";
    Err(Failure::from_error(&Error::new(ErrorKind::Usage(message)).with_hint(hint), ""))
}
