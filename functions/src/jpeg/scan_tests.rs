//! The entropy decoding's fast paths against the plain one: FF 00 stuffing wherever refills
//! fall, blocks coded up to their last coefficient, restart intervals, data cut anywhere, and
//! the multi-symbol skip table against decoding one symbol at a time.

use super::bits::{extend, BitReader};
use super::decode_scaled;
use super::huffman::Huffman;
use super::tests::{assert_matches_reference, encode};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

/// Noise at quality 100: big coefficients up to the last zigzag position and many FF bytes
/// (stuffed as FF 00) wherever the bit reader's refills happen to fall.
fn noise_jpeg(width: usize, height: usize, sampling: SamplingFactor, restart: u16) -> Vec<u8> {
    let mut seed = 0x2545_F491_u32;
    let px: Vec<u8> = (0..width * height * 3)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed >> 24) as u8
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 100);
    encoder.set_sampling_factor(sampling);
    if restart > 0 {
        encoder.set_restart_interval(restart);
    }
    encoder.encode(&px, width as u16, height as u16, ColorType::Rgb).expect("encode noise");
    out
}

#[test]
fn stuffed_bytes_full_blocks_and_restarts_decode_like_jpeg_decoder() {
    for (sampling, restart) in [(SamplingFactor::F_2_2, 0), (SamplingFactor::F_1_1, 1), (SamplingFactor::F_2_1, 7)] {
        let bytes = noise_jpeg(77, 53, sampling, restart);
        let stuffed = bytes.windows(2).filter(|w| w == &[0xFF, 0x00]).count();
        assert!(stuffed > 40, "the test input should be full of stuffed bytes, has {stuffed}");
        for eighths in [1, 2, 4] {
            assert_matches_reference(&bytes, eighths, &format!("noise q100, RST every {restart}"));
        }
    }
}

#[test]
fn any_cut_into_the_scan_is_refused() {
    let bytes = encode(48, 40, SamplingFactor::F_2_2, 2, false);
    let scan_start = super::read_header(&bytes).expect("header").1;
    assert!(decode_scaled(&bytes[..bytes.len() - 2], 2, u64::MAX).is_some(), "a missing EOI is not a missing scan");
    for cut in scan_start..bytes.len() - 2 {
        for eighths in [1, 2, 4] {
            assert!(decode_scaled(&bytes[..cut], eighths, u64::MAX).is_none(), "cut at {cut} of {}, {eighths}/8", bytes.len());
        }
    }
}

#[test]
fn skip_entries_step_like_one_symbol_at_a_time() {
    // The reference: one symbol after the other, as T.81 describes it.
    let one_by_one = |bits: &mut BitReader, table: &Huffman, mut z: usize| -> Option<usize> {
        while z < 64 {
            bits.refill();
            let rs = table.decode(bits)?;
            let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
            extend(bits.take(size), size);
            if size == 0 && run != 15 {
                break;
            }
            z += run + 1;
        }
        Some(z)
    };
    let mut seed = 0x9E37_79B9_u32;
    for spec in [&super::tables::AC_LUMA, &super::tables::AC_CHROMA] {
        let table = Huffman::new(&spec.counts, spec.symbols).expect("a standard table");
        // Every 11-bit window the lookup sees, from every kind of position, random bits after it.
        for window in 0..1u32 << 11 {
            for start in [1, 5, 25, 48, 60, 63] {
                let mut data = (window << 21).to_be_bytes().to_vec();
                data.extend((0..24).map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                }));
                let (mut a, mut b) = (BitReader::new(&data), BitReader::new(&data));
                let (za, zb) = (one_by_one(&mut a, &table, start), super::scan::skip_rest(&mut b, &table, start));
                assert_eq!(za, zb, "window {window:011b} from {start}");
                if za.is_some() {
                    a.refill();
                    b.refill();
                    assert_eq!(a.peek(32), b.peek(32), "bits left, window {window:011b} from {start}");
                }
            }
        }
    }
}
