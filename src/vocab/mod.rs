//! The names every stage agrees on: cause categories with their role, metric
//! series with their units, and the event kinds the Rust code itself names.
//!
//! Architecture invariant: a category, metric or event kind spelled in Rust
//! code outside this module is a bug; the parsers produce names from here, the
//! rule checker accepts names from here, `src/metrics/METRICS.md` is generated
//! from here (a test keeps it equal) and the renderers take labels and units
//! from here. Tests fail when a rule pack or a module uses a name this module
//! lacks, or when this module lists a name nothing produces.
//!
//! Plain data: no I/O, no dependencies beyond `std`.

pub mod category;
pub mod kind;
pub mod metric;

pub use category::{CATEGORIES, CategoryDef, Role};
pub use metric::{METRICS, MetricDef, MetricKind, Unit};
