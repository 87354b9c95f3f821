//! A small, strict reader for the sktime/aeon `.ts` time-series format (host only, uses `std`).
//!
//! Layout: `#` comment lines; `@keyword value` header lines (keywords are case-insensitive)
//! ending with `@data`; then one case per line, channels separated by `:`, values within a
//! channel separated by `,`, and — when `@classLabel true` or `@targetlabel true` — the class
//! label or numeric regression target as the last `:`-separated field. Blank lines, `\r\n`
//! line endings and whitespace around fields are tolerated.
//!
//! Deliberately unsupported (each gives a typed [`TsError`], never a panic): missing values
//! (`?`), non-finite values (`NaN`, `inf`), `@timeStamps true` and `@equalLength false`. Every
//! case must have `dimensions` channels of exactly `series_length` values; when `@dimensions` /
//! `@seriesLength` are absent they are taken from the first case (`@univariate true` implies 1).
// Each example or test that includes this file uses a different subset of it.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt;

/// A parsed `.ts` file.
#[derive(Debug, Clone, PartialEq)]
pub struct TsDataset {
    pub problem_name: Option<String>,
    pub dimensions: usize,
    pub series_length: usize,
    /// Class labels in `@classLabel` header order; empty unless `@classLabel true`.
    pub class_names: Vec<String>,
    pub cases: Vec<TsCase>,
}

/// One case: `channels[c][t]` is channel `c` at time step `t`.
#[derive(Debug, Clone, PartialEq)]
pub struct TsCase {
    pub channels: Vec<Vec<f64>>,
    /// Index into [`TsDataset::class_names`] (`Some` iff `@classLabel true`).
    pub class: Option<usize>,
    /// Regression target (`Some` iff `@targetlabel true`).
    pub target: Option<f64>,
}

/// An error with the 1-based line it occurred on. `line` is 0 for I/O errors and one past the
/// last line for errors detected at end of input.
#[derive(Debug, Clone, PartialEq)]
pub struct TsError {
    pub line: usize,
    pub kind: TsErrorKind,
}

/// What went wrong. `channel` and `index` are 0-based.
#[derive(Debug, Clone, PartialEq)]
pub enum TsErrorKind {
    Io(String),
    /// Input ended before an `@data` line.
    MissingDataSection,
    /// `@data` was present but no cases followed.
    NoCases,
    /// A non-comment, non-header line before `@data`.
    DataBeforeHeader,
    UnknownHeader(String),
    DuplicateHeader(String),
    BadHeaderValue {
        header: String,
        value: String,
    },
    /// A valid header value this reader does not support (e.g. `@equalLength false`).
    Unsupported {
        header: String,
        value: String,
    },
    WrongChannelCount {
        expected: usize,
        found: usize,
    },
    WrongLength {
        channel: usize,
        expected: usize,
        found: usize,
    },
    BadNumber {
        channel: usize,
        index: usize,
        text: String,
    },
    NonFinite {
        channel: usize,
        index: usize,
        text: String,
    },
    MissingValue {
        channel: usize,
        index: usize,
    },
    UnknownClass(String),
    MissingClass,
    BadTarget(String),
}

