//! The `atlasbot` binary: hands over to `app::main` (parse the command line, start logging
//! and the runtime, run the command). The runtime is started inside the library so that its
//! code is compiled once, with the library, instead of again for this crate.

fn main() -> std::process::ExitCode {
    atlasbot::app::main()
}
