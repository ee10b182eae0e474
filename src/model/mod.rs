//! Plain data shared by every stage: timestamps, locations, log events, metric
//! samples and series, findings.
//!
//! Architecture invariant: no I/O, no polars, no serde here. Serialization
//! lives at the boundaries (`render::json` has its own wire types).

mod event;
mod finding;
mod meaning;
mod release;
mod series;
mod time;

pub use event::{Event, Fields, Level, LineView, Location, Value, ValueRef, value_hash};
pub use finding::{Category, Evidence, Finding, Severity};
pub use meaning::{Meaning, Weight};
pub use release::{Release, ReleaseRange, SERVER_VERSION_METRIC, Upper};
pub use series::{Point, Series, Span, WindowStats};
pub use time::{NANOS_PER_SEC, Nanos, Timestamp, format_duration};

use std::sync::Arc;

/// A node (server) name, shared cheaply between events.
pub type Node = Arc<str>;
