//! Counting a JPEG's scans before jpeg-decoder decodes it: a progressive file may repeat scans
//! without limit, and each one walks every block of the image again.
//!
//! Why: jpeg-decoder has no scan limit. Measured natively, a 1024×1024 progressive JPEG with
//! 20,000 added 12-byte scans (an end-of-band run over the whole luma plane each) — a 410 KB
//! upload — took 12.3 s to decode; 50 MiB of them would run for the better part of an hour.
//! Encoders write about ten scans (libjpeg's default script has 10, mozjpeg's a few more), so a
//! file with more than [`MAX_SCANS`] is refused (libjpeg-turbo's tools suggest a limit too).

use crate::error::ImageError;

/// Most scans a JPEG may have.
pub(crate) const MAX_SCANS: usize = 100;

/// Refuses a JPEG with more than [`MAX_SCANS`] scans; the walk stops there, so its cost is
/// at most one pass over the file.
pub(crate) fn check_scan_count(bytes: &[u8]) -> Result<(), ImageError> {
    if scans(bytes).nth(MAX_SCANS).is_some() {
        return Err(ImageError::Invalid(format!("the jpeg has more than {MAX_SCANS} scans; no encoder writes that many")));
    }
    Ok(())
}

/// The offsets of the SOS markers, read segment by segment; a malformed file just ends early
/// (the decoder reports it).
fn scans(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut pos = 2;
    std::iter::from_fn(move || loop {
        if *bytes.get(pos)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(pos + 1)?;
        match marker {
            // Fill bytes, then markers without a length (TEM, RSTn).
            0xFF => pos += 1,
            0x01 | 0xD0..=0xD7 => pos += 2,
            0xD9 => return None,
            _ => {
                let len = usize::from(u16::from_be_bytes([*bytes.get(pos + 2)?, *bytes.get(pos + 3)?]));
                let at = pos;
                pos += 2 + len.max(2);
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker other than a stuffed FF 00 or RSTn.
                    while bytes.get(pos) != Some(&0xFF) || matches!(bytes.get(pos + 1), Some(0x00 | 0xD0..=0xD7)) {
                        if pos >= bytes.len() {
                            return None;
                        }
                        pos += 1;
                    }
                    return Some(at);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder};

    fn progressive(extra_scans: usize) -> Vec<u8> {
        let px: Vec<u8> = (0..64 * 64 * 3).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, 80);
        encoder.set_progressive(true);
        encoder.encode(&px, 64, 64, ColorType::Rgb).expect("encode progressive");
        let sof = (0..out.len() - 1).find(|&i| out[i] == 0xFF && out[i + 1] == 0xC2).expect("sof");
        let luma = out[sof + 2 + 8];
        // AC table 3: one 1-bit code for EOB14; each scan is one end-of-band run over all blocks.
        let mut bytes = out[..out.len() - 2].to_vec();
        bytes.extend([0xFF, 0xC4, 0x00, 0x14, 0x13, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xE0]);
        for _ in 0..extra_scans {
            bytes.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, luma, 0x03, 1, 63, 0x00, 0x7F, 0xFE]);
        }
        bytes.extend([0xFF, 0xD9]);
        bytes
    }

    #[test]
    fn an_encoders_progressive_jpeg_passes_and_its_scans_are_counted() {
        let bytes = progressive(0);
        let n = scans(&bytes).count();
        assert!((2..=MAX_SCANS).contains(&n), "{n} scans");
        assert_eq!(scans(&progressive(5)).count(), n + 5);
        assert!(check_scan_count(&bytes).is_ok());
    }

    #[test]
    fn a_progressive_jpeg_with_more_scans_than_any_encoder_writes_is_refused_before_decoding() {
        let bytes = progressive(MAX_SCANS);
        let (info, _) = crate::decode::jpeg_header(&bytes).expect("the header reads");
        let opts = crate::decode::DecodeOptions { hint: None, max_pixels: 1 << 24, max_alloc: 1 << 30, orient: true, keep_profile: false };
        match crate::decode::decode(&bytes, &info, &opts, false) {
            Err(ImageError::Invalid(m)) => assert!(m.contains("scans"), "{m}"),
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("decoded {} scans", scans(&bytes).count()),
        }
        assert!(crate::decode::decode(&progressive(3), &info, &opts, false).is_ok(), "a few extra scans still decode");
    }
}
