#![doc = include_str!("../../../README.md")]
#![warn(missing_docs)]

// pest is built without its `std` feature (see `syntax::grammar`), and its derived parser
// then names `::alloc`.
extern crate alloc;

pub mod check;
pub mod codegen;
pub mod diff;
pub mod error;
pub mod eval;
pub mod formula;
pub mod graph;
pub mod operators;
pub mod print;
pub mod request;
pub mod simplify;
pub mod syntax;
pub mod testing;
pub mod train;
pub mod verify;

pub use error::{Error, ErrorKind, Result, Span};
pub use formula::Formula;
pub use graph::{Graph, NodeId, VarId, Variable};
pub use request::{Derived, Request, Simplify};
pub use syntax::ParseOptions;
