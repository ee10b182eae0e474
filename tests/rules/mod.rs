//! The rule packs on the real captures (samples/real): the findings must name
//! the fault on the right node, and the healthy capture must give no finding
//! of severity high or critical.

mod diagnostics;
mod meaning;
mod real;
mod semantics;
