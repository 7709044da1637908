//! The `kvdiag` binary: parse the command line, run it, map the outcome to an exit code.
//!
//! Everything else lives in the library so tests can drive it without a process.

fn main() {
    std::process::exit(kvdiag::cli::main());
}
