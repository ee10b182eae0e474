//! Backends and encodings: the PNG is drawn into an RGB buffer and encoded in
//! memory; the SVG gets the font as an `@font-face` data URI.

use super::ChartInput;
use super::draw;
use anyhow::{Context, bail};
use plotters::prelude::*;
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

fn register_font() -> anyhow::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_TTF).is_ok()
    });
    if !ok {
        bail!("the embedded chart font cannot be loaded");
    }
    Ok(())
}

fn check_size(width: u32, height: u32) -> anyhow::Result<()> {
    if !(64..=MAX_SIDE).contains(&width) || !(64..=MAX_SIDE).contains(&height) {
        bail!("chart size {width}x{height} out of range (64..={MAX_SIDE} per side)");
    }
    Ok(())
}

pub(super) fn png(input: &ChartInput, width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    check_size(width, height)?;
    register_font()?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw::draw(&root, input)?;
        root.present()
            .map_err(|e| anyhow::anyhow!("chart drawing failed: {e}"))?;
    }
    let mut out = Vec::new();
    {
        let mut enc = ::png::Encoder::new(&mut out, width, height);
        enc.set_color(::png::ColorType::Rgb);
        enc.set_depth(::png::BitDepth::Eight);
        enc.set_compression(::png::Compression::Default);
        let mut w = enc.write_header().context("PNG encoding")?;
        w.write_image_data(&rgb).context("PNG encoding")?;
        w.finish().context("PNG encoding")?;
    }
    Ok(out)
}

pub(super) fn svg(input: &ChartInput, width: u32, height: u32) -> anyhow::Result<String> {
    check_size(width, height)?;
    register_font()?;
    let mut doc = String::new();
    {
        let root = SVGBackend::with_string(&mut doc, (width, height)).into_drawing_area();
        draw::draw(&root, input)?;
        root.present()
            .map_err(|e| anyhow::anyhow!("chart drawing failed: {e}"))?;
    }
    // Right after the opening <svg ...> tag: a title for viewers and screen
    // readers, and the embedded font.
    let Some(open_end) = doc.find('>') else {
        bail!("the SVG backend wrote no <svg> element");
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
