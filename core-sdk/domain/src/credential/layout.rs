//! Byte layout of format version 1 (all integers big-endian).
//!
//! | offset | size | field                                                   |
//! |-------:|-----:|---------------------------------------------------------|
//! |      0 |    1 | format version, `0x01`                                  |
//! |      1 |    4 | key id (u32) in the event's key ring                    |
//! |      5 |   16 | ticket id (UUID, RFC 9562 byte order)                   |
//! |     21 |   16 | event id (UUID)                                         |
//! |     37 |   16 | ticket type id (UUID)                                   |
//! |     53 |    4 | valid from (u32 unix seconds, inclusive)                |
//! |     57 |    4 | valid until (u32 unix seconds, exclusive)               |
//! |     61 |   64 | Ed25519 signature (RFC 8032) over bytes 0..61           |
//!
//! 125 bytes, 188 base45 characters: a version 8 QR code (49×49 modules) at
//! error correction level M (version 10 in byte mode).

/// The only format version this code reads and writes.
pub const VERSION_1: u8 = 1;
/// Offset of the key id.
pub const KEY_ID: usize = 1;
/// Offset of the ticket id.
pub const TICKET_ID: usize = 5;
/// Offset of the event id.
pub const EVENT_ID: usize = 21;
/// Offset of the ticket type id.
pub const TICKET_TYPE_ID: usize = 37;
/// Offset of the start of the validity window.
pub const VALID_FROM: usize = 53;
/// Offset of the end of the validity window.
pub const VALID_UNTIL: usize = 57;
/// Length of the signed part, which is also the offset of the signature.
pub const SIGNED_LEN: usize = 61;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Total length of a version 1 credential.
pub const V1_LEN: usize = SIGNED_LEN + SIGNATURE_LEN;
/// Length of a version 1 credential as base45 text.
pub const V1_TEXT_LEN: usize = V1_LEN / 2 * 3 + (V1_LEN % 2) * 2;
/// Longest text the parser looks at; anything longer is refused before decoding, whatever
/// future format versions add.
pub const MAX_TEXT_LEN: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_tile_the_record() {
        assert_eq!(KEY_ID + 4, TICKET_ID);
        assert_eq!(TICKET_ID + 16, EVENT_ID);
        assert_eq!(EVENT_ID + 16, TICKET_TYPE_ID);
        assert_eq!(TICKET_TYPE_ID + 16, VALID_FROM);
        assert_eq!(VALID_FROM + 4, VALID_UNTIL);
        assert_eq!(VALID_UNTIL + 4, SIGNED_LEN);
        assert_eq!(V1_LEN, 125);
        assert_eq!(V1_TEXT_LEN, 188);
    }
}
