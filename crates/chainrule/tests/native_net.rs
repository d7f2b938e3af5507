//! A small network with a bce loss, whose sigmoids native code writes out (two in the
//! lanes of a vector) and places before the softplus call of the loss: the interpreter's
//! bits at every point, the edges of sigmoid's and softplus's ranges included.
#![cfg(feature = "native")]

use chainrule::eval;
use chainrule::Formula;

const NET: &str = "h_1 = sigmoid(w_1_1*x1 + w_2_1*x2 + b_1)
h_2 = sigmoid(w_1_2*x1 + w_2_2*x2 + b_2)
h_3 = sigmoid(w_1_3*x1 + w_2_3*x2 + b_3)
out = sigmoid(v_1*h_1 + v_2*h_2 + v_3*h_3 + c)
bce(out, y)";

/// Zeros, where e^-|x| is subnormal or zero, infinities and NaN, and ordinary values.
const EDGES: [f64; 14] = [
    0.0,
    -0.0,
    0.5,
    -1.5,
    3.0,
    -36.7,
    40.0,
    -708.0,
    745.2,
    -800.0,
    1e300,
    f64::INFINITY,
    -f64::INFINITY,
    f64::NAN,
];

#[test]
fn a_net_with_its_loss_gives_the_interpreters_bits() {
    let mut f = Formula::parse(NET).unwrap();
    let names: Vec<String> = f.var_names().iter().map(|s| s.to_string()).collect();
    let params: Vec<&String> =
        names.iter().filter(|n| *n != "x1" && *n != "x2" && *n != "y").collect();
    let tape = f.gradient_tape(&params).unwrap();
    let native = eval::compile_native(&tape).unwrap();
    let mut out = vec![0.0; tape.outputs()];
    let bits = |v: &[f64]| -> Vec<u64> {
        v.iter().map(|x| if x.is_nan() { u64::MAX } else { x.to_bits() }).collect()
    };
    for shift in 0..EDGES.len() * EDGES.len() {
        let values: Vec<f64> = (0..names.len())
            .map(|i| {
                EDGES[(shift + i * (1 + shift / EDGES.len())) % EDGES.len()]
                    * 0.1f64.powi(i as i32 % 3)
            })
            .collect();
        native.run_into(&values, &mut out);
        let want = tape.run(&values, &mut Vec::new());
        assert_eq!(bits(&out), bits(&want), "at {values:?}");
    }
}