impl fmt::Display for TsErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TsErrorKind::*;
        match self {
            Io(msg) => write!(f, "I/O error: {msg}"),
            MissingDataSection => write!(f, "end of input before the `@data` line"),
            NoCases => write!(f, "no cases after `@data`"),
            DataBeforeHeader => write!(f, "data line before `@data`"),
            UnknownHeader(h) => write!(f, "unknown header `@{h}`"),
            DuplicateHeader(h) => write!(f, "duplicate header `@{h}`"),
            BadHeaderValue { header, value } => write!(f, "bad value {value:?} for `@{header}`"),
            Unsupported { header, value } => write!(f, "`@{header} {value}` is not supported"),
            WrongChannelCount { expected, found } => {
                write!(f, "expected {expected} channels, found {found}")
            }
            WrongLength {
                channel,
                expected,
                found,
            } => write!(
                f,
                "channel {channel} (0-based) has {found} values, expected {expected}"
            ),
            BadNumber {
                channel,
                index,
                text,
            } => write!(
                f,
                "channel {channel}, value {index} (0-based): {text:?} is not a number"
            ),
            NonFinite {
                channel,
                index,
                text,
            } => write!(
                f,
                "channel {channel}, value {index} (0-based): non-finite value {text:?}"
            ),
            MissingValue { channel, index } => write!(
                f,
                "channel {channel}, value {index} (0-based): missing values (`?`) are not supported"
            ),
            UnknownClass(c) => write!(f, "class label {c:?} is not declared in `@classLabel`"),
            MissingClass => write!(f, "case has no class label"),
            BadTarget(t) => write!(f, "regression target {t:?} is not a finite number"),
        }
    }
}

impl fmt::Display for TsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.kind),
            n => write!(f, "line {n}: {}", self.kind),
        }
    }
}

impl std::error::Error for TsError {}

/// Reads and parses a `.ts` file; I/O failures become [`TsErrorKind::Io`] with `line` 0.
pub fn read_ts(path: &std::path::Path) -> Result<TsDataset, TsError> {
    let text = std::fs::read_to_string(path).map_err(|e| TsError {
        line: 0,
        kind: TsErrorKind::Io(format!("{}: {e}", path.display())),
    })?;
    parse_ts(&text)
}

/// Parses the text of a `.ts` file.
pub fn parse_ts(text: &str) -> Result<TsDataset, TsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut h = Header::default();
    let mut in_data = false;
    let mut cases = Vec::new();
    let mut last = 0;
    for (i, raw) in text.lines().enumerate() {
        let (line, s) = (i + 1, raw.trim());
        last = line;
        let err = |kind| TsError { line, kind };
        if s.is_empty() || s.starts_with('#') {
            continue;
        }
        if in_data {
            cases.push(parse_case(s, &mut h).map_err(err)?);
        } else if let Some(rest) = s.strip_prefix('@') {
            in_data = h.apply(rest).map_err(err)?;
        } else {
            return Err(err(TsErrorKind::DataBeforeHeader));
        }
    }
    let end = |kind| TsError {
        line: last + 1,
        kind,
    };
    if !in_data {
        return Err(end(TsErrorKind::MissingDataSection));
    }
    match (h.dimensions, h.series_length) {
        (Some(dimensions), Some(series_length)) if !cases.is_empty() => Ok(TsDataset {
            problem_name: h.problem_name,
            dimensions,
            series_length,
            class_names: h.class_names.unwrap_or_default(),
            cases,
        }),
        _ => Err(end(TsErrorKind::NoCases)),
    }
}

#[derive(Default)]
struct Header {
    seen: Vec<String>,
    problem_name: Option<String>,
    dimensions: Option<usize>,
    series_length: Option<usize>,
    /// `Some` iff `@classLabel true`.
    class_names: Option<Vec<String>>,
    target: bool,
}

