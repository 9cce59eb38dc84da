//! A ticket's credential as a PNG QR code, for the confirmation e-mail.
//!
//! Credential text is base45, so the encoder picks alphanumeric mode; error correction
//! level M and the standard 4-module quiet zone, as the SDK draws it on phones.

use qrcode::{Color, EcLevel, QrCode};

/// Blank margin around the code, in modules (ISO/IEC 18004 asks for 4).
const QUIET_ZONE: usize = 4;

/// Why a code could not be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit a QR code.
    #[error("the credential does not fit a QR code")]
    Capacity,
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// A greyscale PNG of `text`, `module_px` pixels per module, quiet zone included.
pub fn png(text: &str, module_px: usize) -> Result<Vec<u8>, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|_| QrError::Capacity)?;
    let module_px = module_px.max(1);
    let width = code.width();
    let side = (width + 2 * QUIET_ZONE) * module_px;
    let mut pixels = vec![0xffu8; side * side];
    for (index, color) in code.to_colors().iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let x0 = (index % width + QUIET_ZONE) * module_px;
        let y0 = (index / width + QUIET_ZONE) * module_px;
        for y in y0..y0 + module_px {
            let row = y * side;
            pixels[row + x0..row + x0 + module_px].fill(0);
        }
    }
    // A QR code is at most 177 modules wide: the side always fits a u32.
    let side_px = u32::try_from(side).map_err(|_| QrError::Capacity)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side_px, side_px);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let png_error = |e: png::EncodingError| QrError::Png(e.to_string());
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&pixels).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is the test failing.
mod tests {
    use super::*;

    #[test]
    fn png_has_the_quiet_zone_and_the_requested_scale() {
        let image = png("HELLO GUICHET", 3).unwrap();
        assert_eq!(&image[1..4], b"PNG");
        // IHDR width: a version 1 code is 21 modules, plus 2 × 4 quiet modules, times 3 px.
        let width = u32::from_be_bytes([image[16], image[17], image[18], image[19]]);
        assert_eq!(width, (21 + 8) * 3);
    }
}
