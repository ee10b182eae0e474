//! The JSON report is byte-identical for 1 and 8 threads and for the inputs
//! given in any order.

use super::*;

fn report_bytes(paths: &[&Path], threads: usize) -> Vec<u8> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let a = pool.install(|| analyze_with(paths, &IngestOptions::default()));
    let mut out = Vec::new();
    coroner::render::report::json::write(&mut out, &a).unwrap();
    out
}

fn same_for_threads_and_order(paths: &[&Path]) {
    let base = report_bytes(paths, 1);
    assert!(base.len() > 100);
    assert!(base == report_bytes(paths, 8), "1 vs 8 threads: {paths:?}");
    let mut rev = paths.to_vec();
    rev.reverse();
    assert!(base == report_bytes(&rev, 8), "reversed order: {paths:?}");
}

#[test]
fn json_report_is_the_same_for_threads_and_input_order() {
    let freeze = sample("node-freeze");
    let crash = sample("crash-restart");
    let slow = sample("slow-consumer");
    let store = sample("store-full");
    same_for_threads_and_order(&[&freeze]);
    same_for_threads_and_order(&[&slow, &store]);
    // Two captures with the same node names, plus loose files.
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "x/n1.log", nats_log("n1", 3).as_bytes());
    let b = write(
        dir.path(),
        "y/n2.log.gz",
        &gzip(nats_log("n2", 4).as_bytes()),
    );
    same_for_threads_and_order(&[&crash, &a, &freeze, &b]);
}
