//! citytwin: thin entry point; everything lives in the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match citytwin::cli::main_with(citytwin::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("citytwin: {}", citytwin::cli::error_text(&e));
            // Usage problems (no display to open a window on) are code 2.
            if e.downcast_ref::<citytwin::cli::NoDisplay>().is_some() {
                std::process::ExitCode::from(2)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
