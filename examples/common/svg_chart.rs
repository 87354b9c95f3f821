//! A small SVG line-chart writer for the examples, so that they need no plotting crate.
//!
//! A figure is a title above panels stacked vertically. Each panel has a caption, a linear x
//! axis, a linear or logarithmic y axis, a grid, axis descriptions, lines (solid or dashed) and a
//! legend. Text sizes are estimated from the character count (no font metrics), which is enough
//! for labels and legends to fit.

use std::fmt::Write as _;
use std::path::Path;

/// A y axis: its range and scale.
#[derive(Clone, Copy)]
pub enum Axis {
    Linear(f64, f64),
    /// Both ends positive; ticks at the powers of ten.
    Log(f64, f64),
}

/// Where a panel's legend sits: at the right edge of its plotting area, at the top, in the
/// middle or at the bottom.
#[derive(Clone, Copy)]
#[allow(dead_code)] // each example uses some
pub enum Legend {
    Top,
    Middle,
    Bottom,
}

/// One line: `(x, y)` points joined in order.
pub struct Line<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
    /// An SVG colour, e.g. `"#FF0000"`.
    pub color: &'a str,
    pub width: f64,
    /// `(dash, gap)` lengths in pixels; `None` for a solid line.
    pub dash: Option<(f64, f64)>,
}

/// One panel of a figure.
pub struct Panel<'a> {
    pub caption: &'a str,
    /// Its height in pixels.
    pub height: f64,
    pub x: (f64, f64),
    pub x_desc: &'a str,
    pub y: Axis,
    pub y_desc: &'a str,
    pub lines: Vec<Line<'a>>,
    pub legend: Legend,
}

const FONT: &str = "sans-serif";
const TITLE_H: f64 = 40.0;
const MARGIN: f64 = 15.0;
const CAPTION_H: f64 = 28.0;
const X_LABELS_H: f64 = 45.0; // tick labels and the x description, below the plotting area
const Y_LABELS_W: f64 = 70.0; // tick labels and the y description, left of the plotting area

/// Writes a `width` × `height` figure: `title`, then `panels` from top to bottom.
pub fn write(
    path: &Path,
    (width, height): (u32, u32),
    title: &str,
    panels: &[Panel],
) -> std::io::Result<()> {
    let (w, h) = (f64::from(width), f64::from(height));
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-family="{FONT}">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    text(&mut s, w / 2.0, 26.0, 18.0, "middle", title);
    let mut top = TITLE_H;
    for (i, p) in panels.iter().enumerate() {
        panel(&mut s, i, p, top, w);
        top += p.height;
    }
    s.push_str("</svg>\n");
    std::fs::write(path, s)
}

