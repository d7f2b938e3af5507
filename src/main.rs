//! The `chainrule` command line, on top of the `chainrule` library: clap definitions,
//! one file per subcommand, and errors to exit statuses.

mod cli;

/// mimalloc rather than the system allocator: the graph, the simplifier and the tape
/// compiler allocate many small and large blocks, and mimalloc reuses freed pages where
/// glibc returns them to the kernel and faults them in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
