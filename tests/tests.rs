//! The integration tests that need no real server, in one binary; one module
//! per area. Tests that run real nats-server clusters are in `live.rs`.

mod analyze;
mod cases;
mod chart;
mod cli;
mod common;
mod export;
mod hostile;
mod ingest;
mod metrics;
mod rules;
mod tidy;
mod vocab;
