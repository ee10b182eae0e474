//! Bad input never crashes and never vanishes: every line is parsed,
//! continuation or unparsed, and unreadable files are errors the run survives.

use crate::common::*;

#[test]
fn garbage_utf8_long_lines_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    garbage.extend_from_slice(b"\n\xff\xfe invalid utf8 \xc3\x28\n");
    write(dir.path(), "garbage.bin", &garbage);
    let mut long = b"[7] 2026/11/24 19:00:00.000001 [WRN] ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 10 << 20));
    long.extend_from_slice(b"\n[7] 2026/11/24 19:00:01.000001 [INF] Server is ready\n");
    write(dir.path(), "long.log", &long);
    write(dir.path(), "empty.log", b"");
    let mut invalid = nats_log("n1", 1).into_bytes();
    invalid.extend_from_slice(b"[7] 2026/11/24 19:01:03.000000 [WRN] client name \xff\xfe bad\n");
    write(dir.path(), "n1.log", &invalid);
    let b = read_all(&[dir.path()]);
    assert_balanced(&b);
    let long = b
        .files
        .iter()
        .find(|f| f.display.ends_with("long.log"))
        .unwrap();
    assert_eq!((long.account.parsed, long.account.truncated), (2, 1));
    let g = b
        .files
        .iter()
        .find(|f| f.display.ends_with("garbage.bin"))
        .unwrap();
    assert!(g.account.unparsed > 0 && g.account.parsed == 0);
    assert!(!g.account.unparsed_samples.is_empty());
    let e = b
        .files
        .iter()
        .find(|f| f.display.ends_with("empty.log"))
        .unwrap();
    assert_eq!(e.account.lines_read, 0);
    let n1 = b
        .files
        .iter()
        .find(|f| f.display.ends_with("n1.log"))
        .unwrap();
    assert_eq!(n1.account.parsed, 6);
}

#[test]
fn truncated_gzip_is_an_error_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for m in 0..50 {
        text.push_str(&nats_log("n1", m));
    }
    let gz = gzip(text.as_bytes());
    write(dir.path(), "a/n1.log.gz", &gz[..gz.len() / 2]);
    write(dir.path(), "b/n2.log", nats_log("n2", 1).as_bytes());
    let b = read_all(&[dir.path()]);
    assert_eq!(b.errors.len(), 1, "{:?}", b.errors);
    assert!(b.errors[0].file.ends_with("n1.log.gz"));
    assert!(
        b.files
            .iter()
            .any(|f| f.node.as_deref() == Some("n2") && f.account.parsed == 5)
    );
    assert_balanced(&b);
}

#[test]
fn missing_file_is_an_error() {
    let b = read_all(&[std::path::Path::new("/nonexistent/coroner/x.log")]);
    assert_eq!(b.errors.len(), 1);
    assert!(b.errors[0].message().contains("cannot read"));
}

#[test]
fn same_output_for_any_thread_count_and_input_order() {
    let a = sample("node-freeze");
    let c = sample("crash-restart");
    let run = |threads: usize, order: &[&std::path::Path]| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let b = pool.install(|| read_all(order));
        let evs: Vec<&coroner::model::Event> = b.events.iter().collect();
        let mut out = Vec::new();
        coroner::render::events::write_jsonl(&mut out, &evs).unwrap();
        out
    };
    let one = run(1, &[&a, &c]);
    assert_eq!(one, run(4, &[&c, &a]));
    assert!(!one.is_empty());
}

#[test]
fn a_file_read_in_parallel_chunks_equals_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    // Two lifetimes, continuation lines, garbage, no-timestamp lines: the
    // chunk cuts fall anywhere among them.
    let mut text = String::new();
    for m in 0..40 {
        text.push_str(&nats_log(if m < 20 { "alpha" } else { "beta" }, m % 60));
        text.push_str("\tcontinued detail line\n\u{1}garbage\n");
    }
    let p = write(dir.path(), "big.log", text.as_bytes());
    let one = |chunk_min: u64, threads: usize| {
        let opts = coroner::ingest::IngestOptions {
            chunk_min,
            ..Default::default()
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let b = pool.install(|| read(&[&p], &opts));
        let evs: Vec<&coroner::model::Event> = b.events.iter().collect();
        let mut out = Vec::new();
        coroner::render::events::write_jsonl(&mut out, &evs).unwrap();
        let stats = coroner::render::stats::build(&b, 50);
        let mut s = Vec::new();
        coroner::render::stats::write_json(&mut s, &stats).unwrap();
        assert_balanced(&b);
        (out, s)
    };
    let whole = one(u64::MAX, 1);
    let chunked = one(512, 4);
    assert_eq!(
        String::from_utf8(whole.0).unwrap(),
        String::from_utf8(chunked.0).unwrap()
    );
    assert_eq!(
        String::from_utf8(whole.1).unwrap(),
        String::from_utf8(chunked.1).unwrap()
    );
}
