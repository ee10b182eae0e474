//! Metric dumps → MetricSet: every input shape, the real captures, the CLI.

#[path = "../../src/bin/coroner/cmd_metrics.rs"]
#[allow(dead_code)]
mod cmd_metrics;

mod common;
mod perf;
mod real;
mod shapes;
