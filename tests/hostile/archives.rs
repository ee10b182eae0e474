//! Archives are streams: member names are labels, never paths; links are
//! never followed; bombs, total size and nesting stop with a clear message.

use super::*;
use coroner::source::Limits;

/// A tar whose headers are written byte by byte, so names and link targets
/// can be anything (the `tar` crate's builder refuses `..`).
fn raw_tar(entries: &[(&[u8], tar::EntryType, &[u8], &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_ustar();
        {
            let u = h.as_ustar_mut().unwrap();
            u.name[..name.len()].copy_from_slice(name);
            u.linkname[..link.len()].copy_from_slice(link);
        }
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn dir_listing(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = walk(p)
        .into_iter()
        .map(|x| x.strip_prefix(p).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            out.extend(walk(&e));
        }
        out.push(e);
    }
    out
}

#[test]
fn tar_names_with_dotdot_absolute_and_links_never_touch_the_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("secret.log");
    std::fs::write(&outside, nats_log("secret", 1)).unwrap();
    let inner = dir.path().join("work");
    std::fs::create_dir(&inner).unwrap();
    let n1 = nats_log("n1", 1);
    let n2 = nats_log("n2", 1);
    let n3 = nats_log("n3", 1);
    let t = raw_tar(&[
        (
            b"../../escape/n1.log",
            tar::EntryType::Regular,
            n1.as_bytes(),
            b"",
        ),
        (b"/abs/n2.log", tar::EntryType::Regular, n2.as_bytes(), b""),
        (
            b"./x/./../n3.log",
            tar::EntryType::Regular,
            n3.as_bytes(),
            b"",
        ),
        (b"sym.log", tar::EntryType::Symlink, b"", b"../secret.log"),
        (b"hard.log", tar::EntryType::Link, b"", b"../secret.log"),
        (b"etc", tar::EntryType::Symlink, b"", b"/etc"),
        (b"etc/passwd", tar::EntryType::Regular, b"root:x:0:0\n", b""),
        (b"dev.log", tar::EntryType::Char, b"", b""),
        (b"fifo.log", tar::EntryType::Fifo, b"", b""),
    ]);
    let p = write(&inner, "bundle.tar", &t);
    let before = dir_listing(dir.path());
    let b = read_all(&[&p]);
    assert_eq!(dir_listing(dir.path()), before, "the filesystem changed");
    assert_balanced(&b);
    let names: Vec<&str> = b.files.iter().map(|f| &*f.display).collect();
    for n in &names {
        let member = n.split('!').nth(1).unwrap();
        assert!(
            !member.starts_with('/') && !member.split('/').any(|c| c == ".." || c == "."),
            "{names:?}"
        );
    }
    // Links, devices and fifos are skipped; the link targets were never read.
    assert!(!b.nodes.contains_key("secret"), "{:?}", b.nodes.keys());
    assert!(
        !names
            .iter()
            .any(|n| n.contains("sym") || n.contains("hard"))
    );
    assert!(
        !names
            .iter()
            .any(|n| n.contains("dev") || n.contains("fifo"))
    );
    // A member under a symlinked directory name is just a name: its own bytes.
    let etc = file(&b, "bundle.tar!etc/passwd");
    assert_eq!(etc.account.lines_read, 1);
    for n in ["n1", "n2", "n3"] {
        assert!(b.nodes.contains_key(n), "{n}: {names:?}");
    }
}

#[test]
fn zip_names_and_symlinks_never_touch_the_filesystem() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret.log"), nats_log("secret", 1)).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (name, node) in [
        ("../../escape/n1.log", "n1"),
        ("/abs/n2.log", "n2"),
        ("C:\\win\\..\\n3.log", "n3"),
    ] {
        w.start_file(name, o).unwrap();
        w.write_all(nats_log(node, 1).as_bytes()).unwrap();
    }
    w.add_symlink("link.log", "../secret.log", o).unwrap();
    w.add_symlink("abs-link.log", "/etc/passwd", o).unwrap();
    let z = w.finish().unwrap().into_inner();
    let inner = dir.path().join("work");
    let p = write(&inner, "bundle.zip", &z);
    let before = dir_listing(dir.path());
    let b = read_all(&[&p]);
    assert_eq!(dir_listing(dir.path()), before);
    assert_balanced(&b);
    let names: Vec<&str> = b.files.iter().map(|f| &*f.display).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for n in &names {
        let member = n.split('!').nth(1).unwrap();
        assert!(
            !member.starts_with('/') && !member.contains(".."),
            "{names:?}"
        );
    }
    assert!(!b.nodes.contains_key("secret"));
}

