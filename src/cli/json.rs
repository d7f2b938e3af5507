//! The JSON shapes of SPEC.md. Numbers that are not finite are written as the strings
//! `"NaN"`, `"inf"` and `"-inf"`.

use serde_json::{Map, Value};

/// A number as SPEC.md writes it.
pub(crate) fn number(v: f64) -> Value {
    if v.is_nan() {
        Value::from("NaN")
    } else if v.is_infinite() {
        Value::from(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        Value::from(v)
    }
}

/// `{"name": value, ...}` in the given order.
pub(crate) fn object<V: Into<Value>>(entries: impl IntoIterator<Item = (String, V)>) -> Value {
    Value::Object(entries.into_iter().map(|(k, v)| (k, v.into())).collect::<Map<_, _>>())
}

/// `items` (row by row) as nested lists of `shape`; a scalar's one item as itself.
pub(crate) fn nest(shape: &[usize], items: Vec<Value>) -> Value {
    match shape {
        [] => items.into_iter().next().unwrap_or(Value::Null),
        [_] => Value::Array(items),
        [_, rest @ ..] => {
            let inner: usize = rest.iter().product();
            let mut items = items.into_iter();
            let rows = (0..items.len() / inner.max(1))
                .map(|_| nest(rest, items.by_ref().take(inner).collect()))
                .collect();
            Value::Array(rows)
        }
    }
}

/// `values` (one per variable of `wrt`, in order) grouped under the names the user gave:
/// an array's elements as a nested list of its shape (`{"W": [[..], [..]], "c": ..}`).
pub(crate) fn by_name(formula: &chainrule::Formula, names: &[String], values: Vec<Value>) -> Value {
    let mut values = values.into_iter();
    let entries = names.iter().map(|name| {
        let shape = formula.shape_of(name);
        let count = shape.iter().product::<usize>();
        (name.clone(), nest(shape, values.by_ref().take(count).collect()))
    });
    object(entries.collect::<Vec<_>>())
}

/// `values` of a Jacobian (row by row of the result, then one per variable of `wrt`) as
/// `{"x": <the result's shape, then x's shape>}`.
pub(crate) fn jacobian(
    formula: &chainrule::Formula,
    names: &[String],
    values: Vec<Value>,
) -> Value {
    let per_row = values.len() / formula.outputs().len().max(1);
    let rows: Vec<Vec<Value>> = values.chunks(per_row.max(1)).map(<[Value]>::to_vec).collect();
    let mut offset = 0;
    let entries = names.iter().map(|name| {
        let shape = formula.shape_of(name);
        let count = shape.iter().product::<usize>();
        let cells: Vec<Value> =
            rows.iter().flat_map(|row| row[offset..offset + count].iter().cloned()).collect();
        offset += count;
        let mut full = formula.shape().to_vec();
        full.extend(shape);
        (name.clone(), nest(&full, cells))
    });
    object(entries.collect::<Vec<_>>())
}
