//! A one-line progress bar on stderr for the examples, so that they need no progress-bar crate:
//! `████████░░░░░░░░░░░░ epoch 24/60 [0:01] loss 0.0061  train acc 1.000  test acc 1.000`.
//!
//! Drawn only when stderr is a terminal; otherwise (a log, a pipe, CI) it prints nothing and the
//! lines the example prints through [`Progress::suspend`] are all there is. Methods take `&self`,
//! so a `&Progress` can be lent to the code doing the work.

use std::cell::{Cell, RefCell};
use std::io::{IsTerminal, Write};
use std::time::Instant;

const WIDTH: usize = 20; // characters of the bar itself

pub struct Progress {
    unit: &'static str,
    len: usize,
    pos: Cell<usize>,
    msg: RefCell<String>,
    start: Instant,
    draw: bool,
}

impl Progress {
    /// A bar counting `len` steps of `unit` ("epoch", "run", ...).
    pub fn new(len: usize, unit: &'static str) -> Self {
        Self {
            unit,
            len,
            pos: Cell::new(0),
            msg: RefCell::new(String::new()),
            start: Instant::now(),
            draw: std::io::stderr().is_terminal(),
        }
    }

    /// Sets the text after the counter.
    pub fn set_message(&self, msg: impl Into<String>) {
        *self.msg.borrow_mut() = msg.into();
        self.redraw();
    }

    /// Advances the counter by `n` steps.
    pub fn inc(&self, n: usize) {
        self.pos.set((self.pos.get() + n).min(self.len));
        self.redraw();
    }

    /// Hides the bar while `f` runs (which prints), then draws it again below.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.clear();
        let r = f();
        self.redraw();
        r
    }

    /// Removes the bar for good.
    pub fn finish_and_clear(&self) {
        self.clear();
    }

    fn clear(&self) {
        if self.draw {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }

    fn redraw(&self) {
        if !self.draw {
            return;
        }
        let (pos, len) = (self.pos.get(), self.len.max(1));
        let done = pos * WIDTH / len;
        let secs = self.start.elapsed().as_secs();
        let _ = std::io::stdout().flush(); // the lines printed so far come first
        let mut err = std::io::stderr().lock();
        // Cyan done part, blue rest; auto-wrap off while drawing, so a line wider than the
        // terminal is cut off instead of wrapping (which `\r` could not clear).
        let _ = write!(
            err,
            "\r\x1b[2K\x1b[?7l\x1b[36m{}\x1b[34m{}\x1b[0m {} {pos}/{} [{}:{:02}] {}\x1b[?7h",
            "█".repeat(done),
            "░".repeat(WIDTH - done),
            self.unit,
            self.len,
            secs / 60,
            secs % 60,
            self.msg.borrow()
        );
        let _ = err.flush();
    }
}
