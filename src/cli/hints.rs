//! The command line's own hints: the library's errors name no flags, so the kinds of error
//! that a flag of this program can get past receive a hint here that names it.

use chainrule::error::{Error, ErrorKind};

/// `error` with the hint the command line gives for its kind, where it has one.
pub(crate) fn with_flags(error: &Error) -> Error {
    let mut error = error.clone();
    if let Some(hint) = flag_hint(&error) {
        error.hint = Some(hint);
    }
    error
}

fn flag_hint(error: &Error) -> Option<String> {
    Some(match &error.kind {
        ErrorKind::TooDeep { .. } => {
            "simplify the nesting, or raise the limit (--max-depth on the \
                                      command line, ParseOptions::max_depth in the library)"
                .into()
        }
        ErrorKind::TooLarge { .. } => "raise the limit with --max-bytes on the command line, \
                                       ParseOptions::max_bytes in the library"
            .into(),
        // Differentiation suggests a lower order; the simplifier's error has no hint.
        ErrorKind::TooManyNodes { .. } if error.hint.is_some() => {
            "lower --order or simplify the formula, or raise the limit with --node-limit".into()
        }
        ErrorKind::TextTooLarge { .. } => "print it with --cse, which names shared \
                                           subexpressions once (text in proportion to the graph)"
            .into(),
        ErrorKind::Unbound(name) if error.hint.is_none() => {
            format!("give it a value, e.g. --at {name}=1")
        }
        _ => return None,
    })
}
