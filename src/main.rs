use std::process::ExitCode;

use clap::Parser;
use fleet::app;
use fleet::cli::Cli;

// glibc's malloc took a fifth of plan's CPU (bench/); mimalloc cuts it. It is
// built without transparent huge pages (`no_thp`): with them every 2 MiB the
// heap touched was resident, 17 MiB more at 10,000 targets (docs/benchmark.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of mimalloc.h, which libmimalloc-sys does not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Memory freed goes back to the system at once, not a second later:
    // a plan frees as fast as it allocates, and the delay kept 4 to 6 MiB
    // more resident at 10,000 targets, for no CPU difference measured.
    // SAFETY: mi_option_set stores one integer option; no other thread runs yet.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    let outcome = Cli::try_parse()
        .map_err(app::Error::from)
        .and_then(app::run_to_end);
    app::print_failure(&outcome);
    ExitCode::from(app::exit_code(&outcome))
}
