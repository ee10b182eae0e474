//! The adversarial corpus: for every file, lines read = parsed +
//! continuation + unparsed, in the bundle and in the JSON report, whatever
//! the bytes; files that end early are errors naming the file, and the run
//! goes on.

use super::*;
use coroner::parse::log::{LogOptions, Zone};

/// One directory holding every kind of broken file at once.
fn corpus(dir: &Path) {
    let d = dir;
    // invalid UTF-8 inside a record, and a line of it alone
    let mut b = nats_log("n1", 1).into_bytes();
    b.extend_from_slice(b"[7] 2026/11/24 19:01:03.000000 [WRN] client \xff\xfe\xc3\x28 bad\n");
    b.extend_from_slice(b"\xff\xfe\xfd\n");
    write(d, "utf8/n1.log", &b);
    // NUL bytes inside a record, and a line of NULs
    let mut b = nats_log("n2", 1).into_bytes();
    b.extend_from_slice(b"[7] 2026/11/24 19:01:04.000000 [WRN] nul \0 inside\n");
    b.extend_from_slice(b"\0\0\0\0\n");
    write(d, "nul/n2.log", &b);
    // CR-only and CRLF line endings
    write(
        d,
        "cr/n3.log",
        nats_log("n3", 1).replace('\n', "\r").as_bytes(),
    );
    write(
        d,
        "crlf/n4.log",
        nats_log("n4", 1).replace('\n', "\r\n").as_bytes(),
    );
    // a file that ends mid-line
    let mut s = nats_log("n5", 1);
    s.push_str("[7] 2026/11/24 19:01:05.000000 [INF] cut in the mid");
    write(d, "midline/n5.log", s.as_bytes());
    // a gzip that ends mid-stream
    let mut s = String::new();
    for m in 0..40 {
        s.push_str(&nats_log("n6", m));
    }
    let gz = gzip(s.as_bytes());
    write(d, "truncgz/n6.log.gz", &gz[..gz.len() * 2 / 3]);
    // a zip whose first member is corrupt; the second reads fine
    write(d, "zip/corrupt.zip", &corrupt_zip());
    // empty things: file, gzip, zip, tar
    write(d, "empty/empty.log", b"");
    write(d, "empty/empty.log.gz", &gzip(b""));
    write(d, "empty/empty.zip", &zip(&[]));
    write(d, "empty/empty.tar", &tar(&[]));
    // timestamps going backwards
    let mut s = nats_log("n7", 10);
    for m in (0..5).rev() {
        s.push_str(&line(
            &format!("2026/11/24 19:0{m}:00.000000"),
            "WRN",
            "going back",
        ));
    }
    write(d, "backwards/n7.log", s.as_bytes());
    // a year rollover, plain and inside a syslog wrapper
    let mut s = nats_log("n8", 1).replace("2026/11/24", "2026/12/31");
    s.push_str(&line(
        "2026/12/31 23:59:59.900000",
        "WRN",
        "last of the year",
    ));
    s.push_str(&line(
        "2027/01/01 00:00:00.100000",
        "WRN",
        "first of the year",
    ));
    s.push_str(
        "Jan  1 00:00:01 host8 nats-server[7]: [7] 2027/01/01 00:00:01.000000 [INF] wrapped\n",
    );
    write(d, "rollover/n8.log", s.as_bytes());
    // a binary blob
    let blob: Vec<u8> = (0..8192u32).map(|i| (i * 7919 % 256) as u8).collect();
    write(d, "blob/core.bin", &blob);
}

fn corrupt_zip() -> Vec<u8> {
    let mut z = zip(&[
        ("n9.log", nats_log("n9", 1).repeat(20).as_bytes()),
        ("n10.log", nats_log("n10", 1).as_bytes()),
    ]);
    // The first local header is at 0; its data follows the name and extra field.
    let name_len = u16::from_le_bytes([z[26], z[27]]) as usize;
    let extra_len = u16::from_le_bytes([z[28], z[29]]) as usize;
    let data = 30 + name_len + extra_len;
    for b in &mut z[data + 4..data + 24] {
        *b ^= 0x5a;
    }
    z
}

