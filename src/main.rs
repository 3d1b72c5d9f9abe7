use std::process::ExitCode;

use clap::Parser;
use fleet::app;
use fleet::cli::Cli;
// glibc's malloc took a fifth of plan's CPU (bench/); mimalloc cuts it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let outcome = Cli::try_parse()
        .map_err(app::Error::from)
        .and_then(app::run_to_end);
    app::print_failure(&outcome);
    ExitCode::from(app::exit_code(&outcome))
}
