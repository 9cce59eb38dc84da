//! Reading a QR code out of a PNG file.

use std::io::{BufReader, Cursor};

use crate::error::Error;

/// Decodes the first QR code found in a PNG image to its text.
pub fn read_qr(path: &str) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::File {
        path: path.to_owned(),
        source,
    })?;
    let fail = |reason: &str| Error::Image {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let mut decoder = png::Decoder::new(BufReader::new(Cursor::new(bytes)));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|_| fail("not a PNG image"))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| fail("image too large"))?;
    let mut buf = vec![0; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|_| fail("corrupt PNG image"))?;
    let channels = frame.color_type.samples();
    let (width, height) = (frame.width as usize, frame.height as usize);
    let luma = |x: usize, y: usize| -> u8 {
        let at = (y * width + x) * channels;
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
        .ok_or_else(|| fail("no QR code found"))?;
    let (_meta, text) = grid.decode().map_err(|_| fail("unreadable QR code"))?;
    Ok(text)
}
