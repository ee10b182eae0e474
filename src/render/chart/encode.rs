//! Backends and encodings: the PNG is drawn into an RGB buffer and encoded in
//! memory; the SVG gets the font as an `@font-face` data URI.

use super::ChartError;
use super::ChartInput;
use super::draw;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};
use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera license: free to embed and redistribute).
static FONT_TTF: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");

/// The CSS family name used for the embedded font.
pub(super) const FONT_FACE: &str = "coroner-sans";

/// The family list plotters writes into `font-family` (SVG) and the name the
/// font is registered under for ab_glyph (PNG): the embedded face first, then
/// fallbacks should a viewer ignore the `@font-face`.
pub(super) const FONT_FAMILY: &str = "coroner-sans, DejaVu Sans, Verdana, sans-serif";

/// Largest image accepted (either side), to keep the RGB buffer sane.
const MAX_SIDE: u32 = 16_384;

fn register_font() -> Result<(), ChartError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_TTF).is_ok()
    });
    if !ok {
        return Err(ChartError::Font);
    }
    Ok(())
}

fn check_size(width: u32, height: u32) -> Result<(), ChartError> {
    if !(64..=MAX_SIDE).contains(&width) || !(64..=MAX_SIDE).contains(&height) {
        return Err(ChartError::Size {
            width,
            height,
            max: MAX_SIDE,
        });
    }
    Ok(())
}

pub(super) fn png(input: &ChartInput, width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    check_size(width, height)?;
    register_font()?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root =
            GlyphFix(BitMapBackend::with_buffer(&mut rgb, (width, height))).into_drawing_area();
        draw::draw(&root, input)?;
        root.present()
            .map_err(|e| ChartError::Drawing(e.to_string()))?;
    }
    let mut out = Vec::new();
    {
        let mut enc = ::png::Encoder::new(&mut out, width, height);
        enc.set_color(::png::ColorType::Rgb);
        enc.set_depth(::png::BitDepth::Eight);
        enc.set_compression(::png::Compression::Default);
        let mut w = enc
            .write_header()
            .map_err(|e| ChartError::Encode(e.to_string()))?;
        w.write_image_data(&rgb)
            .map_err(|e| ChartError::Encode(e.to_string()))?;
        w.finish().map_err(|e| ChartError::Encode(e.to_string()))?;
    }
    Ok(out)
}

pub(super) fn svg(input: &ChartInput, width: u32, height: u32) -> Result<String, ChartError> {
    check_size(width, height)?;
    register_font()?;
    let mut doc = String::new();
    {
        let root = SVGBackend::with_string(&mut doc, (width, height)).into_drawing_area();
        draw::draw(&root, input)?;
        root.present()
            .map_err(|e| ChartError::Drawing(e.to_string()))?;
    }
    // Right after the opening <svg ...> tag: a title for viewers and screen
    // readers, and the embedded font.
    let Some(open_end) = doc.find('>') else {
        return Err(ChartError::Encode(
            "the SVG backend wrote no <svg> element".into(),
        ));
    };
    let mut head = String::with_capacity(FONT_TTF.len() * 4 / 3 + 512);
    head.push_str("\n<title>");
    head.push_str(&crate::render::escape::html(&input.title));
    head.push_str("</title>\n<defs><style>@font-face{font-family:'");
    head.push_str(FONT_FACE);
    head.push_str("';src:url(data:font/ttf;base64,");
    base64_into(FONT_TTF, &mut head);
    head.push_str(") format('truetype');}</style></defs>");
    doc.insert_str(open_end + 1, &head);
    Ok(doc)
}

/// Standard base64 with padding (RFC 4648), appended to `out`.
pub(super) fn base64_into(data: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63] as char
        } else {
            '='
        });
    }
}

/// The bitmap backend with its text drawn by ab_glyph directly: plotters
/// 0.3.7 places each glyph at its advance but ignores the glyph's left
/// bearing, which scatters the letters ("19:1 8:20"). Everything else is the
/// bitmap backend's.
struct GlyphFix<'a>(BitMapBackend<'a>);

fn chart_font() -> &'static ab_glyph::FontRef<'static> {
    static FONT: OnceLock<ab_glyph::FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| {
        // register_font() has already parsed the same bytes successfully.
        ab_glyph::FontRef::try_from_slice(FONT_TTF).expect("embedded font parses")
    })
}

type BmpResult =
    Result<(), DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

impl DrawingBackend for GlyphFix<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> BmpResult {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> BmpResult {
        self.0.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> BmpResult {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> BmpResult {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        style: &S,
        fill: bool,
    ) -> BmpResult {
        self.0.draw_rect(a, b, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> BmpResult {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        style: &S,
        fill: bool,
    ) -> BmpResult {
        self.0.draw_circle(c, r, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> BmpResult {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> BmpResult {
        self.0.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> BmpResult {
        use ab_glyph::{Font, ScaleFont};
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        // Same scale as plotters' own layout (estimate_text_size), so anchors
        // computed from text widths line up.
        let size = style.size() as f32;
        let font = chart_font().as_scaled(size);
        let mut width = 0f32;
        let mut prev = None;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            if let Some(p) = prev {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            prev = Some(id);
        }
        let anchor = style.anchor();
        let x0 = pos.0 as f32
            - match anchor.h_pos {
                HPos::Left => 0.0,
                HPos::Center => width / 2.0,
                HPos::Right => width,
            };
        // DejaVu Sans: cap height is 0.626 of the pixel scale, descent 0.2.
        let baseline = pos.1 as f32
            + match anchor.v_pos {
                VPos::Top => 0.70 * size,
                VPos::Center => 0.313 * size,
                VPos::Bottom => -0.2 * size,
            };
        let (w, h) = self.0.get_size();
        let mut caret = x0;
        let mut prev = None;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            if let Some(p) = prev {
                caret += font.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(size, ab_glyph::point(caret, baseline));
            caret += font.h_advance(id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            let mut pixels = Vec::new();
            outline.draw(|gx, gy, cov| {
                let x = b.min.x as i32 + gx as i32;
                let y = b.min.y as i32 + gy as i32;
                if cov > 0.0 && x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                    pixels.push(((x, y), cov));
                }
            });
            for (p, cov) in pixels {
                self.0.draw_pixel(
                    p,
                    BackendColor {
                        alpha: color.alpha * f64::from(cov.min(1.0)),
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }
}
