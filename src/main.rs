//! The `atlasbot` binary: hands over to `app::main` (parse the command line, start logging
//! and the runtime, run the command). The runtime is started inside the library so that its
//! code is compiled once, with the library, instead of again for this crate.

fn main() -> std::process::ExitCode {
    atlasbot::app::main()
}

// mimalloc rather than the system allocator: an answer is many small strings built and freed
// at once, and with glibc's malloc the Discord endpoint spent a fifth of its time allocating
// (full `/actor` answers 4 700 → 7 100/s, BENCHMARKS.md). Only the binary: tests keep the
// system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
