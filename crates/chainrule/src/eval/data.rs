//! Data sets: CSV rows whose header names the variables.

use crate::error::{Error, ErrorKind, Result};
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

/// Reads a CSV file with a header row; every other cell must be a number.
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
        .map(str::to_string)
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
