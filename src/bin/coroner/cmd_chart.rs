//! `coroner chart`: the incident chart as PNG or SVG (by the output's extension).

use anyhow::{Context, Result, bail};
use coroner::model::{NANOS_PER_SEC, Nanos, Span, Timestamp, format_duration};
use coroner::render::chart::{ChartInput, render_png, render_svg};
use std::path::PathBuf;

/// Window used with `--around` when `--window` is not given.
const DEFAULT_WINDOW: Nanos = 10 * 60 * NANOS_PER_SEC;

#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct ChartArgs {
    /// Write the chart here: `.png` or `.svg`.
    #[arg(short = 'o', long = "output", value_name = "PATH", required = true)]
    pub output: PathBuf,
    /// Center the chart on this time (`07:44:55`, `2025-05-13 07:44:55`, RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub around: Option<String>,
    /// Show this much time (`10m`, `90s`, `1h30m`), centered on `--around`,
    /// else on the root cause, else on the middle of the data. Default: the
    /// whole span (10m with `--around`).
    #[arg(long, value_name = "DUR")]
    pub window: Option<String>,
    /// Metric panels, top to bottom (comma-separated canonical names; `a|b`
    /// draws b when a has no data). Default: cpu, mem_rss, js_api_pending,
    /// connections, slow_consumers_rate.
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub metrics: Vec<String>,
    /// Image width in pixels.
    #[arg(long, default_value_t = 1600)]
    pub width: u32,
    /// Image height in pixels.
    #[arg(long, default_value_t = 900)]
    pub height: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
}

fn format_of(path: &std::path::Path) -> Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => bail!(
            "cannot tell the chart format of {}: name it .png or .svg",
            path.display()
        ),
    }
}

/// Draws `input` as `args` ask (time window, panels, size) and writes the file.
pub fn run(args: &ChartArgs, input: &ChartInput) -> Result<()> {
    let format = format_of(&args.output)?;
    let mut input = input.clone();
    input.span = window(args, &input)?;
    if !args.metrics.is_empty() {
        input.panels = args
            .metrics
            .iter()
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
    }
    let bytes = match format {
        Format::Png => render_png(&input, args.width, args.height)?,
        Format::Svg => render_svg(&input, args.width, args.height)?.into_bytes(),
    };
    std::fs::write(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!(
        "wrote {} ({} {}x{}, {} – {})",
        args.output.display(),
        if format == Format::Png { "PNG" } else { "SVG" },
        args.width,
        args.height,
        input.span.start.short(),
        input.span.end.hms_millis(),
    );
    Ok(())
}

/// The x range: `--around`/`--window` inside the data's span (a window
/// reaching past the data is cut to it).
fn window(args: &ChartArgs, input: &ChartInput) -> Result<Span> {
    let data = input.span;
    if args.around.is_none() && args.window.is_none() {
        return Ok(data);
    }
    let center = match &args.around {
        Some(s) => crate::common::parse_time(s, Some(data.start))?,
        None => match &input.root_cause {
            Some((t, _)) => *t,
            None => Timestamp(data.start.0 + data.duration() / 2),
        },
    };
    let width = match &args.window {
        Some(s) => parse_duration(s)?,
        None => DEFAULT_WINDOW,
    };
    let want = Span::new(center.sub(width / 2), center.add(width - width / 2));
    if !want.overlaps(&data) {
        bail!(
            "--around {} --window {} lies outside the data ({} – {})",
            center.short(),
            format_duration(width),
            data.start.short(),
            data.end.short()
        );
    }
    Ok(Span::new(
        want.start.max(data.start),
        want.end.min(data.end),
    ))
}

/// `10m`, `90s`, `1h30m`, `500ms`, `2.5s`, `1d`; a bare number is seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Nanos> {
    let t = s.trim();
    let bad = || anyhow::anyhow!("cannot read duration `{s}`: use e.g. 90s, 10m, 1h30m");
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return to_nanos(secs, 1.0).ok_or_else(bad);
    }
    let mut total: Nanos = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let per = match &rest[..unit_len] {
            "ms" => 1e-3,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = total
            .checked_add(to_nanos(value, per).ok_or_else(bad)?)
            .ok_or_else(bad)?;
    }
    if total <= 0 {
        return Err(bad());
    }
    Ok(total)
}

fn to_nanos(value: f64, per_unit_secs: f64) -> Option<Nanos> {
    let n = value * per_unit_secs * 1e9;
    (n.is_finite() && n > 0.0 && n < 1e18).then(|| n.round() as Nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m").unwrap(), 600 * NANOS_PER_SEC);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400 * NANOS_PER_SEC);
        assert_eq!(parse_duration("90").unwrap(), 90 * NANOS_PER_SEC);
        assert_eq!(parse_duration("2.5s").unwrap(), 2_500_000_000);
        assert_eq!(parse_duration("500ms").unwrap(), 500_000_000);
        for bad in ["", "m", "10x", "-5m", "0s", "1h-2m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_of("a/b.PNG".as_ref()).unwrap(), Format::Png);
        assert_eq!(format_of("b.svg".as_ref()).unwrap(), Format::Svg);
        assert!(format_of("b.jpg".as_ref()).is_err());
        assert!(format_of("b".as_ref()).is_err());
    }

    fn input(metrics: &coroner::metrics::MetricSet) -> ChartInput<'_> {
        ChartInput {
            activity: None,
            title: String::new(),
            span: Span::new(
                Timestamp(1_000 * NANOS_PER_SEC),
                Timestamp(2_000 * NANOS_PER_SEC),
            ),
            nodes: Vec::new(),
            events: &[],
            findings: &[],
            metrics,
            panels: Vec::new(),
            failing_node: None,
            root_cause: Some((Timestamp(1_900 * NANOS_PER_SEC), "root".into())),
            restarts: Vec::new(),
            bands: Vec::new(),
        }
    }

    fn args(around: Option<&str>, window: Option<&str>) -> ChartArgs {
        ChartArgs {
            output: "x.png".into(),
            around: around.map(Into::into),
            window: window.map(Into::into),
            metrics: Vec::new(),
            width: 1600,
            height: 900,
        }
    }

    #[test]
    fn windows() {
        let m = coroner::metrics::MetricSet::empty();
        let inp = input(&m);
        let s =
            |a: i64, b: i64| Span::new(Timestamp(a * NANOS_PER_SEC), Timestamp(b * NANOS_PER_SEC));
        assert_eq!(window(&args(None, None), &inp).unwrap(), s(1000, 2000));
        // Centered on the root cause, cut at the end of the data.
        assert_eq!(
            window(&args(None, Some("100s")), &inp).unwrap(),
            s(1850, 1950)
        );
        assert_eq!(
            window(&args(None, Some("10m")), &inp).unwrap(),
            s(1600, 2000)
        );
        let at = Timestamp(1_100 * NANOS_PER_SEC).rfc3339();
        assert_eq!(
            window(&args(Some(&at), Some("60s")), &inp).unwrap(),
            s(1070, 1130)
        );
        let far = Timestamp(9_000 * NANOS_PER_SEC).rfc3339();
        assert!(window(&args(Some(&far), Some("60s")), &inp).is_err());
    }
}
