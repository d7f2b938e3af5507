//! Any bytes into the parser, and whatever parses through differentiation, simplification,
//! printing and evaluation: an error is fine, a panic or a stack overflow is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut f) = chainrule::Formula::parse(text) else { return };
    f.graph_mut().set_node_limit(200_000);
    let vars: Vec<String> = f.vars().map(|v| v.name.clone()).collect();
    let Ok(gradient) = f.gradient(&vars) else { return };
    for &d in &gradient {
        let _ = f.text(d);
        let _ = f.latex(d);
    }
    let mut roots = vec![f.root()];
    roots.extend(gradient);
    if let Ok(tape) = f.compile(&roots) {
        let point: Vec<f64> = (0..vars.len()).map(|i| 0.3 + 0.4 * i as f64).collect();
        let _ = tape.run(&point, &mut Vec::new());
        let _ = tape.first_nonfinite(&point);
    }
});
