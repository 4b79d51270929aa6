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
    // A closed standard output (`sporvern assess … | head`) ends the command quietly, as it
    // ends any Unix tool: the print macros panic on it, so that one panic is caught here,
    // for every command, and not reported.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !closed_stdout(info.payload()) {
            report(info);
        }
    }));
    match std::panic::catch_unwind(|| cli::run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) if e.chain().any(is_broken_pipe) => ExitCode::from(141),
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(panic) if closed_stdout(panic.as_ref()) => ExitCode::from(141),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Exit status 141 = 128 + SIGPIPE, what a tool killed by the closed pipe reports.
fn closed_stdout(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    text.starts_with("failed printing to stdout") && text.contains("Broken pipe")
}

fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
