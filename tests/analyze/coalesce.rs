//! Coalescing under `analyze`: lines the rules cannot tell apart are kept
//! once with a repeat count, and the findings are the ones every line gives.

use crate::common::*;
use coroner::analyze::metric_set;
use coroner::ingest::{IngestOptions, Keep};
use coroner::lang::RuleSet;
use coroner::model::Finding;
use coroner::source::Input;
use std::fmt::Write;
use std::path::Path;

/// A storm on n2: in each of 40 seconds, 3 lines no rule reads, 60 read-loop stalls of distinct
/// clients (some repeating across seconds), 5 identical health-check
/// failures, a route error; n1 and n3 log quietly. Then n2 falls silent.
fn storm(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for (node, busy) in [("n1", false), ("n2", true), ("n3", false)] {
        let mut t = String::new();
        t.push_str(&format!(
            "[7] 2026/11/24 19:00:00.000001 [INF] Starting nats-server\n\
             [7] 2026/11/24 19:00:00.000002 [INF]   Name:     {node}\n"
        ));
        let end = if busy { 40 } else { 130 };
        for s in 1..end {
            let (m, sec) = (s / 60, s % 60);
            // Lines no rule reads: one per node and second is kept (silences).
            for k in 1..4 {
                writeln!(t, "[7] 2026/11/24 19:{m:02}:{sec:02}.00010{k} [INF] 10.0.0.9:4222 - cid:9 - Client connection created").unwrap();
            }
            if !busy {
                continue;
            }
            for k in 0..60 {
                let client = (s * 37 + k) % 900;
                writeln!(
                    t,
                    "[7] 2026/11/24 19:{m:02}:{sec:02}.{:06} [WRN] 10.0.0.{}:{} - mid:{} - \"dev-{client:05}\" - Readloop processing time: 2.{k}s",
                    1000 + k * 1000,
                    k % 7,
                    40000 + client,
                    100 + client
                )
                .unwrap();
            }
            for k in 0..5 {
                writeln!(t, "[7] 2026/11/24 19:{m:02}:{sec:02}.{:06} [WRN] Healthcheck failed: \"JetStream is not current with the meta leader\"", 700000 + k).unwrap();
            }
            writeln!(t, "[7] 2026/11/24 19:{m:02}:{sec:02}.900000 [ERR] Error trying to connect to route (attempt {s}): dial tcp 127.0.0.1:6222: connect: connection refused").unwrap();
        }
        out.push(write(dir, &format!("{node}.log"), t.as_bytes()));
    }
    out
}

/// What a reader compares: everything but the evidence lists (which show
/// the first line of each second once lines are coalesced).
fn summary(f: &[Finding]) -> Vec<String> {
    f.iter()
        .map(|f| {
            format!(
                "{} {:?} {} {} {}",
                f.rule,
                f.node,
                f.start.hms_millis(),
                f.end.hms_millis(),
                f.message
            )
        })
        .collect()
}

/// `analyze` on a pool of `threads`, plain files chunked from `chunk_min`
/// bytes and streams in blocks of that size.
fn analyze_in_pool(
    inputs: &[Input],
    rules: &RuleSet,
    chunk_min: u64,
    threads: usize,
) -> coroner::analyze::Analysis {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let opts = IngestOptions {
        chunk_min,
        ..Default::default()
    };
    pool.install(|| coroner::analyze::run(inputs, rules, &opts))
}

/// Every kept event with what it stands for.
fn event_lines(a: &coroner::analyze::Analysis) -> Vec<String> {
    a.bundle
        .events
        .iter()
        .map(|e| {
            format!(
                "{:?} {} {} {} {} {} {:?}",
                e.ts, e.node, e.kind, e.loc, e.repeat, e.repeat_span, e.absorbed
            )
        })
        .collect()
}

