//! Our baseline JPEG encoder: JFIF, 4:2:0 below quality 90 and 4:4:4 from 90 (as libjpeg-based
//! tools and jpeg-encoder default), the standard Huffman tables, no metadata.
//!
//! Why our own: jpeg-encoder has SIMD only for x86 AVX2, and on wasm32 it spent ~700 ns a block
//! (a third of the "resize a photo" chain) converting pixel by pixel into growable row buffers
//! and running an integer DCT. Here each 16-row stripe is converted once into level-shifted
//! floats, the float AAN DCT has quantisation folded in, and bits go out 32 at a time.

use super::fdct::{self, Divisors};
use super::stripe::Stripe;
use super::tables::{self, HuffmanSpec};
use crate::planar::Planar;

/// Encodes `pixels` (gray if `channels` is 1, else RGB) of `width × height` at `quality` 1–100.
pub(crate) fn encode(pixels: &[u8], channels: usize, width: usize, height: usize, quality: u8) -> Vec<u8> {
    let color = channels == 3;
    let layout = Layout { width, height, color, subsample: color && quality < 90 };
    encode_with(layout, quality, |stripe, y0| stripe.fill(pixels, channels, width, height, y0))
}

/// Encodes YCbCr 4:2:0 planes as they are (no conversion, no subsampling); `None` from quality
/// 90, which asks for full-resolution chroma these planes do not have.
pub(crate) fn encode_planar(planes: &Planar, quality: u8) -> Option<Vec<u8>> {
    let (width, height) = (planes.width as usize, planes.height as usize);
    let layout = Layout { width, height, color: true, subsample: true };
    (quality < 90).then(|| encode_with(layout, quality, |stripe, y0| stripe.fill_planar(planes, y0)))
}

/// The frame: size, gray or colour, and whether chroma is 4:2:0.
#[derive(Clone, Copy)]
struct Layout {
    width: usize,
    height: usize,
    color: bool,
    subsample: bool,
}

/// Writes the file, asking `fill` for each MCU row's samples in turn.
fn encode_with(f: Layout, quality: u8, mut fill: impl FnMut(&mut Stripe, usize)) -> Vec<u8> {
    let quant = tables::quant_tables(quality);
    let mut w = BitWriter { out: Vec::with_capacity(f.width * f.height / 4 + 1024), acc: 0, count: 0 };
    write_headers(&mut w.out, f.width, f.height, f.color, f.subsample, &quant);
    let (mcu_w, mcu_h) = if f.subsample { (16, 16) } else { (8, 8) };
    let padded_w = f.width.div_ceil(mcu_w) * mcu_w;
    let mut stripe = Stripe::new(padded_w, mcu_h, f.color, f.subsample);
    let luma = Coder::new(&quant[0], &tables::DC_LUMA, &tables::AC_LUMA);
    let chroma = Coder::new(&quant[1], &tables::DC_CHROMA, &tables::AC_CHROMA);
    let mut dc = [0i16; 3];
    for y0 in (0..f.height).step_by(mcu_h) {
        fill(&mut stripe, y0);
        for x0 in (0..padded_w).step_by(mcu_w) {
            for by in (0..mcu_h).step_by(8) {
                for bx in (0..mcu_w).step_by(8) {
                    luma.block(&mut w, &stripe.y, padded_w, x0 + bx, by, &mut dc[0]);
                }
            }
            if f.color {
                let (cx, cw) = if f.subsample { (x0 / 2, padded_w / 2) } else { (x0, padded_w) };
                chroma.block(&mut w, &stripe.cb, cw, cx, 0, &mut dc[1]);
                chroma.block(&mut w, &stripe.cr, cw, cx, 0, &mut dc[2]);
            }
        }
    }
    w.finish();
    w.out.extend_from_slice(&[0xFF, 0xD9]);
    w.out
}

/// Everything a block of one component type needs: divisors and Huffman codes.
struct Coder {
    divisors: Divisors,
    dc: [(u16, u8); 256],
    ac: [(u16, u8); 256],
}

impl Coder {
    fn new(quant: &[u16; 64], dc: &HuffmanSpec, ac: &HuffmanSpec) -> Coder {
        Coder { divisors: Divisors::new(quant), dc: tables::codes(dc), ac: tables::codes(ac) }
    }

