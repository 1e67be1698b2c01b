//! `support-access`: the command-line front end of support-access-core. Its state is the
//! tamper-evident record itself, in a store (a JSON Lines file, or PostgreSQL shared by many
//! writers: support-access-store); see `support-access --help`.

mod apply;
mod args;
mod checkpoints;
mod demo;
mod fail;
mod open;
mod parse;
mod run;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    #[cfg(unix)]
    // SAFETY: restores the default SIGPIPE action before any thread exists, so `… | head`
    // ends the process quietly instead of panicking on a closed stdout.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = args::Cli::parse(); // clap exits 2 on a usage error, 0 for --help/--version
    let ui = ui::Ui::detect();
    match run::run(&cli, &ui) {
        Ok(code) => ExitCode::from(code),
        Err(fail) => {
            fail.print(cli.global.json);
            ExitCode::from(fail.exit)
        }
    }
}
