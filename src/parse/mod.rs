//! Text → records. One file per format: nats-server text logs and their
//! deployment wrappers, JSON structured logs ([`log`]); metric dumps
//! ([`metric`]). Parsing never fails: a line is a record, a continuation of
//! the previous record, or unparsed (counted, with its location).
//! [`json_prefix`] reads a JSON value that a paste cut, for both.

pub mod json_prefix;
pub mod lines;
pub mod log;
pub mod metric;
