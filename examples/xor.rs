//! The XOR network trained through the library: the forward formula in (written with
//! arrays, `examples/xor/model.expr`), the backward pass derived symbolically, Adam on the
//! mean cross-entropy. `cargo run --example xor`.

use chainrule::eval::data::Table;
use chainrule::train::{self, Model, Optimizer, TrainOptions};
use chainrule::Formula;

fn main() {
    let model_text = include_str!("xor/model.expr");
    let mut model = Formula::parse(model_text).unwrap();
    let data = Table {
        names: vec!["x[1]".into(), "x[2]".into(), "y".into()],
        columns: vec![vec![0.0, 0.0, 1.0, 1.0], vec![0.0, 1.0, 0.0, 1.0], vec![0.0, 1.0, 1.0, 0.0]],
    };
    // the arrays W1, b1, v by name (each stands for its elements), and the scalar c
    let params = train::select_params(&model.var_names(), &["W1", "b1", "v", "c"]).unwrap();
    let start = train::initial_params(&model, &params, 0);
    let net = Model::new(&mut model, &params, &data).unwrap();
    let options = TrainOptions {
        lr: 0.1,
        epochs: 2000,
        batch_size: None,
        optimizer: Optimizer::adam(),
        seed: 0,
    };
    let trained = train::train(&net, &data, &start, &options, |epoch, loss| {
        if epoch % 500 == 0 {
            println!("epoch {epoch:>4}  loss {loss:.6}");
        }
    })
    .unwrap_or_else(|(_, diverged)| panic!("diverged: {diverged:?}"));

    // Predictions: the same program, with `out` as its result.
    let predict = Formula::parse(&format!("{model_text}\nout")).unwrap();
    let mut inputs: Vec<(String, f64)> =
        params.iter().cloned().zip(trained.params.iter().copied()).collect();
    for row in 0..4 {
        inputs.retain(|(n, _)| !data.names.contains(n));
        inputs.extend(data.names.iter().cloned().zip(data.columns.iter().map(|c| c[row])));
        let values: Vec<f64> =
            predict.vars().map(|v| inputs.iter().find(|(n, _)| *n == v.name).unwrap().1).collect();
        let out = predict.compile(&[predict.root()]).unwrap().run(&values, &mut Vec::new())[0];
        println!("{} xor {} = {:.4}", data.columns[0][row], data.columns[1][row], out);
    }
}
