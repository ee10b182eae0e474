//! The analysis report in four media: JSON (a versioned contract), terminal
//! text, Markdown and self-contained HTML. All share [`view`], which picks what
//! to show (timeline, per-node summaries, evidence) from an [`Analysis`].

pub mod html;
pub mod json;
pub mod markdown;
pub mod text;
pub mod view;

pub use crate::analyze::Analysis;
