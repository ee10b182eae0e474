//! Parsers: bytes → records. Each submodule owns one family of inputs.

pub mod metric;
