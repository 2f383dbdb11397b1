//! The `atlasbot` binary: parse the command line, start logging, hand over to `app::run`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = atlasbot::config::Cli::parse();
    atlasbot::app::init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    runtime.block_on(atlasbot::app::run(cli))
}
