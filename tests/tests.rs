//! All integration tests link into one binary; one module per area.

mod analyze;
mod chart;
mod cli;
mod common;
mod hostile;
mod ingest;
mod metrics;
mod rules;
