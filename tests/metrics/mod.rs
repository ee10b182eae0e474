//! Metric dumps → MetricSet: every input shape, the real captures, the CLI.

mod common;
mod real;
mod shapes;
