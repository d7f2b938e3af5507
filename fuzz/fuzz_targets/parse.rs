//! Any bytes into the parser, and whatever parses through differentiation, simplification,
//! printing and evaluation: an error is fine, a panic or a stack overflow is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut f) = chainrule::Formula::parse(text) else { return };
    f.graph.set_node_limit(200_000);
    let vars = f.vars.clone();
    let Ok(gradient) = f.gradient(&vars) else { return };
    for &d in &gradient {
        let _ = f.text(d);
        let _ = chainrule::print::latex(&f.graph, d);
    }
    let mut roots = vec![f.root];
    roots.extend(gradient);
    if let Ok(tape) = chainrule::eval::compile(&f.graph, &roots, &vars) {
        let point: Vec<f64> = (0..vars.len()).map(|i| 0.3 + 0.4 * i as f64).collect();
        let _ = tape.run(&point, &mut Vec::new());
        let _ = tape.first_nonfinite(&point);
    }
});
