//! The `sporvern` command: a thin layer over the library crates. Errors become a message on
//! stderr and a non-zero exit code here, and nowhere else.

mod cli;
mod demo;
mod drivinglog;
mod register;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    cli::init_logging(&cli.log);
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
