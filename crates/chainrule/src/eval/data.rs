//! Data sets: CSV rows whose header names the variables. A column named `x[2]` binds
//! element 2 of the array `x`, `"W[1,2]"` (quoted, for the comma) element (1, 2) of `W`.

use crate::error::{Error, ErrorKind, Result};
use crate::graph::lower::{element_name, shape_text};
use crate::Formula;
use std::path::Path;

/// Columns of numbers, by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names, from the header.
    pub names: Vec<String>,
    /// One vector per column.
    pub columns: Vec<Vec<f64>>,
}

impl Table {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names.iter().position(|n| n == name).map(|i| self.columns[i].as_slice())
    }
}

/// Reads a CSV file with a header row; every other cell must be a number. Spaces inside an
/// element's subscripts are dropped (`W[1, 2]` is the column `W[1,2]`).
pub fn read_csv(path: &Path) -> Result<Table> {
    let data = |msg: String| Error::new(ErrorKind::Io(msg));
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| data(format!("cannot read {}: {e}", path.display())))?;
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| data(format!("{}: {e}", path.display())))?
        .iter()
        .map(column_name)
        .collect();
    let mut columns = vec![Vec::new(); names.len()];
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| data(format!("{}: {e}", path.display())))?;
        for (j, cell) in record.iter().enumerate() {
            let value: f64 = cell.parse().map_err(|_| {
                data(format!(
                    "{}: row {}, column `{}`: `{cell}` is not a number",
                    path.display(),
                    i + 1,
                    names[j]
                ))
            })?;
            columns[j].push(value);
        }
    }
    Ok(Table { names, columns })
}

/// A header cell as the variable it names: `W[1, 2]` is `W[1,2]`.
fn column_name(cell: &str) -> String {
    match cell.split_once('[') {
        Some((array, rest)) => {
            let subscripts: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
            format!("{}[{subscripts}", array.trim_end())
        }
        None => cell.to_string(),
    }
}

/// Checks that every column of `table` names a variable of `formula` (one element of an
/// array variable, `x[2]`, or a scalar); the error names the variables, and for a column
/// that names an array or an element out of its shape, the elements' columns. `what` is
/// what the message calls the formula (`the model`).
pub fn check_columns(table: &Table, formula: &Formula, what: &str) -> Result<()> {
    let Some(stray) = table.names.iter().find(|n| formula.position(n).is_none()) else {
        return Ok(());
    };
    let base = stray.split_once('[').map_or(stray.as_str(), |(array, _)| array);
    let message = match formula.array(base) {
        Some(array) => {
            let count = array.elements.len();
            let columns = match count {
                0..=4 => (0..count)
                    .map(|k| element_name(&array.name, &array.shape, k))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => format!(
                    "{} ... {}",
                    element_name(&array.name, &array.shape, 0),
                    element_name(&array.name, &array.shape, count - 1)
                ),
            };
            let declared = shape_text(&array.shape);
            match stray == base {
                true => format!(
                    "the data column `{stray}` names the array `{base}` (declared {declared}); \
                     a column binds one element: {columns}"
                ),
                false => format!(
                    "the data column `{stray}` names no element of `{base}` (declared \
                     {declared}); its elements' columns are {columns}"
                ),
            }
        }
        None => format!(
            "the data column `{stray}` names no variable of {what} (its variables: {})",
            formula.names().join(", ")
        ),
    };
    Err(Error::new(ErrorKind::Usage(message)))
}
