//! All integration tests link into one binary; one module per area.

mod common;
mod ingest;
mod rules;
