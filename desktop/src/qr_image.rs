//! A QR code read out of an image file (PNG) the door's staff picked: a credential sent as
//! a screenshot, or a kiosk without a barcode scanner. GUI-free, so it is tested without
//! WebKitGTK.

use std::io::Cursor;

/// Why an image gave no text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum QrImageError {
    /// Not a PNG image, or a corrupt one.
    #[error("not a readable PNG image")]
    NotPng,
    /// Larger than a door reads (width × height over 40 megapixels).
    #[error("the image is too large")]
    TooLarge,
    /// No QR code in the image.
    #[error("no QR code found in the image")]
    NoCode,
    /// A QR code was found but could not be decoded.
    #[error("the QR code in the image is unreadable")]
    Unreadable,
}

/// Most pixels a door decodes (a 40-megapixel photo).
const MAX_PIXELS: usize = 40_000_000;

/// The text of the first QR code found in a PNG image.
pub fn read_qr(png_bytes: &[u8]) -> Result<String, QrImageError> {
    let mut decoder = png::Decoder::new(Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|_| QrImageError::NotPng)?;
    let info = reader.info();
    if (info.width as usize).saturating_mul(info.height as usize) > MAX_PIXELS {
        return Err(QrImageError::TooLarge);
    }
    let size = reader.output_buffer_size().ok_or(QrImageError::TooLarge)?;
    let mut buf = vec![0; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|_| QrImageError::NotPng)?;
    let channels = frame.color_type.samples();
    let (width, height) = (frame.width as usize, frame.height as usize);
    let line = frame.line_size;
    let luma = |x: usize, y: usize| -> u8 {
        let at = y * line + x * channels;
        match channels {
            1 | 2 => buf[at],
            // Rec. 601 luma from RGB(A).
            _ => {
                ((u32::from(buf[at]) * 299
                    + u32::from(buf[at + 1]) * 587
                    + u32::from(buf[at + 2]) * 114)
                    / 1000) as u8
            }
        }
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    let grid = image
        .detect_grids()
        .into_iter()
        .next()
        .ok_or(QrImageError::NoCode)?;
    let (_meta, text) = grid.decode().map_err(|_| QrImageError::Unreadable)?;
    Ok(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `text` as a QR code in a greyscale PNG, 4 pixels a module, with its quiet zone.
    fn png_of(text: &str) -> Vec<u8> {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let (modules, scale, quiet) = (code.width(), 4, 4);
        let side = (modules + 2 * quiet) * scale;
        let colors = code.to_colors();
        let mut pixels = vec![255u8; side * side];
        for (i, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (mx, my) = (i % modules + quiet, i / modules + quiet);
                for y in my * scale..(my + 1) * scale {
                    pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
                }
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .write_header()
            .unwrap()
            .write_image_data(&pixels)
            .unwrap();
        out
    }

    #[test]
    fn a_qr_code_in_a_png_reads_back_as_its_text() {
        let text = "NCFOXN%TSMAHN-HVUOEJPJ-SR*QO93B 5V";
        assert_eq!(read_qr(&png_of(text)).unwrap(), text);
    }

    #[test]
    fn what_is_not_a_png_or_holds_no_code_says_so() {
        assert_eq!(read_qr(b"GIF89a not a png"), Err(QrImageError::NotPng));
        let blank = {
            let mut out = Vec::new();
            let mut encoder = png::Encoder::new(&mut out, 64, 64);
            encoder.set_color(png::ColorType::Grayscale);
            encoder
                .write_header()
                .unwrap()
                .write_image_data(&[255; 64 * 64])
                .unwrap();
            out
        };
        assert_eq!(read_qr(&blank), Err(QrImageError::NoCode));
    }
}
