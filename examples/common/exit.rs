//! The examples' result type, and `main`'s exit with the example's code.

use std::error::Error;

/// The examples' result type.
pub type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Exits with the code of a finished example, or prints its error and exits with 1.
pub fn with_code(result: Res<i32>) -> ! {
    let code = result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        1
    });
    std::process::exit(code)
}
