//! Tests for the `.ts` reader shared by the examples (`examples/common/ts.rs`).

#[path = "../examples/common/ts.rs"]
mod ts;

use std::path::Path;
use ts::{parse_ts, read_ts, TsDataset, TsError, TsErrorKind};

/// A small valid file: the two cases are on lines 11 and 12.
const TINY: &str = "# comment
@problemName Tiny
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength true
@seriesLength 3
@classLabel true a b
@data
1,2,3:4,5,6:a
7,8,9:10,11,12:b
";

/// `TINY` with its second case (line 12) replaced by `case`.
fn tiny_with_case(case: &str) -> String {
    TINY.replace("7,8,9:10,11,12:b", case)
}

/// Parses `text`, which must fail, and returns `(line, kind)`.
fn err(text: &str) -> (usize, TsErrorKind) {
    match parse_ts(text) {
        Ok(d) => panic!("expected an error, parsed {} cases", d.cases.len()),
        Err(TsError { line, kind }) => (line, kind),
    }
}

fn basic_motions(split: &str) -> TsDataset {
    let path = format!(
        "{}/examples/data/BasicMotions_{split}.ts",
        env!("CARGO_MANIFEST_DIR")
    );
    read_ts(Path::new(&path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check_basic_motions(d: &TsDataset) {
    assert_eq!(d.problem_name.as_deref(), Some("BasicMotions"));
    assert_eq!((d.dimensions, d.series_length), (6, 100));
    assert_eq!(
        d.class_names,
        ["Standing", "Running", "Walking", "Badminton"]
    );
    assert_eq!(d.cases.len(), 40);
    let mut per_class = [0; 4];
    for case in &d.cases {
        assert_eq!(case.channels.len(), 6);
        assert!(case.channels.iter().all(|c| c.len() == 100));
        assert_eq!(case.target, None);
        per_class[case.class.expect("labelled")] += 1;
    }
    assert_eq!(per_class, [10; 4]);
    // The files list ten cases of each class, in header order.
    let classes: Vec<usize> = d.cases.iter().map(|c| c.class.unwrap()).collect();
    assert!(classes.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn basic_motions_train() {
    let d = basic_motions("TRAIN");
    check_basic_motions(&d);
    let (first, last) = (&d.cases[0], &d.cases[39]);
    assert_eq!(first.class, Some(0)); // Standing
    assert_eq!(first.channels[0][0], 0.079106);
    assert_eq!(first.channels[0][99], -0.20515);
    assert_eq!(first.channels[5][0], 0.633883);
    assert_eq!(first.channels[5][99], -0.03196);
    assert_eq!(last.class, Some(3)); // Badminton
    assert_eq!(last.channels[0][0], 1.211973);
    assert_eq!(last.channels[0][99], 3.16927);
}

#[test]
fn basic_motions_test() {
    let d = basic_motions("TEST");
    check_basic_motions(&d);
    assert_eq!(d.cases[0].channels[0][0], -0.740653);
    assert_eq!(d.cases[0].channels[5][99], 0.02397);
    assert_eq!(d.cases[39].class, Some(3));
    assert_eq!(d.cases[39].channels[5][0], 0.24503);
    assert_eq!(d.cases[39].channels[5][99], -1.77647);
}

fn italy_power_demand(split: &str) -> TsDataset {
    let path = format!(
        "{}/examples/data/ItalyPowerDemand_{split}.ts",
        env!("CARGO_MANIFEST_DIR")
    );
    read_ts(Path::new(&path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Univariate (`@univariate true`, no `@dimensions` header), 24 values per case, labels `1` `2`.
#[test]
fn italy_power_demand_train_and_test() {
    for (split, cases, per_class) in [("TRAIN", 67, [34, 33]), ("TEST", 1029, [513, 516])] {
        let d = italy_power_demand(split);
        assert_eq!(d.problem_name.as_deref(), Some("ItalyPowerDemand"));
        assert_eq!((d.dimensions, d.series_length), (1, 24), "{split}");
        assert_eq!(d.class_names, ["1", "2"]);
        assert_eq!(d.cases.len(), cases, "{split}");
        let mut counts = [0; 2];
        for case in &d.cases {
            assert_eq!(case.channels.len(), 1);
            assert_eq!(case.channels[0].len(), 24);
            assert_eq!(case.target, None);
            counts[case.class.expect("labelled")] += 1;
        }
        assert_eq!(counts, per_class, "{split}");
    }
    let (train, test) = (italy_power_demand("TRAIN"), italy_power_demand("TEST"));
    assert_eq!(train.cases[0].class, Some(0)); // label "1"
    assert_eq!(train.cases[0].channels[0][0], -0.71051757);
    assert_eq!(train.cases[0].channels[0][23], -0.26923494);
    assert_eq!(train.cases[66].class, Some(1)); // label "2"
    assert_eq!(train.cases[66].channels[0][23], 1.1719652);
    assert_eq!(test.cases[0].channels[0][0], 0.47297301);
    assert_eq!(test.cases[1028].channels[0][23], -0.0025421181);
}

#[test]
fn tiny_file() {
    let d = parse_ts(TINY).unwrap();
    assert_eq!(d.problem_name.as_deref(), Some("Tiny"));
    assert_eq!((d.dimensions, d.series_length), (2, 3));
    assert_eq!(d.class_names, ["a", "b"]);
    assert_eq!(d.cases.len(), 2);
    assert_eq!(d.cases[0].channels, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(d.cases[1].channels, [[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]);
    assert_eq!((d.cases[0].class, d.cases[1].class), (Some(0), Some(1)));
}

#[test]
fn crlf_whitespace_and_keyword_case() {
    let text = "\u{feff}  @PROBLEMNAME  Tiny \r\n@Dimensions 2\r\n\r\n@SERIESLENGTH 2\r\n\
                @classlabel TRUE a b\r\n  @DATA  \r\n 1 , 2 : 3,4 : b \r\n# note\r\n5,6:7,8:a";
    let d = parse_ts(text).unwrap();
    assert_eq!(d.problem_name.as_deref(), Some("Tiny"));
    assert_eq!(d.cases[0].channels, [[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(d.cases[0].class, Some(1));
    assert_eq!(d.cases[1].class, Some(0));
}

#[test]
fn shape_inferred_when_headers_absent() {
    let d = parse_ts("@classLabel false\n@data\n1,2,3:4,5,6\n7,8,9:1,2,3\n").unwrap();
    assert_eq!((d.dimensions, d.series_length), (2, 3));
    assert!(d.class_names.is_empty());
    assert_eq!(d.cases[1].class, None);
    assert_eq!(
        err("@data\n1,2,3:4,5,6\n7,8:1,2\n"),
        (
            3,
            TsErrorKind::WrongLength {
                channel: 0,
                expected: 3,
                found: 2
            }
        )
    );
}

#[test]
fn regression_target() {
    let d = parse_ts("@univariate true\n@targetLabel true\n@data\n1,2,3:0.5\n4,5,6:-2\n").unwrap();
    assert_eq!((d.dimensions, d.series_length), (1, 3));
    assert_eq!(d.cases[1].target, Some(-2.0));
    assert_eq!(d.cases[1].class, None);
    assert_eq!(
        err("@targetlabel true\n@data\n1,2:nan\n"),
        (3, TsErrorKind::BadTarget("nan".into()))
    );
}

#[test]
fn missing_data_section() {
    let header_only = TINY.split("@data").next().unwrap();
    assert_eq!(err(header_only), (10, TsErrorKind::MissingDataSection));
}

#[test]
fn empty_and_truncated_input() {
    assert_eq!(err(""), (1, TsErrorKind::MissingDataSection));
    assert_eq!(
        err("# only a comment\n"),
        (2, TsErrorKind::MissingDataSection)
    );
    let no_cases = &TINY[..TINY.find("@data").unwrap() + "@data\n".len()];
    assert_eq!(err(no_cases), (11, TsErrorKind::NoCases));
    // Cut in the middle of the second case.
    let cut = &TINY[..TINY.find("10,11").unwrap()];
    assert_eq!(
        err(cut),
        (
            12,
            TsErrorKind::WrongChannelCount {
                expected: 2,
                found: 1
            }
        )
    );
    let cut = &TINY[..TINY.find(",11,12").unwrap()];
    assert_eq!(err(cut), (12, TsErrorKind::MissingClass));
}

#[test]
fn wrong_channel_count() {
    assert_eq!(
        err(&tiny_with_case("1,2,3:4,5,6:7,8,9:b")),
        (
            12,
            TsErrorKind::WrongChannelCount {
                expected: 2,
                found: 3
            }
        )
    );
    assert_eq!(
        err(&tiny_with_case("1,2,3:4,5,6:7,8,9:1,2,3:b")),
        (
            12,
            TsErrorKind::WrongChannelCount {
                expected: 2,
                found: 4
            }
        )
    );
}

#[test]
fn wrong_series_length() {
    assert_eq!(
        err(&tiny_with_case("1,2,3:4,5,6,7:b")),
        (
            12,
            TsErrorKind::WrongLength {
                channel: 1,
                expected: 3,
                found: 4
            }
        )
    );
    assert_eq!(
        err(&tiny_with_case("1,2:4,5,6:b")),
        (
            12,
            TsErrorKind::WrongLength {
                channel: 0,
                expected: 3,
                found: 2
            }
        )
    );
}

#[test]
fn bad_numbers() {
    let bad = |case: &str| err(&tiny_with_case(case));
    assert_eq!(
        bad("1,2,3:4,x5,6:b"),
        (
            12,
            TsErrorKind::BadNumber {
                channel: 1,
                index: 1,
                text: "x5".into()
            }
        )
    );
    assert_eq!(
        bad("1,,3:4,5,6:b"),
        (
            12,
            TsErrorKind::BadNumber {
                channel: 0,
                index: 1,
                text: "".into()
            }
        )
    );
    assert_eq!(
        bad("1,2,NaN:4,5,6:b"),
        (
            12,
            TsErrorKind::NonFinite {
                channel: 0,
                index: 2,
                text: "NaN".into()
            }
        )
    );
    assert_eq!(
        bad("1,2,3:-inf,5,6:b"),
        (
            12,
            TsErrorKind::NonFinite {
                channel: 1,
                index: 0,
                text: "-inf".into()
            }
        )
    );
    assert_eq!(
        bad("1,2,3:4,5,1e999:b"),
        (
            12,
            TsErrorKind::NonFinite {
                channel: 1,
                index: 2,
                text: "1e999".into()
            }
        )
    );
    assert_eq!(
        bad("1,?,3:4,5,6:b"),
        (
            12,
            TsErrorKind::MissingValue {
                channel: 0,
                index: 1
            }
        )
    );
}

#[test]
fn class_labels() {
    assert_eq!(
        err(&tiny_with_case("7,8,9:10,11,12:c")),
        (12, TsErrorKind::UnknownClass("c".into()))
    );
    // Labels are case-sensitive, like aeon's.
    assert_eq!(
        err(&tiny_with_case("7,8,9:10,11,12:B")),
        (12, TsErrorKind::UnknownClass("B".into()))
    );
    assert_eq!(
        err(&tiny_with_case("7,8,9:10,11,12")),
        (12, TsErrorKind::MissingClass)
    );
    assert_eq!(
        err(&tiny_with_case("7,8,9:10,11,12:")),
        (12, TsErrorKind::MissingClass)
    );
}

#[test]
fn bad_headers() {
    let header_err = |from: &str, to: &str| err(&TINY.replace(from, to));
    let bad = |header: &str, value: &str| TsErrorKind::BadHeaderValue {
        header: header.into(),
        value: value.into(),
    };
    assert_eq!(
        header_err("@dimensions 2", "@dimensions abc"),
        (6, bad("dimensions", "abc"))
    );
    assert_eq!(
        header_err("@dimensions 2", "@dimensions 0"),
        (6, bad("dimensions", "0"))
    );
    assert_eq!(
        header_err("@seriesLength 3", "@seriesLength -3"),
        (8, bad("serieslength", "-3"))
    );
    assert_eq!(
        header_err("@missing false", "@missing maybe"),
        (4, bad("missing", "maybe"))
    );
    assert_eq!(
        header_err("@classLabel true a b", "@classLabel true"),
        (9, bad("classlabel", "true"))
    );
    assert_eq!(
        header_err("@classLabel true a b", "@classLabel true a a"),
        (9, bad("classlabel", "true a a"))
    );
    assert_eq!(header_err("@data", "@data 7"), (10, bad("data", "7")));
    assert_eq!(
        header_err("@missing false", "@colour blue"),
        (4, TsErrorKind::UnknownHeader("colour".into()))
    );
    assert_eq!(
        header_err("@missing false", "@Dimensions 2"),
        (6, TsErrorKind::DuplicateHeader("dimensions".into()))
    );
    assert_eq!(
        header_err("@equalLength true", "@equalLength false"),
        (
            7,
            TsErrorKind::Unsupported {
                header: "equallength".into(),
                value: "false".into()
            }
        )
    );
    assert_eq!(
        header_err("@timeStamps false", "@timeStamps true"),
        (
            3,
            TsErrorKind::Unsupported {
                header: "timestamps".into(),
                value: "true".into()
            }
        )
    );
    assert_eq!(
        header_err("@missing false", "1,2,3"),
        (4, TsErrorKind::DataBeforeHeader)
    );
}

#[test]
fn error_display_and_io() {
    let e = parse_ts(&tiny_with_case("1,2,3:4,5,6,7:b")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 12: channel 1 (0-based) has 4 values, expected 3"
    );
    let e = parse_ts(&TINY.replace("@dimensions 2", "@dimensions abc")).unwrap_err();
    assert_eq!(e.to_string(), "line 6: bad value \"abc\" for `@dimensions`");
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().starts_with("line 6:"));

    let e = read_ts(Path::new("/nonexistent/BasicMotions_TRAIN.ts")).unwrap_err();
    assert_eq!(e.line, 0);
    assert!(matches!(e.kind, TsErrorKind::Io(_)), "{e:?}");
    assert!(e.to_string().starts_with("I/O error: /nonexistent/"), "{e}");
}

/// Deterministic mutation fuzzing: deleting, duplicating, replacing and inserting characters
/// of a valid file must never panic, and anything accepted must be internally consistent.
#[test]
fn mutations_never_panic() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) % n as u64) as usize
    };
    let alphabet: Vec<char> = "0123456789.,:-+e?@#\n\r \tabNnIi\u{e9}".chars().collect();
    let base: Vec<char> = TINY.chars().collect();
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..20_000 {
        let mut text = base.clone();
        for _ in 0..1 + next(4) {
            let i = next(text.len() + 1);
            let c = alphabet[next(alphabet.len())];
            match next(4) {
                0 if i < text.len() => drop(text.remove(i)),
                1 if i < text.len() => text.insert(i, text[i]),
                2 if i < text.len() => text[i] = c,
                _ => text.insert(i, c),
            }
        }
        let text: String = text.into_iter().collect();
        match parse_ts(&text) {
            Ok(d) => {
                ok += 1;
                assert!(!d.cases.is_empty() && d.dimensions > 0 && d.series_length > 0);
                for case in &d.cases {
                    assert_eq!(case.channels.len(), d.dimensions, "{text:?}");
                    for ch in &case.channels {
                        assert_eq!(ch.len(), d.series_length, "{text:?}");
                        assert!(ch.iter().all(|v| v.is_finite()), "{text:?}");
                    }
                    if let Some(k) = case.class {
                        assert!(k < d.class_names.len(), "{text:?}");
                    }
                    assert_eq!(case.class.is_some(), !d.class_names.is_empty());
                }
            }
            Err(e) => {
                failed += 1;
                assert!(
                    e.line >= 1 && e.line <= text.lines().count() + 1,
                    "{e} in {text:?}"
                );
            }
        }
    }
    // Both outcomes must actually be exercised.
    assert!(ok > 500 && failed > 500, "ok {ok}, failed {failed}");
}