fn bomb_opts(max_ratio: u64) -> IngestOptions {
    IngestOptions {
        limits: Limits {
            max_ratio,
            ..Limits::default()
        },
        ..IngestOptions::default()
    }
}

fn assert_ratio_error(b: &Bundle, file: &str) {
    let e = b
        .errors
        .iter()
        .find(|e| e.file.ends_with(file))
        .unwrap_or_else(|| panic!("no error for {file}: {:?}", b.errors));
    assert!(
        e.message().contains("ratio") && e.message().contains("--max-ratio"),
        "{e}"
    );
}

#[test]
fn zip_bomb_is_stopped_by_the_ratio_limit() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![b'0'; 64 << 20];
    let p = write(
        dir.path(),
        "bomb.zip",
        &zip(&[
            ("big.log", &zeros),
            ("n1.log", nats_log("n1", 1).as_bytes()),
        ]),
    );
    let b = read(&[&p], &bomb_opts(100));
    assert_ratio_error(&b, "bomb.zip!big.log");
    // What was read before the limit is accounted; the next member is read.
    assert_balanced(&b);
    assert_eq!(file(&b, "bomb.zip!n1.log").account.parsed, 5);
    // The same zip inside a tar (buffered, then read the same way).
    let t = tar(&[("inner.zip", &std::fs::read(&p).unwrap())]);
    let p = write(dir.path(), "outer/x.tar", &t);
    let b = read(&[&p], &bomb_opts(100));
    assert_ratio_error(&b, "x.tar!inner.zip!big.log");
}

#[test]
fn gzip_bomb_is_stopped_by_the_ratio_and_total_limits() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..40 {
        e.write_all(&chunk).unwrap();
    }
    let gz = e.finish().unwrap();
    let p = write(dir.path(), "bomb.log.gz", &gz);
    let b = read(&[&p], &bomb_opts(100));
    assert_ratio_error(&b, "bomb.log.gz");
    assert_balanced(&b);
    // Total decompressed size per input.
    let opts = IngestOptions {
        limits: Limits {
            max_total_bytes: 1 << 20,
            ..Limits::default()
        },
        ..IngestOptions::default()
    };
    let b = read(&[&p], &opts);
    assert!(
        b.errors
            .iter()
            .any(|e| e.file.ends_with("bomb.log.gz") && e.message().contains("--max-input-bytes")),
        "{:?}",
        b.errors
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // tar in tar in ... 6 deep; each level also holds a log.
    let mut blob = tar(&[("n6.log", nats_log("n6", 1).as_bytes())]);
    for level in (0..6).rev() {
        let log = nats_log(&format!("n{level}"), 1);
        blob = tar(&[
            (&format!("n{level}.log") as &str, log.as_bytes()),
            ("deeper.tar", &blob),
        ]);
    }
    let p = write(dir.path(), "deep.tar", &blob);
    let b = read_all(&[&p]);
    assert_balanced(&b);
    let max = Limits::default().max_depth;
    assert!(
        b.errors.iter().any(|e| e
            .message()
            .contains(&format!("nested deeper than {max} levels"))),
        "{:?}",
        b.errors
    );
    // Levels within the limit were read.
    assert!(b.nodes.contains_key("n0") && b.nodes.contains_key("n3"));
    assert!(!b.nodes.contains_key("n6"));

    // Compression layers are limited too: gzip of gzip of gzip of gzip.
    let mut g = nats_log("g1", 1).into_bytes();
    for _ in 0..4 {
        g = gzip(&g);
    }
    let p = write(dir.path(), "g/g1.log.gz", &g);
    let b = read_all(&[&p]);
    assert!(
        b.errors
            .iter()
            .any(|e| e.message().contains("nested compression layers")),
        "{:?}",
        b.errors
    );
}

