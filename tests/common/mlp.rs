//! The d-h-1 sigmoid network with a bce loss in its two spellings: scalar, exactly as
//! `../shared/bench/gen_families.py` writes its `mlp` family (`w_i_j`, `h_j`, `b_j`, `v_j`,
//! `c`), and with arrays in three lines. `W1[j, i]` is `w_i_j`. Shared by the tests and
//! `benches/arrays.rs`.

/// The scalar spelling of gen_families.py, with the variables of its gradient (`wrt`).
pub fn scalar(d: usize, hidden: usize) -> (String, Vec<String>) {
    let mut lines = vec![
        format!("# mlp d={d} hidden={hidden}: 2-layer sigmoid network, scalar form, bce loss"),
        "# inputs x1..xd and label y are data; gradient w.r.t. w_i_j, b_j, v_j, c".to_string(),
    ];
    let mut wrt = Vec::new();
    for j in 1..=hidden {
        let s: Vec<String> = (1..=d).map(|i| format!("w_{i}_{j}*x{i}")).collect();
        lines.push(format!("h_{j} = sigmoid({} + b_{j})", s.join(" + ")));
        wrt.extend((1..=d).map(|i| format!("w_{i}_{j}")));
        wrt.push(format!("b_{j}"));
    }
    let s: Vec<String> = (1..=hidden).map(|j| format!("v_{j}*h_{j}")).collect();
    lines.push(format!("out = sigmoid({} + c)", s.join(" + ")));
    lines.push("loss = bce(out, y)".to_string());
    wrt.extend((1..=hidden).map(|j| format!("v_{j}")));
    wrt.push("c".to_string());
    (lines.join("\n") + "\n", wrt)
}

/// The same network with arrays, and the variables of its gradient.
pub fn arrays(d: usize, hidden: usize) -> (String, Vec<String>) {
    let src = format!(
        "W1: [{hidden}, {d}]; b1: [{hidden}]; v: [{hidden}]; x: [{d}]\n\
         h = sigmoid(W1 @ x + b1)\n\
         out = sigmoid(dot(v, h) + c)\n\
         loss = bce(out, y)\n"
    );
    (src, ["W1", "b1", "v", "c"].map(String::from).to_vec())
}

/// The value of each scalar-spelling variable for the array spelling's variable `name`
/// (`W1[j,i]` is `w_i_j`, `b1[j]` is `b_j`, `x[i]` is `xi`, `v[j]` is `v_j`).
#[allow(dead_code)]
pub fn scalar_name(name: &str) -> String {
    let Some((base, rest)) = name.split_once('[') else { return name.to_string() };
    let idx: Vec<&str> = rest.trim_end_matches(']').split(',').collect();
    match (base, idx.as_slice()) {
        ("W1", [j, i]) => format!("w_{i}_{j}"),
        ("b1", [j]) => format!("b_{j}"),
        ("v", [j]) => format!("v_{j}"),
        ("x", [i]) => format!("x{i}"),
        _ => panic!("no scalar spelling of {name}"),
    }
}
