//! One file per subcommand: read input, call the library, print.

pub(crate) mod diff;
pub(crate) mod eval;
