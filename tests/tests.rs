//! All integration tests link into one binary; one module per area.

mod chart;
mod common;
mod ingest;
