//! The scan: Huffman-decodes every block of the interleaved baseline scan, keeps only the
//! top-left K×K coefficients, and writes each block's K×K pixels through the scaled IDCT.
//!
//! Scaling in the DCT domain is exact low-pass filtering: the K-point inverse DCT of the K×K
//! lowest frequencies, with the 8-point normalisation, is the image sampled at K/8 of its size.

use super::bits::{extend, BitReader};
use super::huffman::Huffman;
use super::idct::{idct, Coefs, DUMP};
use super::Header;

/// One decoded component at the scaled size, padded to whole blocks.
pub(super) struct Plane {
    /// Samples per row (the stride; rows may extend past the image into block padding).
    pub width: usize,
    pub data: Vec<u8>,
    /// How many output pixels one sample covers, across and down (2 for subsampled chroma).
    pub factor: (usize, usize),
}

/// The JPEG zigzag order: `NATURAL[z]` is the row-major index of the z-th coefficient.
pub(super) const NATURAL: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56,
    57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// What a component's blocks need while decoding.
struct BlockContext<'h> {
    dc: &'h Huffman,
    ac: &'h Huffman,
    /// `slot[z]`: where coefficient z goes in the K×K block, or `DUMP`.
    slot: [u8; 64],
    /// Dequantisation factor by zigzag index.
    quant: [f32; 64],
}

/// Decodes the scan at `eighths`/8 scale; `None` if the data is corrupt or truncated.
pub(super) fn decode(header: &Header, data: &[u8], eighths: usize) -> Option<Vec<Plane>> {
    match eighths {
        1 => decode_k::<1>(header, data),
        2 => decode_k::<2>(header, data),
        4 => decode_k::<4>(header, data),
        _ => None,
    }
}

fn decode_k<const K: usize>(header: &Header, data: &[u8]) -> Option<Vec<Plane>> {
    let comps = &header.components;
    let (hmax, vmax) = (comps.iter().map(|c| c.h).max()?, comps.iter().map(|c| c.v).max()?);
    let (mcus_x, mcus_y) = (header.width.div_ceil(8 * hmax), header.height.div_ceil(8 * vmax));
    let mut planes: Vec<Plane> = comps
        .iter()
        .map(|c| {
            let (width, height) = (mcus_x * c.h * K, mcus_y * c.v * K);
            Plane { width, data: vec![0; width * height], factor: (hmax / c.h, vmax / c.v) }
        })
        .collect();
    let contexts: Vec<BlockContext> = comps.iter().map(|c| context::<K>(header, c)).collect::<Option<_>>()?;
    let mut bits = BitReader::new(data);
    let mut predictors = [0i32; 3];
    let mut coef: Coefs = [0.0; 32];
    let interval = header.restart_interval;
    for mcu in 0..mcus_x * mcus_y {
        if interval > 0 && mcu > 0 && mcu % interval == 0 {
            if !bits.restart(((mcu / interval - 1) % 8) as u8) {
                return None;
            }
            predictors = [0; 3];
        }
        let (mx, my) = (mcu % mcus_x, mcu / mcus_x);
        for (ci, c) in comps.iter().enumerate() {
            let plane = &mut planes[ci];
            for by in 0..c.v {
                for bx in 0..c.h {
                    let any_ac = decode_block::<K>(&mut bits, &contexts[ci], &mut predictors[ci], &mut coef)?;
                    let (x, y) = ((mx * c.h + bx) * K, (my * c.v + by) * K);
                    let offset = y * plane.width + x;
                    idct::<K>(&coef, any_ac, &mut plane.data[offset..], plane.width);
                }
            }
        }
    }
    (!bits.overran()).then_some(planes)
}

fn context<'h, const K: usize>(header: &'h Header, c: &super::Component) -> Option<BlockContext<'h>> {
    let table = header.quant.get(c.quant)?.as_ref()?;
    let mut slot = [DUMP; 64];
    let mut quant = [0f32; 64];
    // The IDCT's normalisation c(u)·c(v) (c(0) = 1/√8, else 1/2) is folded in here.
    let norm = |k: usize| if k == 0 { 1.0 / 8f32.sqrt() } else { 0.5 };
    for z in 0..64 {
        let (row, col) = (NATURAL[z] / 8, NATURAL[z] % 8);
        if row < K && col < K {
            slot[z] = (row * K + col) as u8;
        }
        quant[z] = f32::from(table[z]) * norm(row) * norm(col);
    }
    Some(BlockContext { dc: header.dc[c.dc].as_ref()?, ac: header.ac[c.ac].as_ref()?, slot, quant })
}

