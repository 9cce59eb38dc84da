//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits as
//! authenticator apps expect) and single-use recovery codes.

use hmac_sha1::{KeyInit, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits of the codes Guichet issues and checks.
pub const DIGITS: u32 = 6;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

type HmacSha1 = hmac_sha1::Hmac<sha1::Sha1>;

/// The HOTP value (RFC 4226) of `secret` at `counter`, with `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // Invariant: HMAC accepts keys of any length.
    let Ok(mut mac) = <HmacSha1 as KeyInit>::new_from_slice(secret) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

/// The step that `unix_seconds` falls in.
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP)
}

/// The TOTP value of `secret` at `unix_seconds` (RFC 6238, T0 = 0).
pub fn totp(secret: &[u8], unix_seconds: i64, digits: u32) -> u32 {
    hotp(
        secret,
        u64::try_from(step_of(unix_seconds)).unwrap_or(0),
        digits,
    )
}

/// Checks a 6-digit `code` at `now`, allowing one step of clock drift either way, and only
/// steps after `last_step` (a code is accepted once). Returns the step it matched.
pub fn verify(secret: &[u8], code: &str, now: i64, last_step: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let current = step_of(now);
    (current - 1..=current + 1)
        .filter(|step| *step > last_step)
        .find(|step| hotp(secret, u64::try_from(*step).unwrap_or(0), DIGITS) == wanted)
}

/// A fresh 256-bit secret (RFC 4226 asks for at least 128 bits; 32 bytes is also what the
/// key-encryption key seals).
pub fn new_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// RFC 4648 base32 without padding, as `otpauth://` URIs carry secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `otpauth://totp/…` URI an authenticator app scans.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        percent_encode(issuer),
        percent_encode(account),
        base32(secret),
        percent_encode(issuer),
    )
}

/// The URI as an SVG QR code.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
    )
}

/// Fresh recovery codes: ten groups `xxxxx-xxxxx` of base32 (50 random bits each).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 7];
            rand::rng().fill_bytes(&mut bytes);
            let text = base32(&bytes).to_lowercase();
            format!("{}-{}", &text[..5], &text[5..10])
        })
        .collect()
}

/// What the database stores for a recovery code (case and dashes ignored on entry).
pub fn hash_recovery_code(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA1 vectors (seed "12345678901234567890", 8 digits).
    #[test]
    fn rfc_6238_sha1_vectors() {
        let seed = b"12345678901234567890";
        for (time, expected) in [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(totp(seed, time, 8), expected, "T = {time}");
        }
    }

    /// RFC 4226, appendix D: HOTP values for counters 0..9 (6 digits).
    #[test]
    fn rfc_4226_hotp_vectors() {
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(hotp(b"12345678901234567890", counter as u64, 6), *value);
        }
    }

    #[test]
    fn codes_are_accepted_once_within_one_step_of_drift() {
        let secret = new_secret();
        let now = 1_700_000_000;
        let code = format!("{:06}", totp(&secret, now, DIGITS));
        let step = verify(&secret, &code, now, 0);
        assert_eq!(step, Some(step_of(now)));
        assert_eq!(verify(&secret, &code, now, step_of(now)), None, "replayed");
        assert_eq!(verify(&secret, &code, now + 30, 0), Some(step_of(now)));
        assert_eq!(verify(&secret, &code, now + 95, 0), None, "too late");
        assert_eq!(verify(&secret, "12345", now, 0), None);
        assert_eq!(verify(&secret, "abcdef", now, 0), None);
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn enrolment_uri_and_recovery_codes() {
        let uri = otpauth_uri(b"12345678901234567890", "Guichet", "ana@x.org");
        assert_eq!(
            uri,
            "otpauth://totp/Guichet:ana%40x.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Guichet&algorithm=SHA1&digits=6&period=30"
        );
        assert!(qr_svg(&uri).is_some_and(|svg| svg.contains("<svg")));
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes[0].len(), 11);
        assert_eq!(
            hash_recovery_code(&codes[0].to_uppercase().replace('-', " ")),
            hash_recovery_code(&codes[0])
        );
    }
}
