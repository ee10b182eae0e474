//! Plain data shared by every stage: timestamps, locations, log events, metric
//! samples and series, findings.
//!
//! Architecture invariant: no I/O, no polars, no serde here. Serialization
//! lives at the boundaries (`render::json` has its own wire types).

mod event;
mod finding;
mod series;
mod time;

pub use event::{Event, Fields, Level, Location, Value};
pub use finding::{Category, Evidence, Finding, Severity, CATEGORIES};
pub use series::{Point, Series, Span, WindowStats};
pub use time::{format_duration, Nanos, Timestamp, NANOS_PER_SEC};

use std::sync::Arc;

/// A node (server) name, shared cheaply between events.
pub type Node = Arc<str>;
