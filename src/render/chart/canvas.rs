//! The drawing surface: pixel primitives on the root area, fonts scaled to
//! the image (the same code for the PNG and the SVG backend).

use super::ChartError;
use super::encode::FONT_FAMILY;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::borrow::Cow;

/// A pixel position on the image.
pub(super) type Px = (i32, i32);

pub(super) type R = Result<(), ChartError>;

pub(super) fn err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Drawing(e.to_string())
}

/// Thin layer over the root area: pixel primitives, fonts scaled to the image.
pub(super) struct Canvas<'a, DB: DrawingBackend> {
    pub(super) area: &'a DrawingArea<DB, Shift>,
    /// Font scale: 1.0 at 1600×900.
    pub(super) k: f64,
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    /// `v` reference pixels (at 1600×900) scaled to the image.
    pub(super) fn ki(&self, v: f64) -> i32 {
        (v * self.k).round() as i32
    }

    pub(super) fn style(&self, size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
        TextStyle {
            font: (FONT_FAMILY, size * self.k).into_font(),
            color: color.to_backend_color(),
            pos: Pos::new(h, v),
        }
    }

    pub(super) fn rect(&self, a: Px, b: Px, color: RGBAColor) -> R {
        if a.0 == b.0 || a.1 == b.1 {
            return Ok(());
        }
        self.area
            .draw(&Rectangle::new([a, b], color.filled()))
            .map_err(err)
    }

    pub(super) fn frame(&self, a: Px, b: Px, color: RGBColor) -> R {
        self.area
            .draw(&Rectangle::new([a, b], color.stroke_width(1)))
            .map_err(err)
    }

    pub(super) fn line(&self, pts: Vec<Px>, color: RGBAColor, width: u32) -> R {
        if pts.len() < 2 {
            return Ok(());
        }
        self.area
            .draw(&PathElement::new(pts, color.stroke_width(width)))
            .map_err(err)
    }

    /// A vertical dashed line from `y0` to `y1` at `x`.
    pub(super) fn dashed(&self, x: i32, y0: i32, y1: i32, color: RGBAColor) -> R {
        self.area
            .draw(&DashedPathElement::new(
                vec![(x, y0), (x, y1)],
                (4.0 * self.k).max(2.0) as u32,
                (4.0 * self.k).max(2.0) as u32,
                color.stroke_width(1),
            ))
            .map_err(err)
    }

    pub(super) fn dot(&self, at: Px, r: i32, color: RGBAColor) -> R {
        self.area
            .draw(&Circle::new(at, r, color.filled()))
            .map_err(err)
    }

    pub(super) fn polygon(&self, pts: Vec<Px>, color: RGBAColor) -> R {
        self.area
            .draw(&Polygon::new(pts, color.filled()))
            .map_err(err)
    }

    pub(super) fn text(&self, s: &str, at: Px, style: &TextStyle) -> R {
        if s.is_empty() {
            return Ok(());
        }
        self.area.draw_text(s, style, at).map_err(err)
    }

    /// Bold without a bold face: the text twice, one pixel apart.
    pub(super) fn text_bold(&self, s: &str, at: Px, style: &TextStyle) -> R {
        self.text(s, at, style)?;
        self.text(s, (at.0 + 1, at.1), style)
    }

    pub(super) fn width(&self, s: &str, style: &TextStyle) -> i32 {
        self.area
            .estimate_text_size(s, style)
            .map(|(w, _)| w as i32)
            .unwrap_or((s.chars().count() as f64 * style.font.get_size() * 0.55) as i32)
    }

    /// `s` cut with an ellipsis to fit `max` pixels.
    pub(super) fn fit<'s>(&self, s: &'s str, style: &TextStyle, max: i32) -> Cow<'s, str> {
        if self.width(s, style) <= max {
            return Cow::Borrowed(s);
        }
        let chars: Vec<char> = s.chars().collect();
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let cand: String = chars[..mid].iter().collect::<String>() + "…";
            if self.width(&cand, style) <= max {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if lo == 0 {
            return Cow::Borrowed("");
        }
        Cow::Owned(chars[..lo].iter().collect::<String>() + "…")
    }
}

/// Log- and metric-derived text made safe to draw: no control characters
/// (the SVG backend escapes `<>&"'` itself).
pub(super) fn clean(s: &str) -> Cow<'_, str> {
    crate::render::escape::terminal(s)
}