fn panel(s: &mut String, id: usize, p: &Panel, top: f64, w: f64) {
    text(s, w / 2.0, top + 18.0, 15.0, "middle", p.caption);
    // The plotting area.
    let (x0, x1) = (MARGIN + Y_LABELS_W, w - MARGIN);
    let (y0, y1) = (
        top + CAPTION_H + MARGIN,
        top + p.height - MARGIN - X_LABELS_H,
    );
    let sx = |x: f64| x0 + (x - p.x.0) / (p.x.1 - p.x.0) * (x1 - x0);
    let (lo, hi, log) = match p.y {
        Axis::Linear(lo, hi) => (lo, hi, false),
        Axis::Log(lo, hi) => (lo.log10(), hi.log10(), true),
    };
    let sy = |y: f64| {
        let v = if log { y.log10() } else { y };
        y1 - (v - lo) / (hi - lo) * (y1 - y0)
    };

    // Grid: light lines at the minor ticks, darker at the labelled ones; then the axes.
    let (x_major, x_minor) = linear_ticks(p.x.0, p.x.1, 10.0);
    let (y_major, y_minor) = if log {
        log_ticks(lo, hi)
    } else {
        linear_ticks(lo, hi, 12.0)
    };
    for (xs, opacity) in [(&x_minor, 0.08), (&x_major, 0.2)] {
        for &x in xs {
            let _ = writeln!(
                s,
                r#"<line x1="{0:.1}" y1="{y0:.1}" x2="{0:.1}" y2="{y1:.1}" stroke="black" stroke-opacity="{opacity}"/>"#,
                sx(x)
            );
        }
    }
    for (ys, opacity) in [(&y_minor, 0.08), (&y_major, 0.2)] {
        for &y in ys {
            let _ = writeln!(
                s,
                r#"<line x1="{x0:.1}" y1="{0:.1}" x2="{x1:.1}" y2="{0:.1}" stroke="black" stroke-opacity="{opacity}"/>"#,
                sy(y)
            );
        }
    }
    let _ = writeln!(
        s,
        r#"<polyline points="{x0:.1},{y0:.1} {x0:.1},{y1:.1} {x1:.1},{y1:.1}" fill="none" stroke="black"/>"#
    );
    for &x in &x_major {
        let _ = writeln!(
            s,
            r#"<line x1="{0:.1}" y1="{y1:.1}" x2="{0:.1}" y2="{1:.1}" stroke="black"/>"#,
            sx(x),
            y1 + 5.0
        );
        text(
            s,
            sx(x),
            y1 + 20.0,
            11.5,
            "middle",
            &label(x, &x_major, false),
        );
    }
    for &y in &y_major {
        let _ = writeln!(
            s,
            r#"<line x1="{0:.1}" y1="{1:.1}" x2="{x0:.1}" y2="{1:.1}" stroke="black"/>"#,
            x0 - 5.0,
            sy(y)
        );
        text(
            s,
            x0 - 9.0,
            sy(y) + 4.0,
            11.5,
            "end",
            &label(y, &y_major, log),
        );
    }
    text(s, (x0 + x1) / 2.0, y1 + 38.0, 13.0, "middle", p.x_desc);
    let (yx, yy) = (MARGIN + 4.0, (y0 + y1) / 2.0);
    let _ = writeln!(
        s,
        r#"<text x="{yx:.1}" y="{yy:.1}" font-size="13" text-anchor="middle" dominant-baseline="middle" transform="rotate(-90 {yx:.1} {yy:.1})">{}</text>"#,
        escape(p.y_desc)
    );

    // The lines, clipped to the plotting area.
    let _ = writeln!(
        s,
        r#"<clipPath id="area{id}"><rect x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}"/></clipPath>"#,
        x1 - x0,
        y1 - y0
    );
    let _ = writeln!(s, r#"<g clip-path="url(#area{id})" fill="none">"#);
    for l in &p.lines {
        let points: Vec<String> = l
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" stroke="{}" stroke-width="{}"{}/>"#,
            points.join(" "),
            l.color,
            l.width,
            dash(l)
        );
    }
    s.push_str("</g>\n");

    // The legend: a sample of each line and its label, in a box.
    let (font, row) = (12.0, 20.0);
    let chars = p
        .lines
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0);
    let (bw, bh) = (
        45.0 + 0.55 * font * chars as f64,
        10.0 + row * p.lines.len() as f64,
    );
    let bx = x1 - 10.0 - bw;
    let by = match p.legend {
        Legend::Top => y0 + 10.0,
        Legend::Middle => (y0 + y1 - bh) / 2.0,
        Legend::Bottom => y1 - 10.0 - bh,
    };
    let _ = writeln!(
        s,
        r#"<rect x="{bx:.1}" y="{by:.1}" width="{bw:.1}" height="{bh:.1}" fill="white" fill-opacity="0.9" stroke="black"/>"#
    );
    for (i, l) in p.lines.iter().enumerate() {
        let y = by + 5.0 + row * (i as f64 + 0.5);
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="{}"{}/>"#,
            bx + 10.0,
            bx + 35.0,
            l.color,
            l.width,
            dash(l)
        );
        text(s, bx + 40.0, y + 4.0, font, "start", l.label);
    }
}

fn dash(l: &Line) -> String {
    l.dash
        .map(|(on, off)| format!(r#" stroke-dasharray="{on} {off}""#))
        .unwrap_or_default()
}

fn text(s: &mut String, x: f64, y: f64, size: f64, anchor: &str, t: &str) {
    let _ = writeln!(
        s,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{anchor}">{}</text>"#,
        escape(t)
    );
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Labelled ticks at a round step (1, 2 or 5 × 10^k) giving at most `max` of them in `[lo, hi]`,
/// and minor ticks at a fifth (a half for a step of 2) of that step.
fn linear_ticks(lo: f64, hi: f64, max: f64) -> (Vec<f64>, Vec<f64>) {
    let mag = 10f64.powf(((hi - lo) / max).log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&st| (hi - lo) / st <= max)
        .unwrap_or(10.0 * mag);
    let minor = if (step / mag - 2.0).abs() < 1e-9 {
        step / 2.0
    } else {
        step / 5.0
    };
    let multiples = |st: f64| -> Vec<f64> {
        let first = (lo / st - 1e-9).ceil() as i64;
        let last = (hi / st + 1e-9).floor() as i64;
        (first..=last).map(|k| k as f64 * st).collect()
    };
    let major = multiples(step);
    let minor = multiples(minor)
        .into_iter()
        .filter(|v| major.iter().all(|m| (m - v).abs() > 1e-9 * step))
        .collect();
    (major, minor)
}

/// For a log axis spanning `[10^lo, 10^hi]`: the powers of ten, and 2..9 times them.
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut major, mut minor) = (Vec::new(), Vec::new());
    for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
        let p = 10f64.powi(k);
        if (lo..=hi).contains(&(k as f64)) {
            major.push(p);
        }
        minor.extend(
            (2..10)
                .map(|m| f64::from(m) * p)
                .filter(|v| (lo..=hi).contains(&v.log10())),
        );
    }
    (major, minor)
}

/// A tick's label, with as many decimals as its axis' step needs.
fn label(v: f64, ticks: &[f64], log: bool) -> String {
    let decimals = if log {
        (-v.log10().round()).max(1.0) as usize // 0.001, 0.01, 0.1, 1.0, 10.0
    } else {
        let step = if ticks.len() > 1 {
            ticks[1] - ticks[0]
        } else {
            1.0
        };
        (-step.log10() - 1e-9).ceil().max(0.0) as usize // 0.1 and 0.2: one decimal
    };
    format!("{v:.decimals$}")
}
