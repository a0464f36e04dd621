//! The `postern` binary: parses the command line and hands over to `cli`.

/// mimalloc instead of glibc's malloc: per-thread free lists for the many
/// small allocations each request makes and frees on a worker thread
/// (README.md, Performance: what it measured).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    postern::cli::main()
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side starts in `lib.rs` (`hydrate`); this binary needs `--features ssr`.
}
