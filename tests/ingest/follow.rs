//! Growing inputs (`coroner watch`'s reading): the real captures written
//! piece by piece into a folder while a `Follower` polls it — pieces cut
//! anywhere, mid-line included, files appearing late — give, once the input
//! ends, the very report `analyze` gives on the finished folder. Rotation and
//! truncation keep what was read before and follow the new file.

use crate::common::*;
use coroner::analyze::{Analysis, ingest_options, run_bundle};
use coroner::ingest::{Follower, IngestOptions};
use coroner::lang::RuleSet;
use coroner::source::Input;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A small deterministic generator (xorshift) for the piece sizes.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn json(a: &Analysis) -> String {
    let mut out = Vec::new();
    coroner::render::report::json::write(&mut out, a).unwrap();
    String::from_utf8(out).unwrap()
}

fn analyze_dir(dir: &Path, rules: &RuleSet) -> Analysis {
    coroner::analyze::run(
        &[Input::Path(dir.to_path_buf())],
        rules,
        &IngestOptions::default(),
    )
}

/// Writes `files` into `dir` in `rounds` rounds of pieces of random size,
/// polling `f` after each round; files start in later rounds too.
fn replay(dir: &Path, files: &[(PathBuf, Vec<u8>)], f: &mut Follower, seed: u64, rounds: usize) {
    let mut rng = Rng(seed);
    let mut written = vec![0usize; files.len()];
    let start: Vec<usize> = files.iter().map(|_| rng.next(rounds / 2)).collect();
    for round in 0..rounds {
        for (i, (rel, bytes)) in files.iter().enumerate() {
            if round < start[i] || written[i] == bytes.len() {
                continue;
            }
            let left = bytes.len() - written[i];
            let n = if round + 1 == rounds {
                left
            } else {
                (1 + rng.next(2 * bytes.len() / (rounds - start[i]).max(1))).min(left)
            };
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .unwrap();
            out.write_all(&bytes[written[i]..written[i] + n]).unwrap();
            written[i] += n;
        }
        f.poll();
    }
}

#[test]
fn followed_captures_give_analyzes_report_once_the_input_ends() {
    let rules = RuleSet::builtin();
    let opts = ingest_options(&rules, &IngestOptions::default());
    let captures = [
        "samples/real/crash-restart.tar.gz",
        "samples/real/mqtt-storm.tar.gz",
        "samples/lab/2.15.1-node-freeze.tar.gz",
    ];
    for (k, c) in captures.iter().enumerate() {
        let files = unpack_tar_gz(&root().join(c));
        for (seed, rounds) in [(7 + k as u64, 23), (1000 + k as u64, 5)] {
            let dir = tempfile::tempdir().unwrap();
            let mut f = Follower::new(
                &[Input::Path(dir.path().to_path_buf())],
                rules.classifier_ref(),
                &opts,
            );
            replay(dir.path(), &files, &mut f, seed, rounds);
            f.finish();
            let followed = run_bundle(f.bundle(), &rules);
            let whole = analyze_dir(dir.path(), &rules);
            assert!(
                !whole.findings.is_empty(),
                "{c}: the capture must give findings"
            );
            assert_eq!(
                json(&followed),
                json(&whole),
                "{c} in {rounds} rounds (seed {seed}): the followed report differs from analyze's"
            );
        }
    }
}

#[test]
fn a_partial_last_line_waits_for_its_newline_and_finish_takes_it() {
    let rules = RuleSet::builtin();
    let opts = ingest_options(&rules, &IngestOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("n1.log");
    std::fs::write(
        &log,
        "[1] 2026/11/24 19:02:17.676000 [INF] Starting nats-server\n[1] 2026/11/24 19:02:18.1",
    )
    .unwrap();
    let mut f = Follower::new(
        &[Input::Path(dir.path().to_path_buf())],
        rules.classifier_ref(),
        &opts,
    );
    let g = f.poll();
    assert_eq!(g.new_files, 1);
    let b = f.bundle();
    assert_eq!(b.lines_read(), 1, "the partial line is not read yet");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(b"00000 [WRN] Healthcheck failed")
        .unwrap();
    f.poll();
    assert_eq!(f.bundle().lines_read(), 1, "still no newline");
    f.finish();
    let b = f.bundle();
    assert_eq!(b.lines_read(), 2);
    assert_eq!(b.files[0].account.parsed, 2);
}

#[test]
fn rotation_and_truncation_keep_what_was_read_and_follow_the_new_file() {
    let rules = RuleSet::builtin();
    let opts = ingest_options(&rules, &IngestOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    std::fs::create_dir(&live).unwrap();
    let log = live.join("n1.log");
    let line = |s: u32, msg: &str| format!("[1] 2026/11/24 19:02:{s:02}.000000 [WRN] {msg}\n");
    std::fs::write(&log, line(1, "first file, line one")).unwrap();
    let mut f = Follower::new(&[Input::Path(live.clone())], rules.classifier_ref(), &opts);
    f.poll();
    // Rotated: a line is appended to the old file after the rename, then a
    // new file takes the name.
    let old = dir.path().join("n1.log.1");
    std::fs::rename(&log, &old).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&old)
        .unwrap()
        .write_all(line(2, "first file, written during the rotation").as_bytes())
        .unwrap();
    std::fs::write(&log, line(3, "second file, line one")).unwrap();
    let g = f.poll();
    assert_eq!(g.restarted, 1);
    assert_eq!(f.bundle().lines_read(), 3, "the rotated file is drained");
    // Truncated in place (copytruncate): followed from its start.
    std::fs::write(&log, line(4, "after truncation")).unwrap();
    let g = f.poll();
    assert_eq!(g.restarted, 1);
    let b = f.bundle();
    assert_eq!(b.lines_read(), 4);
    let msgs: Vec<&str> = b.events.iter().map(|e| &*e.message).collect();
    assert_eq!(
        msgs,
        [
            "first file, line one",
            "first file, written during the rotation",
            "second file, line one",
            "after truncation"
        ]
    );
}