#[test]
fn adversarial_corpus_balances_in_stats_and_report() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    // a 50 MB line, cut at max_line and counted
    let mut long = b"[7] 2026/11/24 19:00:00.000001 [WRN] ".to_vec();
    long.resize(long.len() + (50 << 20), b'x');
    long.extend_from_slice(b"\n[7] 2026/11/24 19:00:01.000001 [INF] after the long line\n");
    write(dir.path(), "long/n11.log", &long);
    drop(long);
    // duplicated files: the same bytes under two paths, and one path given twice
    let dup = nats_log("n12", 1);
    write(dir.path(), "dup-a/n12.log", dup.as_bytes());
    let twice = write(dir.path(), "dup-b/n12.log", dup.as_bytes());

    let a = analyze_with(&[dir.path(), &twice], &IngestOptions::default());
    assert_balanced_everywhere(&a);
    let b = &a.bundle;

    let f = file(b, "utf8/n1.log");
    assert_eq!(
        (f.account.lines_read, f.account.parsed, f.account.unparsed),
        (7, 6, 1)
    );
    let f = file(b, "nul/n2.log");
    assert_eq!(
        (f.account.lines_read, f.account.parsed, f.account.unparsed),
        (7, 6, 1)
    );
    assert_eq!(file(b, "cr/n3.log").account.parsed, 5);
    assert_eq!(file(b, "cr/n3.log").node.as_deref(), Some("n3"));
    assert_eq!(file(b, "crlf/n4.log").account.parsed, 5);
    assert_eq!(file(b, "crlf/n4.log").account.lines_read, 5);
    assert_eq!(file(b, "midline/n5.log").account.parsed, 6);

    // The truncated gzip: an error naming it, what was read is kept and balanced.
    let f = file(b, "truncgz/n6.log.gz");
    assert!(f.account.lines_read > 0 && f.account.error.is_some());
    assert!(
        b.errors
            .iter()
            .any(|e| e.file.ends_with("truncgz/n6.log.gz") && e.message().contains("after line")),
        "{:?}",
        b.errors
    );
    // The corrupt zip member is an error naming the member; its sibling is read.
    assert!(
        b.errors
            .iter()
            .any(|e| e.file.ends_with("corrupt.zip!n9.log")),
        "{:?}",
        b.errors
    );
    assert_eq!(file(b, "corrupt.zip!n10.log").account.parsed, 5);
    // Empty inputs: no lines, no errors of their own.
    assert_eq!(file(b, "empty/empty.log").account.lines_read, 0);
    assert_eq!(file(b, "empty/empty.log.gz").account.lines_read, 0);
    assert!(!b.files.iter().any(|f| f.display.contains("empty.zip")));
    assert_eq!(file(b, "empty/empty.tar").account.parsed, 0);
    assert!(
        !b.errors.iter().any(|e| e.file.contains("empty")),
        "{:?}",
        b.errors
    );

    // Backwards timestamps: all parsed; the merged stream is in time order.
    assert_eq!(file(b, "backwards/n7.log").account.parsed, 10);
    let ts: Vec<_> = b.events.iter().filter_map(|e| e.ts).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));
    // Year rollover: the span crosses into the new year.
    let n8 = &b.nodes["n8"];
    assert_eq!(n8.first.unwrap().rfc3339(), "2026-12-31T19:01:00.000001Z");
    assert_eq!(n8.last.unwrap().rfc3339(), "2027-01-01T00:00:00.100000Z");
    // The syslog-wrapped line names its host, which owns it.
    let h8 = &b.nodes["host8"];
    assert_eq!(h8.first.unwrap().rfc3339(), "2027-01-01T00:00:01.000000Z");
    assert_eq!(file(b, "rollover/n8.log").account.parsed, 8);

    let f = file(b, "blob/core.bin");
    assert_eq!(f.account.parsed, 0);
    assert!(f.account.unparsed > 0);

    // The 50 MB line is cut and counted, and the next line still parses.
    let f = file(b, "long/n11.log");
    assert_eq!(
        (f.account.lines_read, f.account.parsed, f.account.truncated),
        (2, 2, 1)
    );
    assert!(f.account.bytes > 50 << 20);

    // Duplicates: one path given twice is read once; the same bytes under two
    // paths are two files of the same node (both visible in the report).
    assert_eq!(
        b.files
            .iter()
            .filter(|f| f.display.ends_with("dup-b/n12.log"))
            .count(),
        1
    );
    assert_eq!(b.nodes["n12"].files.len(), 2);

    // Every error names a file and says what happened.
    for e in &b.errors {
        assert!(!e.file.is_empty() && !e.message().is_empty(), "{e:?}");
    }
    let v = report_json(&a);
    assert_eq!(
        v["input"]["errors"].as_array().unwrap().len(),
        b.errors.len()
    );
}

