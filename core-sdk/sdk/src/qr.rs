//! A ticket credential as a QR code.
//!
//! Credential text is base45, all in the QR alphanumeric alphabet, so the encoder picks
//! alphanumeric mode (5.5 bits per character): a version 1 credential (188 characters)
//! fits a version 8 code, 49×49 modules, at error correction level M (15 % of the code may be damaged or dirty). Images
//! carry the standard 4-module quiet zone.

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode, Version};

use crate::Error;

/// Width of the blank margin around the code, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE: u32 = 4;

/// A QR code ready to render.
#[derive(Clone)]
pub struct TicketQr {
    code: QrCode,
}

impl std::fmt::Debug for TicketQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketQr")
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl TicketQr {
    /// Encodes credential text at error correction level M.
    pub fn new(text: &str) -> Result<TicketQr, Error> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|_| Error::QrCapacity)?;
        Ok(TicketQr { code })
    }

    /// The QR version (size class) chosen: 1 to 40.
    pub fn version(&self) -> i16 {
        match self.code.version() {
            Version::Normal(v) | Version::Micro(v) => v,
        }
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> u32 {
        // A QR code is at most 177 modules wide.
        self.code.width() as u32
    }

    /// An SVG document, `module_px` user units per module, quiet zone included.
    pub fn to_svg(&self, module_px: u32) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(module_px, module_px)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build()
    }

    /// A greyscale PNG, `module_px` pixels per module, quiet zone included.
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>, Error> {
        let module_px = module_px.max(1);
        let modules = self.width() + 2 * QUIET_ZONE;
        let side = modules * module_px;
        let colors = self.code.to_colors();
        let width = self.width() as usize;
        let mut pixels = vec![0xffu8; (side * side) as usize];
        for (index, color) in colors.iter().enumerate() {
            if *color != Color::Dark {
                continue;
            }
            let x0 = ((index % width) as u32 + QUIET_ZONE) * module_px;
            let y0 = ((index / width) as u32 + QUIET_ZONE) * module_px;
            for y in y0..y0 + module_px {
                let row = (y * side) as usize;
                pixels[row + x0 as usize..row + (x0 + module_px) as usize].fill(0);
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|_| Error::Png)?;
        writer.write_image_data(&pixels).map_err(|_| Error::Png)?;
        writer.finish().map_err(|_| Error::Png)?;
        Ok(out)
    }

    /// The code as text for a terminal with a dark background: two modules per character
    /// cell (upper and lower half blocks), light modules and the quiet zone drawn in the
    /// terminal's foreground colour, dark modules left blank, so phones scan it off the
    /// screen. Lines end with `\n`.
    pub fn to_terminal(&self) -> String {
        let width = self.width() as usize;
        let colors = self.code.to_colors();
        let side = width + 2 * QUIET_ZONE as usize;
        let quiet = QUIET_ZONE as usize;
        let light = |x: usize, y: usize| {
            if x < quiet || y < quiet || x >= quiet + width || y >= quiet + width {
                return true;
            }
            colors[(y - quiet) * width + (x - quiet)] != Color::Dark
        };
        let mut out = String::with_capacity((side + 1) * side.div_ceil(2) * 3);
        for y in (0..side).step_by(2) {
            for x in 0..side {
                let top = light(x, y);
                let bottom = y + 1 >= side || light(x, y + 1);
                out.push(match (top, bottom) {
                    (true, true) => '\u{2588}',
                    (true, false) => '\u{2580}',
                    (false, true) => '\u{2584}',
                    (false, false) => ' ',
                });
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TEXT: &str = "NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IDOEZ:ACKFR6+7SMIPDGM3O+:";

    #[test]
    fn credential_text_uses_alphanumeric_mode() {
        // 188 alphanumeric characters fit version 8-M; in byte mode they need version 10.
        let text = "A".repeat(188);
        assert_eq!(TicketQr::new(&text).unwrap().version(), 8);
        let bytes_only = "a".repeat(188);
        assert_eq!(TicketQr::new(&bytes_only).unwrap().version(), 10);
    }

    #[test]
    fn png_has_the_quiet_zone_and_svg_is_a_document() {
        let qr = TicketQr::new(TEXT).unwrap();
        let png_bytes = qr.to_png(3).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let side = (qr.width() + 2 * QUIET_ZONE) * 3;
        assert_eq!((info.width, info.height), (side, side));
        // The quiet zone is white; the top-left finder pattern starts right after it.
        let at = |x: u32, y: u32| buf[(y * side + x) as usize];
        assert_eq!(at(QUIET_ZONE * 3 - 1, QUIET_ZONE * 3), 0xff);
        assert_eq!(at(QUIET_ZONE * 3, QUIET_ZONE * 3), 0);
        let svg = qr.to_svg(4);
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("#000000"));
    }

    #[test]
    fn terminal_text_holds_every_module_two_per_cell() {
        let qr = TicketQr::new(TEXT).unwrap();
        let text = qr.to_terminal();
        let side = (qr.width() + 2 * QUIET_ZONE) as usize;
        let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        assert_eq!(lines.len(), side.div_ceil(2));
        let colors = qr.code.to_colors();
        let width = qr.width() as usize;
        let quiet = QUIET_ZONE as usize;
        for y in 0..width {
            for x in 0..width {
                let cell = lines[(y + quiet) / 2][x + quiet];
                let upper = (y + quiet).is_multiple_of(2);
                let light = match cell {
                    '\u{2588}' => true,
                    ' ' => false,
                    '\u{2580}' => upper,
                    '\u{2584}' => !upper,
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(
                    light,
                    colors[y * width + x] != Color::Dark,
                    "module {x},{y}"
                );
            }
        }
        assert!(lines[0].iter().all(|c| *c == '\u{2588}'), "quiet zone");
    }

    #[test]
    fn terminal_text_decodes_back_to_the_credential() {
        // Paint the text as a dark terminal shows it (blocks light, blanks dark), 4 px a
        // module, and let a QR reader find and decode it.
        let qr = TicketQr::new(TEXT).unwrap();
        let rows: Vec<Vec<bool>> = qr
            .to_terminal()
            .lines()
            .flat_map(|line| {
                let top = line.chars().map(|c| matches!(c, '\u{2588}' | '\u{2580}'));
                let bottom = line.chars().map(|c| matches!(c, '\u{2588}' | '\u{2584}'));
                [top.collect::<Vec<_>>(), bottom.collect::<Vec<_>>()]
            })
            .collect();
        let scale = 4;
        let (w, h) = (rows[0].len() * scale, rows.len() * scale);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            if rows[y / scale][x / scale] { 255 } else { 0 }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, TEXT);
    }

    #[test]
    fn refuses_text_beyond_capacity() {
        assert!(matches!(
            TicketQr::new(&"A".repeat(5000)),
            Err(Error::QrCapacity)
        ));
    }
}
