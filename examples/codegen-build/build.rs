//! Generates `xor_loss`, the XOR network's loss and its gradient in the parameters, from
//! `examples/xor/model-scalar.expr`, into `$OUT_DIR/xor.rs`.

use chainrule::codegen::{generate, Lang, Options};
use chainrule::Formula;

const PARAMS: [&str; 17] = [
    "w1_1", "w1_2", "b1", "w2_1", "w2_2", "b2", "w3_1", "w3_2", "b3", "w4_1", "w4_2", "b4", "v1",
    "v2", "v3", "v4", "c",
];

fn main() {
    let model = "../xor/model-scalar.expr";
    println!("cargo::rerun-if-changed={model}");
    let source = std::fs::read_to_string(model).expect("the XOR model");
    let mut formula = Formula::parse(&source).unwrap_or_else(|e| panic!("{}", e.render(&source)));
    let options = Options::new(Lang::Rust).name("xor_loss").wrt(&PARAMS);
    let code = generate(&mut formula, &options).expect("Rust for the XOR loss");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("xor.rs");
    std::fs::write(out, code).unwrap();
}