#[test]
fn max_line_is_configurable_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = nats_log("n1", 1);
    s.push_str(&line(
        "2026/11/24 19:01:09.000000",
        "WRN",
        &"y".repeat(5000),
    ));
    let p = write(dir.path(), "n1.log", s.as_bytes());
    let opts = IngestOptions {
        log: LogOptions {
            max_line: 200,
            ..LogOptions::default()
        },
        ..IngestOptions::default()
    };
    let b = read(&[&p], &opts);
    assert_balanced(&b);
    let f = file(&b, "n1.log");
    assert_eq!((f.account.parsed, f.account.truncated), (6, 1));
    let long = b
        .events
        .iter()
        .find(|e| e.message.starts_with("yyy"))
        .unwrap();
    assert!(long.message.len() < 200);
}

/// Local-time logs across both DST changes of Europe/Paris (2026-03-29
/// 02:00 → 03:00, 2026-10-25 03:00 → 02:00): every line is parsed, times
/// are converted with the offset in force; the repeated hour is read as its
/// first occurrence (CEST), the skipped hour with the offset after the gap.
#[test]
fn dst_change_in_local_time_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = String::new();
    for t in [
        "2026/03/29 01:59:00.000000",
        "2026/03/29 02:30:00.000000",
        "2026/03/29 03:00:00.000000",
        "2026/10/25 01:59:00.000000",
        "2026/10/25 02:30:00.000000",
        "2026/10/25 03:00:00.000000",
    ] {
        s.push_str(&line(t, "WRN", "tick"));
    }
    let p = write(dir.path(), "paris/n1.log", s.as_bytes());
    let opts = IngestOptions {
        log: LogOptions {
            zone: Zone::parse("Europe/Paris").unwrap(),
            ..LogOptions::default()
        },
        ..IngestOptions::default()
    };
    let b = read(&[&p], &opts);
    assert_balanced(&b);
    assert_eq!(file(&b, "n1.log").account.parsed, 6);
    let mut got: Vec<String> = b.events.iter().map(|e| e.ts.unwrap().rfc3339()).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "2026-03-29T00:30:00.000000Z",
            "2026-03-29T00:59:00.000000Z",
            "2026-03-29T01:00:00.000000Z",
            "2026-10-24T23:59:00.000000Z",
            "2026-10-25T00:30:00.000000Z",
            "2026-10-25T02:00:00.000000Z",
        ]
    );
}

/// Two servers configured with the same `server_name` cannot be told apart
/// by their banners: both files are attributed to that one name, and the
/// report shows it (one node, two files, each with its attribution), so the
/// operator can separate them with `--node NAME=PATH`.
#[test]
fn two_nodes_with_the_same_server_name() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hostA/nats.log", nats_log("dup", 1).as_bytes());
    write(dir.path(), "hostB/nats.log", nats_log("dup", 2).as_bytes());
    let a = analyze_with(&[dir.path()], &IngestOptions::default());
    assert_balanced_everywhere(&a);
    assert_eq!(a.bundle.nodes.len(), 1);
    assert_eq!(a.bundle.nodes["dup"].files.len(), 2);
    let v = report_json(&a);
    let files = v["input"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    for f in files {
        assert_eq!(f["node"], "dup");
        assert_eq!(f["attribution"], "startup banner (Name:)");
    }
    // --node overrides tell them apart.
    let opts = IngestOptions {
        node_overrides: vec![
            ("a".to_string(), "hostA".to_string()),
            ("b".to_string(), "hostB".to_string()),
        ],
        ..IngestOptions::default()
    };
    let b = read(&[dir.path()], &opts);
    let names: Vec<&str> = b.nodes.keys().map(|k| &**k).collect();
    assert_eq!(names, ["a", "b"]);
}
