//! The `chainrule` command: everything is in [`chainrule::cli`].

fn main() {
    std::process::exit(chainrule::cli::main());
}
