//! Inputs that crashed coroner (found by the fuzzers in fuzz/ or by reading
//! the code while writing them). One test per bug, named after what broke.

use coroner::lang::{BUILTIN_PACKS, RuleSet};
use coroner::parse::log::{LogOptions, Zone, parse_line};
use std::time::{Duration, Instant};

fn opts(zone: &str) -> LogOptions {
    LogOptions {
        zone: Zone::parse(zone).unwrap(),
        ..LogOptions::default()
    }
}

/// Nanoseconds since 1970 in an i64 end in 2262: a header dated 9999 (or
/// 0000) overflowed the conversion. Such a header is not a timestamp.
#[test]
fn header_year_outside_the_nanosecond_range_does_not_overflow() {
    for zone in ["UTC", "Europe/Paris", "+05:30"] {
        let o = opts(zone);
        for l in [
            "[1] 9999/12/31 23:59:59.999999 [INF] far future",
            "[1] 0000/01/01 00:00:00.000000 [INF] year zero",
            "[1] 2263/01/01 00:00:00.000000 [INF] just past the end",
            "9999-12-31T23:59:59.999999999Z [1] 2026/11/24 19:00:00.000000 [INF] kubectl",
            "<30>1 9999-12-31T23:59:59Z host nats 1 - - [1] 2026/11/24 19:00:00.000000 [INF] x",
            "9999/12/31 23:59:59.000000 [INF] no pid",
        ] {
            if let Some(r) = parse_line(l, &o) {
                if let Some(ts) = r.ts {
                    assert!(ts.rfc3339().starts_with('2'), "{l}: {}", ts.rfc3339());
                }
            }
        }
        // The last representable years still parse.
        let r = parse_line("[1] 2261/12/31 23:00:00.000000 [INF] ok", &o).unwrap();
        assert!(r.ts.unwrap().rfc3339().starts_with("2261-12-31"));
    }
}

/// A syslog-looking line with a multi-byte character where the day goes
/// sliced a `str` inside a UTF-8 sequence.
#[test]
fn syslog_time_with_a_multibyte_day_does_not_panic() {
    let o = LogOptions::default();
    for l in [
        "Nov xé19:02:17 host nats-server[1]: hi",
        "Nov é 19:02:17 host nats-server[1]: hi",
        "Nov  4 19:0é:17 host nats-server[1]: hi",
    ] {
        let _ = parse_line(l, &o);
    }
}

/// `<PRI>` lines sliced the first five bytes whatever they were.
#[test]
fn syslog_pri_with_a_multibyte_char_does_not_panic() {
    let o = LogOptions::default();
    for l in ["<123é> x", "<1é>", "<é", "<12\u{10348}>"] {
        let _ = parse_line(l, &o);
    }
}

fn pack_with_example(lines: &str) -> String {
    format!(
        "pack hostile \"hostile\"\n\nrule hostile.ex {{\n  title \"t\"\n  severity low\n  category slow-consumer\n  when metric cpu > 90\n  example fire {{\n    {lines}\n  }}\n}}\n"
    )
}

fn parse_examples(pack: &str) -> Vec<Result<usize, String>> {
    let mut sources: Vec<(String, String)> = BUILTIN_PACKS
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    sources.push(("hostile.rules".to_string(), pack.to_string()));
    let (set, diags) = RuleSet::from_sources(&sources);
    let rule = set
        .rule("hostile.ex")
        .unwrap_or_else(|| panic!("{diags:?}"));
    rule.examples
        .iter()
        .map(|ex| {
            coroner::engine::examples::parse_example(ex, &rule.file, &set)
                .map(|i| i.events.len())
                .map_err(|(_, m)| m)
        })
        .collect()
}

/// `samples ... 0*N` expanded N values before checking the 100 000 limit:
/// a huge N hung `coroner rules test` (and exhausted memory).
#[test]
fn example_sample_repeat_count_is_checked_before_expanding() {
    let t = Instant::now();
    let r = parse_examples(&pack_with_example(
        "samples n1 cpu from 19:00:00 every 1s: 95*18446744073709551615",
    ));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let e = r[0].as_ref().unwrap_err();
    assert!(e.contains("too many samples"), "{e}");
}

/// A huge `every` step multiplied by the sample index overflowed.
#[test]
fn example_huge_step_does_not_overflow() {
    let r = parse_examples(&pack_with_example(
        "samples n1 cpu from 19:00:00 every 9999999999999h: 95 95 95",
    ));
    assert!(r.len() == 1);
    let r = parse_examples(&pack_with_example(
        "repeat 3 every 9999999999999h n1 | [1] 2026/11/24 19:00:00.000000 [WRN] x",
    ));
    assert!(r.len() == 1);
}