impl Header {
    /// Applies one header line (without the `@`); returns `true` for `@data`.
    fn apply(&mut self, rest: &str) -> Result<bool, TsErrorKind> {
        let (key, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let (key, value) = (key.to_ascii_lowercase(), value.trim());
        let bad = || TsErrorKind::BadHeaderValue {
            header: key.clone(),
            value: value.into(),
        };
        let unsupported = || TsErrorKind::Unsupported {
            header: key.clone(),
            value: value.into(),
        };
        if self.seen.contains(&key) {
            return Err(TsErrorKind::DuplicateHeader(key));
        }
        let mut words = value.split_whitespace();
        let flag = match words.next().map(str::to_ascii_lowercase).as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        let count = || {
            value
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(bad)
        };
        let plain_flag = || {
            flag.filter(|_| words.clone().next().is_none())
                .ok_or_else(bad)
        };
        match key.as_str() {
            "data" if value.is_empty() => return Ok(true),
            "data" => return Err(bad()),
            "problemname" => self.problem_name = Some(value.to_string()),
            "timestamps" if plain_flag()? => return Err(unsupported()),
            "equallength" if !plain_flag()? => return Err(unsupported()),
            "timestamps" | "equallength" | "missing" => _ = plain_flag()?,
            "univariate" if plain_flag()? => self.dimensions = self.dimensions.or(Some(1)),
            "univariate" => {}
            "dimensions" => self.dimensions = Some(count()?),
            "serieslength" => self.series_length = Some(count()?),
            "classlabel" | "targetlabel" if flag.is_none() => return Err(bad()),
            "classlabel" if flag == Some(true) => {
                let names: Vec<String> = words.map(String::from).collect();
                let unique = names.iter().collect::<HashSet<_>>().len() == names.len();
                if names.is_empty() || !unique || self.target {
                    return Err(bad());
                }
                self.class_names = Some(names);
            }
            "targetlabel" if flag == Some(true) => {
                if self.class_names.is_some() || words.next().is_some() {
                    return Err(bad());
                }
                self.target = true;
            }
            "classlabel" | "targetlabel" => _ = plain_flag()?,
            _ => return Err(TsErrorKind::UnknownHeader(key)),
        }
        self.seen.push(key);
        Ok(false)
    }
}

/// Parses one data line, fixing `dimensions` / `series_length` from it if still unknown.
fn parse_case(s: &str, h: &mut Header) -> Result<TsCase, TsErrorKind> {
    let mut fields: Vec<&str> = s.split(':').map(str::trim).collect();
    let labelled = h.class_names.is_some() || h.target;
    let label = if labelled { fields.pop() } else { None };
    // If only the label field was present, infer one channel (reported as `MissingClass`).
    let expected = *h.dimensions.get_or_insert(fields.len().max(1));
    if fields.len() != expected {
        // One channel short and a non-empty "label": that label was really the last channel.
        if labelled && fields.len() + 1 == expected && label != Some("") {
            return Err(TsErrorKind::MissingClass);
        }
        return Err(TsErrorKind::WrongChannelCount {
            expected,
            found: fields.len(),
        });
    }
    let mut channels = Vec::with_capacity(fields.len());
    for (channel, field) in fields.into_iter().enumerate() {
        let values = parse_channel(channel, field)?;
        let expected = *h.series_length.get_or_insert(values.len());
        if values.len() != expected {
            return Err(TsErrorKind::WrongLength {
                channel,
                expected,
                found: values.len(),
            });
        }
        channels.push(values);
    }
    let (mut class, mut target) = (None, None);
    match (label, &h.class_names) {
        (Some(""), _) => return Err(TsErrorKind::MissingClass),
        (Some(l), Some(names)) => match names.iter().position(|n| n == l) {
            Some(i) => class = Some(i),
            None => return Err(TsErrorKind::UnknownClass(l.into())),
        },
        (Some(l), None) => match l.parse::<f64>() {
            Ok(v) if v.is_finite() => target = Some(v),
            _ => return Err(TsErrorKind::BadTarget(l.into())),
        },
        (None, _) => {}
    }
    Ok(TsCase {
        channels,
        class,
        target,
    })
}

fn parse_channel(channel: usize, field: &str) -> Result<Vec<f64>, TsErrorKind> {
    let parse = |(index, text): (usize, &str)| {
        let text = text.trim();
        match text.parse::<f64>() {
            _ if text == "?" => Err(TsErrorKind::MissingValue { channel, index }),
            Ok(v) if v.is_finite() => Ok(v),
            Ok(_) => Err(TsErrorKind::NonFinite {
                channel,
                index,
                text: text.into(),
            }),
            Err(_) => Err(TsErrorKind::BadNumber {
                channel,
                index,
                text: text.into(),
            }),
        }
    };
    field.split(',').enumerate().map(parse).collect()
}
