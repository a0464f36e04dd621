//! The `postern` binary: parses the command line and hands over to `cli`.

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    postern::cli::main()
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side starts in `lib.rs` (`hydrate`); this binary needs `--features ssr`.
}
