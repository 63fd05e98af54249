//! citytwin: thin entry point; everything lives in the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match citytwin::cli::main_with(citytwin::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("citytwin: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
