//! The training examples' command line, parsed by hand (no dependency): `--seed N`,
//! `--epochs N`, `--lr X` (also written `--seed=N`), `--help`. Each example keeps its own
//! defaults and usage text, and decides what to do with the other arguments.
// Each example that includes this file uses a different subset of it.
#![allow(dead_code)]

/// The options given on the command line (`None`: not given, use the example's default), and
/// every other argument, in order.
#[derive(Debug, Default)]
pub struct Args {
    pub seed: Option<u64>,
    pub epochs: Option<usize>,
    pub lr: Option<f32>,
    pub rest: Vec<String>,
}

impl Args {
    /// Whether any of `--seed`, `--epochs`, `--lr` was given.
    pub fn any_option(&self) -> bool {
        self.seed.is_some() || self.epochs.is_some() || self.lr.is_some()
    }

    /// `Ok` if there are no other arguments; otherwise prints the first as an error, with the
    /// usage, and returns the exit code 2.
    pub fn no_rest(&self, usage: &str) -> Result<(), i32> {
        match self.rest.first() {
            None => Ok(()),
            Some(a) => Err(error(usage, &format!("unexpected argument `{a}`"))),
        }
    }
}

/// Parses the program's arguments. `--help` (or `-h`) prints `usage` and gives `Err(0)`; a
/// missing or malformed value prints an error and the usage and gives `Err(2)`: the caller
/// exits with that code.
pub fn parse(usage: &str) -> Result<Args, i32> {
    parse_from(std::env::args().skip(1), usage)
}

/// [`parse`], with no arguments other than the options: any other is an error (`Err(2)`).
pub fn parse_options(usage: &str) -> Result<Args, i32> {
    let args = parse(usage)?;
    args.no_rest(usage)?;
    Ok(args)
}

/// [`parse`] over any list of arguments (without the program name).
pub fn parse_from(args: impl IntoIterator<Item = String>, usage: &str) -> Result<Args, i32> {
    let mut out = Args::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            println!("{usage}");
            return Err(0);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if !matches!(flag.as_str(), "--seed" | "--epochs" | "--lr") {
            out.rest.push(arg);
            continue;
        }
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(error(usage, &format!("{flag} needs a value")));
        };
        let bad = |what: &str| error(usage, &format!("{flag} {value:?}: expected {what}"));
        match flag.as_str() {
            "--seed" => out.seed = Some(value.parse().map_err(|_| bad("an integer ≥ 0"))?),
            "--epochs" => match value.parse() {
                Ok(n) if n > 0 => out.epochs = Some(n),
                _ => return Err(bad("an integer ≥ 1")),
            },
            _ => match value.parse::<f32>() {
                Ok(lr) if lr.is_finite() && lr > 0.0 => out.lr = Some(lr),
                _ => return Err(bad("a finite number > 0")),
            },
        }
    }
    Ok(out)
}

/// Prints `error: {msg}` and the usage's first line to stderr; returns the exit code for a
/// usage error, 2.
pub fn error(usage: &str, msg: &str) -> i32 {
    let first = usage.lines().next().unwrap_or("");
    eprintln!("error: {msg}\n{first} (--help: all options)");
    2
}
