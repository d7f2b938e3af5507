//! The XOR network's loss and gradient, generated at build time (see `build.rs`), at one
//! point: the same numbers as
//! `chainrule eval -f examples/xor/model-scalar.expr --at ... --grad`.

include!(concat!(env!("OUT_DIR"), "/xor.rs"));

fn main() {
    // The inputs in the formula's order of first appearance (the header of xor.rs lists it):
    // w1_1, x1, w1_2, x2, b1, w2_1, w2_2, b2, w3_1, w3_2, b3, w4_1, w4_2, b4, v1..v4, c, y.
    let mut input = [0.0; 20];
    for (k, v) in input.iter_mut().enumerate() {
        *v = ((k as f64) * 0.7).sin() * 0.5;
    }
    (input[1], input[3], input[19]) = (1.0, 0.0, 1.0); // x1 = 1, x2 = 0, y = 1
    let mut grad = [0.0; 17];
    let loss = xor_loss(&input, &mut grad);
    println!("loss = {loss}");
    println!("d/dw1_1 = {}", grad[0]);
    println!("d/dc = {}", grad[16]);
}
