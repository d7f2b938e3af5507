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
