//! All integration tests link into one binary; one module per area.

mod analyze;
mod cases;
mod chart;
mod cli;
mod collect;
mod common;
mod export;
mod hostile;
mod ingest;
mod metrics;
mod releases;
mod rules;
mod tidy;
mod vocab;
