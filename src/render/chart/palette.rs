//! Colours: fixed inks, one colour per node (the failing node red
//! everywhere), severities and state bands.

use super::ChartInput;
use crate::model::{Node, Severity};
use plotters::style::RGBColor;
use std::collections::HashMap;

pub(super) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(super) const MUTED: RGBColor = RGBColor(0x6b, 0x6b, 0x6b);
pub(super) const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
pub(super) const FRAME: RGBColor = RGBColor(0xbd, 0xbd, 0xbd);
pub(super) const LANE_ODD: RGBColor = RGBColor(0xf6, 0xf6, 0xf6);
pub(super) const WARN: RGBColor = RGBColor(0xf2, 0xa5, 0x1a);
pub(super) const ERROR: RGBColor = RGBColor(0x7a, 0x1f, 0x2b);
pub(super) const ROOT: RGBColor = RGBColor(0xb0, 0x00, 0x20);
pub(super) const RESTART: RGBColor = RGBColor(0x11, 0x11, 0x11);
/// The failing node, everywhere.
pub(super) const FAILING: RGBColor = RGBColor(0xd6, 0x27, 0x28);
/// Other nodes, in lane order (no red, no amber: those mean failing/warning).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x17, 0xa2, 0xb8),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xa0, 0xa0, 0x20),
];

pub(super) fn severity_color(s: Severity) -> RGBColor {
    match s {
        Severity::Info => RGBColor(0x9e, 0x9e, 0x9e),
        Severity::Low => RGBColor(0x4a, 0x90, 0xd9),
        Severity::Medium => RGBColor(0xf2, 0xa5, 0x1a),
        Severity::High => RGBColor(0xe8, 0x59, 0x0c),
        Severity::Critical => RGBColor(0xb0, 0x00, 0x20),
    }
}

/// Colour and opacity of a state band, by its label.
pub(super) fn band_color(label: &str) -> (RGBColor, f64) {
    let l = label.to_ascii_lowercase();
    if l.contains("leader") {
        (RGBColor(0x7e, 0x57, 0xc2), 0.22)
    } else if l.contains("down") || l.contains("absent") {
        (RGBColor(0x20, 0x20, 0x20), 0.45)
    } else if l.contains("stopped") || l.contains("frozen") {
        (RGBColor(0x1e, 0x3a, 0x5f), 0.35)
    } else if l.contains("unresponsive") {
        (RGBColor(0x50, 0x50, 0x50), 0.22)
    } else {
        (RGBColor(0x60, 0x7d, 0x8b), 0.25)
    }
}

/// Each node's colour: the failing node [`FAILING`], the others the palette
/// in lane order.
pub(super) fn node_colors(input: &ChartInput) -> HashMap<Node, RGBColor> {
    let mut out = HashMap::new();
    let mut i = 0;
    for n in &input.nodes {
        if input.failing_node.as_ref() == Some(n) {
            out.insert(n.clone(), FAILING);
        } else {
            out.insert(n.clone(), PALETTE[i % PALETTE.len()]);
            i += 1;
        }
    }
    out
}

pub(super) fn color_of(colors: &HashMap<Node, RGBColor>, n: &str) -> RGBColor {
    colors.get(n).copied().unwrap_or(MUTED)
}