    /// DCTs, quantises and writes the 8×8 block at (`x`, `y`) of `plane` (`stride` wide).
    fn block(&self, w: &mut BitWriter, plane: &[f32], stride: usize, x: usize, y: usize, prev_dc: &mut i16) {
        let block: [[f32; 8]; 8] = std::array::from_fn(|r| {
            let row = &plane[(y + r) * stride + x..][..8];
            std::array::from_fn(|c| row[c])
        });
        let mut coef = [0i16; 64];
        fdct::forward(&block, &self.divisors, &mut coef);
        // Baseline categories: DC differences ≤ 11 bits, AC values ≤ 10 bits.
        let dc = coef[0].clamp(-1024, 1023);
        let (bits, size) = magnitude(i32::from(dc) - i32::from(*prev_dc));
        *prev_dc = dc;
        let (code, len) = self.dc[size as usize];
        w.put((u32::from(code) << size) | bits, u32::from(len) + size);
        // Walk only the non-zero AC coefficients (most are zero after quantisation).
        let mut nonzero = crate::simd::nonzero_mask(&coef) & !1;
        let mut last = 0;
        while nonzero != 0 {
            let z = nonzero.trailing_zeros() as usize;
            nonzero &= nonzero - 1;
            let mut run = z - last - 1;
            last = z;
            while run >= 16 {
                let (code, len) = self.ac[0xF0];
                w.put(u32::from(code), u32::from(len));
                run -= 16;
            }
            let (bits, size) = magnitude(i32::from(coef[z].clamp(-1023, 1023)));
            let (code, len) = self.ac[(run << 4) | size as usize];
            w.put((u32::from(code) << size) | bits, u32::from(len) + size);
        }
        if last != 63 {
            let (code, len) = self.ac[0x00];
            w.put(u32::from(code), u32::from(len));
        }
    }
}

/// JPEG's magnitude category of `v` and its bits (one's complement for negatives).
#[inline(always)]
fn magnitude(v: i32) -> (u32, u32) {
    let size = 32 - v.unsigned_abs().leading_zeros();
    let bits = if v < 0 { (v - 1) as u32 & ((1 << size) - 1) } else { v as u32 };
    (bits, size)
}

/// Collects bits MSB-first and writes them out 32 at a time, stuffing a 0 after every FF.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    /// Bits waiting at the bottom of `acc`.
    count: u32,
}

impl BitWriter {
    /// Appends the low `len` (≤ 27) bits of `bits`.
    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc = (self.acc << len) | u64::from(bits);
        self.count += len;
        if self.count >= 32 {
            self.count -= 32;
            let word = (self.acc >> self.count) as u32;
            let bytes = word.to_be_bytes();
            if bytes.contains(&0xFF) {
                for b in bytes {
                    self.out.push(b);
                    if b == 0xFF {
                        self.out.push(0);
                    }
                }
            } else {
                self.out.extend_from_slice(&bytes);
            }
        }
    }

    /// Pads the last byte with 1 bits and writes what is left.
    fn finish(&mut self) {
        let pad = (8 - self.count % 8) % 8;
        self.put((1 << pad) - 1, pad);
        while self.count >= 8 {
            self.count -= 8;
            let b = (self.acc >> self.count) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
    }
}

/// SOI, JFIF APP0, the two quantisation tables, SOF0, the four Huffman tables and SOS.
fn write_headers(out: &mut Vec<u8>, width: usize, height: usize, color: bool, subsample: bool, quant: &[[u16; 64]; 2]) {
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut segment = |marker: u8, body: &[u8]| {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(body);
    };
    segment(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    for (id, table) in quant.iter().enumerate().take(if color { 2 } else { 1 }) {
        let body: Vec<u8> = std::iter::once(id as u8).chain(table.iter().map(|&q| q as u8)).collect();
        segment(0xDB, &body);
    }
    let (w, h) = ((width as u16).to_be_bytes(), (height as u16).to_be_bytes());
    let luma_sampling = if subsample { 0x22 } else { 0x11 };
    let mut sof = vec![8, h[0], h[1], w[0], w[1], if color { 3 } else { 1 }, 1, luma_sampling, 0];
    if color {
        sof.extend_from_slice(&[2, 0x11, 1, 3, 0x11, 1]);
    }
    segment(0xC0, &sof);
    let specs = [(0x00, &tables::DC_LUMA), (0x10, &tables::AC_LUMA), (0x01, &tables::DC_CHROMA), (0x11, &tables::AC_CHROMA)];
    for (class_id, spec) in specs.iter().take(if color { 4 } else { 2 }) {
        let body: Vec<u8> = std::iter::once(*class_id).chain(spec.counts).chain(spec.symbols.iter().copied()).collect();
        segment(0xC4, &body);
    }
    let sos: &[u8] = if color { &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0] } else { &[1, 1, 0x00, 0, 63, 0] };
    segment(0xDA, sos);
}
