//! Draws a formula and its gradient as SVG and renders it to PNG with resvg, to look at:
//! `cargo run --example render_graph -- FILE_OR_FORMULA w,b out.png`.
//! (The README's picture of the XOR net's gradient comes from this.)

use chainrule::Formula;

fn main() {
    let mut args = std::env::args().skip(1);
    let source = args.next().expect("a formula or a file");
    let wrt: Vec<String> =
        args.next().map(|w| w.split(',').map(str::to_string).collect()).unwrap_or_default();
    let png = args.next().unwrap_or_else(|| "graph.png".into());
    let text = std::fs::read_to_string(&source).unwrap_or(source);
    let mut f = Formula::parse(&text).unwrap_or_else(|e| panic!("{}", e.render(&text)));
    let view = f.graph_view(&wrt, 1).unwrap();
    let svg = view.svg(f.graph());
    std::fs::write(std::path::Path::new(&png).with_extension("svg"), &svg).unwrap();
    let mut options = resvg::usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_system_fonts();
    // layout-rs asks for "Times, serif"; use whatever serif face the machine has.
    let serif = fonts
        .faces()
        .find(|f| f.families.iter().any(|(n, _)| n.contains("Serif")))
        .map(|f| f.families[0].0.clone());
    if let Some(family) = serif {
        fonts.set_serif_family(family);
    }
    let tree = resvg::usvg::Tree::from_str(&svg, &options).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.save_png(&png).unwrap();
    println!("{} nodes, {}x{} pixels: {png}", view.len(), size.width(), size.height());
}
