//! coroner: tells which node of a NATS cluster failed first, when and why,
//! from server logs and metric dumps.
//!
//! The pipeline (each arrow is one module boundary):
//! paths → [`source`] → [`parse`] (records, unparsed lines counted) →
//! [`classify`] (events) and [`metrics`] (series) → [`engine`] (findings) →
//! [`diagnose`] (verdict) → [`render`].

// The library returns data; only the binary prints (tests/tidy checks it too).
#![cfg_attr(not(test), warn(clippy::print_stdout, clippy::print_stderr))]

pub mod analyze;
pub mod classify;
pub mod collect;
pub mod diagnose;
pub mod engine;
pub mod explain;
pub mod export;
pub mod ingest;
pub mod lang;
pub mod metrics;
pub mod model;
pub mod parse;
pub mod render;
pub mod source;
pub mod vocab;
