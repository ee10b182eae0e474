//! The real 1-second captures in /work/shared/nats-real/*/metrics.

use crate::cmd_metrics::{MetricsArgs, MetricsFormat, run};
use crate::common::load_dir;
use std::path::Path;

const REAL: &str = "/work/shared/nats-real";

fn scenario(name: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(REAL).join(name).join("metrics");
    p.is_dir().then_some(p)
}

fn summary_text(set: &coroner::metrics::MetricSet) -> String {
    let args = MetricsArgs {
        metric: vec![],
        node: vec![],
        format: MetricsFormat::Text,
        output: None,
    };
    let mut out = Vec::new();
    run(set, &args, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn node_freeze_print() {
    let Some(dir) = scenario("node-freeze") else {
        return;
    };
    let (set, reports) = load_dir(&dir);
    for (n, r) in &reports {
        eprintln!(
            "{n}: read {} parsed {} unparsed {:?} samples {}",
            r.lines_read,
            r.lines_parsed,
            r.unparsed.iter().take(3).collect::<Vec<_>>(),
            r.samples.len()
        );
    }
    eprintln!("{}", summary_text(&set));
}
