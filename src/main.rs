//! The `chainrule` command line, on top of the `chainrule` library: clap definitions,
//! one file per subcommand, and errors to exit statuses.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
