//! One file per subcommand: read input, call the library, print.

pub(crate) mod bench;
pub(crate) mod check;
pub(crate) mod codegen;
pub(crate) mod diff;
pub(crate) mod eval;
pub(crate) mod graph;
pub(crate) mod hessian;
pub(crate) mod trace;
pub(crate) mod train;
pub(crate) mod verify;
