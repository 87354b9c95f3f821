//! Runs an example's work on a thread with a 64 MB stack and exits with its code.
//!
//! Why: a training workspace holds a whole batch's forward tape and is built by value
//! (`Workspace::zeros()`), so a debug build keeps temporary copies of it on the stack; with a
//! 1.1 MB workspace a debug build overflows a 2 MB stack (Rust's default for spawned threads;
//! Windows' main thread has only 1 MB). Boxing does not help, as the value is built on the stack
//! first. Untouched stack pages cost no memory.

use std::error::Error;

/// The examples' result type.
pub type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Runs `work` on a thread named `name` with a 64 MB stack; exits with its code (1 on an error,
/// 101 if it panicked).
pub fn run_and_exit(name: &str, work: impl FnOnce() -> Res<i32> + Send + 'static) -> ! {
    let worker = std::thread::Builder::new()
        .name(name.into())
        .stack_size(64 << 20)
        .spawn(work);
    let code = match worker.map(|h| h.join()) {
        Ok(Ok(Ok(code))) => code,
        Ok(Ok(Err(e))) => {
            eprintln!("error: {e}");
            1
        }
        Ok(Err(_)) => 101, // the worker panicked; its message is already printed
        Err(e) => {
            eprintln!("error: cannot spawn the worker thread: {e}");
            1
        }
    };
    std::process::exit(code)
}
