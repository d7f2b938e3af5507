//! Any bytes into the parser, and whatever parses through differentiation, simplification,
//! printing and evaluation: an error is fine, a panic or a stack overflow is a finding. An
//! array result goes through its Jacobian and its printed nested list too (SPEC "Arrays");
//! the element limit is lowered so that each input stays quick (the limit itself is what
//! refuses a larger one, which the fuzzer explores as well).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let options = chainrule::ParseOptions { max_elements: 20_000, ..Default::default() };
    let Ok(mut f) = chainrule::Formula::parse_with(text, options) else { return };
    f.graph_mut().set_node_limit(200_000);
    let vars: Vec<String> = f.vars().map(|v| v.name.to_string()).collect();
    if !f.is_scalar() && f.outputs().len() <= 16 && vars.len() <= 16 {
        let outputs = f.outputs().to_vec();
        let short = outputs.iter().all(|&o| {
            chainrule::print::text_size(f.graph(), o) <= chainrule::check::MAX_TEXT
        });
        if short {
            let _ = f.result_text();
        }
        if let Ok(jacobian) = f.jacobian(&vars) {
            for &d in jacobian.iter().flatten() {
                if chainrule::print::text_size(f.graph(), d) <= chainrule::check::MAX_TEXT {
                    let _ = f.text(d);
                }
            }
        }
    }
    let Ok(gradient) = f.gradient(&vars) else { return };
    for &d in &gradient {
        // a shared DAG printed whole can be exponentially long: the command line refuses
        // such a text (`--cse` prints it), and so does this target
        if chainrule::print::text_size(f.graph(), d) <= chainrule::check::MAX_TEXT {
            let _ = f.text(d);
            let _ = f.latex(d);
        }
    }
    let mut roots = vec![f.root()];
    roots.extend(gradient);
    if let Ok(tape) = f.compile(&roots) {
        let point: Vec<f64> = (0..vars.len()).map(|i| 0.3 + 0.4 * i as f64).collect();
        let _ = tape.run(&point, &mut Vec::new());
        let _ = tape.first_nonfinite(&point);
    }
});