/// Metric dumps end early too: a truncated gzip or a bomb is an error naming
/// the file, and the parser stops (the CSV reader must not spin on a
/// reader that keeps failing).
#[test]
fn truncated_and_bomb_metric_dumps_are_errors() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("ts,node,metric,value\n");
    for i in 0..20_000 {
        csv.push_str(&format!(
            "2026-11-24T19:00:{:02}Z,n1,cpu,{}\n",
            i % 60,
            i % 100
        ));
    }
    let gz = gzip(csv.as_bytes());
    write(dir.path(), "a/n1.metrics.csv.gz", &gz[..gz.len() / 2]);
    let mut varz = String::new();
    for i in 0..2000 {
        varz.push_str(&format!(
            "{{\"server_id\":\"X\",\"server_name\":\"n2\",\"now\":\"2026-11-24T19:00:{:02}Z\",\"cpu\":{}}}\n",
            i % 60,
            i % 100
        ));
    }
    let gz = gzip(varz.as_bytes());
    write(dir.path(), "b/n2.varz.jsonl.gz", &gz[..gz.len() / 2]);
    let mut prom = String::new();
    for i in 0..5000 {
        prom.push_str(&format!("# TYPE a{i} gauge\na{i} {i}\n"));
    }
    let gz = gzip(prom.as_bytes());
    write(dir.path(), "c/n3.prom.gz", &gz[..gz.len() / 2]);
    // a CSV bomb: valid header, then a flood of identical rows
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(b"ts,node,metric,value\n").unwrap();
    let row = b"2026-11-24T19:00:00Z,n4,cpu,1\n".repeat(1 << 15);
    for _ in 0..40 {
        e.write_all(&row).unwrap();
    }
    write(dir.path(), "d/n4.metrics.csv.gz", &e.finish().unwrap());
    let t = std::time::Instant::now();
    let b = read(&[dir.path()], &bomb_opts(20));
    assert!(t.elapsed() < std::time::Duration::from_secs(120));
    assert_balanced(&b);
    for f in [
        "n1.metrics.csv.gz",
        "n2.varz.jsonl.gz",
        "n3.prom.gz",
        "n4.metrics.csv.gz",
    ] {
        assert!(
            b.errors.iter().any(|e| e.file.ends_with(f)),
            "{f}: {:?}",
            b.errors
        );
    }
    assert!(
        b.errors
            .iter()
            .any(|e| e.file.ends_with("n4.metrics.csv.gz") && e.message().contains("--max-ratio")),
        "{:?}",
        b.errors
    );
}

#[test]
fn metric_lines_longer_than_max_line_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let line = |i: usize| {
        format!(
            "{{\"server_id\":\"X\",\"server_name\":\"n2\",\"now\":\"2026-11-24T19:00:{i:02}Z\",\"cpu\":{i},\"mem\":1000}}\n"
        )
    };
    // A JSON-lines /varz dump with one 3 MB line in the middle, a
    // Prometheus dump with one 3 MB comment line.
    let mut varz = String::new();
    for i in 0..10 {
        varz.push_str(&line(i));
    }
    varz.push_str(&format!(
        "{{\"server_name\":\"n2\",\"pad\":\"{}\"}}\n",
        "x".repeat(3 << 20)
    ));
    for i in 10..20 {
        varz.push_str(&line(i));
    }
    write(dir.path(), "n2.varz.jsonl", varz.as_bytes());
    let mut prom = format!("# HELP {}\n", "y".repeat(3 << 20));
    prom.push_str(
        "# TYPE gnatsd_varz_cpu gauge\ngnatsd_varz_cpu{server_id=\"X\"} 3 1764010800000\n",
    );
    write(dir.path(), "n3.prom", prom.as_bytes());
    let opts = IngestOptions {
        log: coroner::parse::log::LogOptions {
            max_line: 1 << 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let b = read(&[dir.path()], &opts);
    assert_balanced(&b);
    let f = |name: &str| b.files.iter().find(|f| f.display.ends_with(name)).unwrap();
    let varz = f("n2.varz.jsonl");
    assert_eq!(varz.account.lines_read, 21);
    assert_eq!(varz.account.unparsed, 1);
    assert!(
        varz.account
            .unparsed_samples
            .iter()
            .any(|(l, why)| *l == 11 && why.contains("--max-line")),
        "{:?}",
        varz.account.unparsed_samples
    );
    let m = b
        .metric_files
        .iter()
        .find(|m| m.meta.display.ends_with("n2.varz.jsonl"))
        .unwrap();
    assert_eq!(
        m.report
            .samples
            .iter()
            .filter(|s| &**s.metric() == "cpu")
            .count(),
        20
    );
    let prom = f("n3.prom");
    assert_eq!(prom.account.lines_read, 3);
    assert_eq!(
        prom.account.unparsed,
        1,
        "{:?}",
        prom.account
            .unparsed_samples
            .iter()
            .map(|(l, w)| (l, w.chars().take(90).collect::<String>()))
            .collect::<Vec<_>>()
    );
}