/// Decodes one block's coefficients into `coef` (dequantised, K×K kept); answers whether any
/// kept AC coefficient was coded (if not, the block is flat and needs no IDCT).
#[inline(always)]
fn decode_block<const K: usize>(bits: &mut BitReader, ctx: &BlockContext, predictor: &mut i32, coef: &mut Coefs) -> Option<bool> {
    coef[..K * K].fill(0.0);
    bits.refill();
    let fast = ctx.dc.fast_dc(bits);
    let diff = if fast != 0 {
        bits.consume((fast & 31) as u32);
        fast >> 8
    } else {
        let size = u32::from(ctx.dc.decode(bits)?);
        if size > 11 {
            return None;
        }
        extend(bits.take(size), size)
    };
    // Corrupt data can push the predictor anywhere; wrapping keeps that a wrong pixel, not a panic.
    *predictor = predictor.wrapping_add(diff);
    coef[0] = *predictor as f32 * ctx.quant[0];
    let mut any_ac = false;
    let mut z = 1;
    // Up to the last kept coefficient: decode and store (those not kept go to the dump slots).
    // A run from there reaches at most 24 + 15 < 64: no check for running off the block.
    while z <= last_kept(K) {
        bits.refill();
        let fast = ctx.ac.fast_ac(bits);
        let (run, value) = if fast != 0 {
            bits.consume((fast & 15) as u32);
            if fast >> 4 == 0 {
                return Some(any_ac); // end of block: run 0, value 0
            }
            (((fast >> 4) & 15) as usize, i32::from(fast >> 8))
        } else {
            match decode_ac(bits, ctx.ac)? {
                (0, 0) => return Some(any_ac),
                symbol => symbol,
            }
        };
        z += run;
        let slot = ctx.slot[z & 63];
        coef[usize::from(slot & 31)] = value as f32 * ctx.quant[z & 63];
        any_ac |= slot != DUMP;
        z += 1;
    }
    skip_rest(bits, ctx.ac, z)?;
    Some(any_ac)
}

/// Reads past the coefficients from zigzag position `z` to the end of the block, which are not
/// kept: one lookup steps over as many symbols as it can. Answers the position it stopped at.
#[inline(always)]
pub(super) fn skip_rest(bits: &mut BitReader, ac: &Huffman, mut z: usize) -> Option<usize> {
    while z < 64 {
        bits.refill();
        let skip = ac.skip_ac(bits);
        if skip.is_some() && z + skip.guard() < 64 {
            bits.consume(skip.bits());
            z += skip.advance();
            if skip.ends_block() {
                break;
            }
        } else {
            let (run, value) = next_ac(bits, ac)?;
            if run == 0 && value == 0 {
                break; // end of block
            }
            z += run + 1;
        }
    }
    Some(z)
}

/// The highest zigzag index inside the top-left K×K coefficients.
const fn last_kept(k: usize) -> usize {
    match k {
        1 => 0,
        2 => 4,
        4 => 24,
        _ => 63,
    }
}

/// The next AC symbol as (zero run, value): (0, 0) is the end of block, (15, 0) sixteen zeros
/// (the caller then steps over one more "coefficient" of value 0, which is harmless).
#[inline(always)]
fn next_ac(bits: &mut BitReader, ac: &Huffman) -> Option<(usize, i32)> {
    bits.refill();
    let fast = ac.fast_ac(bits);
    if fast != 0 {
        bits.consume((fast & 15) as u32);
        return Some((((fast >> 4) & 15) as usize, i32::from(fast >> 8)));
    }
    decode_ac(bits, ac)
}

/// [`next_ac`] without the fast-AC table: codes or values too long for it.
#[inline(always)]
fn decode_ac(bits: &mut BitReader, ac: &Huffman) -> Option<(usize, i32)> {
    let rs = ac.decode(bits)?;
    let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
    if size == 0 {
        // Only EOB (0x00) and ZRL (0xF0) have no value; libjpeg takes any other as EOB too.
        return Some(if run == 15 { (15, 0) } else { (0, 0) });
    }
    Some((run, extend(bits.take(size), size)))
}
