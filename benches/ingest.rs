//! `coroner::ingest::ingest` end to end (find files, decompress, parse,
//! classify, attribute, merge, sort) on the real captures of samples/real:
//! the .tar.gz bundles as shipped, and the same files unpacked in a
//! directory; with 1 and 2 worker threads; keeping counts only (what `stats`
//! does) or every event (what `analyze` does). Throughput counts the
//! uncompressed bytes of logs and metric dumps.

mod common;

use coroner::ingest::{IngestOptions, Keep, ingest};
use coroner::source::Input;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn dir_bytes(dir: &std::path::Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            dir_bytes(&e.path())
        } else {
            m.len()
        };
    }
    n
}

fn ingestion(c: &mut Criterion) {
    let tars = common::capture_paths();
    let tmp = tempfile::tempdir().unwrap();
    for p in &tars {
        let name = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".tar.gz", "");
        let f = std::fs::File::open(p).unwrap();
        tar::Archive::new(flate2::read::GzDecoder::new(f))
            .unpack(tmp.path().join(name))
            .unwrap();
    }
    let bytes = dir_bytes(tmp.path());
    let rules = coroner::lang::RuleSet::builtin();
    let classifier = rules.classifier_ref();
    let tar_inputs: Vec<Input> = tars.iter().cloned().map(Input::Path).collect();
    let dir_inputs = vec![Input::Path(tmp.path().to_path_buf())];

    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for (keep_name, keep) in [("counts", Keep::Counts), ("all", Keep::All)] {
            let opts = IngestOptions {
                keep,
                ..IngestOptions::default()
            };
            for (src, inputs) in [("tar.gz", &tar_inputs), ("dir", &dir_inputs)] {
                let id = BenchmarkId::new(format!("{src}/{keep_name}"), format!("{threads}t"));
                g.bench_function(id, |b| {
                    b.iter(|| {
                        let bundle = pool.install(|| ingest(inputs, classifier, &opts));
                        bundle.lines_read()
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, ingestion);
criterion_main!(benches);
