//! The pest parser generated from `grammar/chainrule.pest`.
#![allow(missing_docs)]

#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/chainrule.pest"]
pub struct FormulaParser;
