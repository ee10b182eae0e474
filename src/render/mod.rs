//! Report and listing renderers. Every string that came from a log or a
//! metric dump is untrusted: it is escaped for the target (terminal, HTML,
//! SVG, Markdown) here, at the boundary.

pub mod chart;
pub mod escape;
pub mod events;
pub mod metrics;
pub mod report;
pub mod stats;

/// Output options shared by the text renderers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}