#[test]
fn coalesced_events_give_the_findings_of_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let files = storm(dir.path());
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let rules = RuleSet::builtin();

    // Reference: every line kept, the engine run directly.
    let mut all = read(
        &paths,
        &IngestOptions {
            keep: Keep::All,
            ..Default::default()
        },
    );
    let metrics = metric_set(&mut all);
    let reference = coroner::analyze::findings(&rules, &all, &metrics);

    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.to_path_buf())).collect();
    let a = coroner::analyze::run(&inputs, &rules, &Default::default());
    assert_eq!(summary(&a.findings), summary(&reference));
    assert!(
        a.findings
            .iter()
            .any(|f| f.rule.contains("client-stall-storm")),
        "{:#?}",
        summary(&a.findings)
    );

    // Far fewer events kept, and their repeats add up to the lines.
    let stalls = |evs: &[coroner::model::Event]| -> (usize, u64) {
        let k: Vec<_> = evs.iter().filter(|e| &*e.kind == "readloop_slow").collect();
        (k.len(), k.iter().map(|e| u64::from(e.repeat)).sum())
    };
    assert_eq!(stalls(&all.events), (39 * 60, 39 * 60));
    let (kept, lines) = stalls(&a.bundle.events);
    assert_eq!(lines, 39 * 60);
    assert!(kept <= 39 * 2, "kept {kept} stall events");
    assert!(a.bundle.events.len() * 5 < all.events.len());

    // The derived `uptime` is added only to kinds a rule reads it of
    // (resources.rules: health-check failures), not to every kept event.
    let with_uptime = |evs: &[coroner::model::Event], kind: &str| -> (usize, usize) {
        let k: Vec<_> = evs.iter().filter(|e| &*e.kind == kind).collect();
        (
            k.iter().filter(|e| e.field("uptime").is_some()).count(),
            k.len(),
        )
    };
    let (hc_up, hc) = with_uptime(&a.bundle.events, "healthcheck_failed");
    assert!(
        hc > 0 && hc_up == hc,
        "{hc_up} of {hc} health checks have uptime"
    );
    assert_eq!(with_uptime(&a.bundle.events, "readloop_slow").0, 0);
    let (all_up, all_n) = with_uptime(&all.events, "readloop_slow");
    assert!(
        all_n > 0 && all_up == all_n,
        "without coalescing every event has it"
    );
}

#[test]
fn coalescing_is_the_same_in_parallel_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let files = storm(dir.path());
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let rules = RuleSet::builtin();
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.to_path_buf())).collect();
    let run = |chunk_min: u64, threads: usize| {
        let a = analyze_in_pool(&inputs, &rules, chunk_min, threads);
        (event_lines(&a), summary(&a.findings))
    };
    let whole = run(u64::MAX, 1);
    // Chunks of 2 KB cut inside seconds, among coalesced groups and heartbeats.
    let chunked = run(2048, 4);
    assert_eq!(whole.0.len(), chunked.0.len());
    assert_eq!(whole, chunked);
}

#[test]
fn compressed_streams_read_in_blocks_equal_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let files = storm(dir.path());
    let rules = RuleSet::builtin();
    let texts: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    let entries: Vec<(&str, &[u8])> = texts
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let bundle = write(dir.path(), "bundle.tar.gz", &gzip(&tar(&entries)));
    let n2 = &texts[1].1;
    let gz = write(dir.path(), "n2.log.gz", &gzip(n2));
    // Cut off: a read error in the middle of a block.
    let full = gzip(n2);
    let cut = write(dir.path(), "cut/n2.log.gz", &full[..full.len() * 2 / 3]);
    for input in [&bundle, &gz, &cut] {
        let run = |chunk_min: u64, threads: usize| {
            let inputs = [Input::Path(input.to_path_buf())];
            let a = analyze_in_pool(&inputs, &rules, chunk_min, threads);
            let evs = event_lines(&a);
            let files: Vec<String> = a
                .bundle
                .files
                .iter()
                .map(|f| format!("{} {:?} {:?}", f.display, f.node, f.account))
                .collect();
            let errors: Vec<String> = a.bundle.errors.iter().map(|e| e.message()).collect();
            (evs, files, errors, summary(&a.findings))
        };
        let whole = run(u64::MAX, 1);
        let blocks = run(4096, 3);
        assert_eq!(whole, blocks, "{}", input.display());
        if input == &cut {
            assert_eq!(whole.2.len(), 1, "{:?}", whole.2);
        }
    }
}
