//! Quantisation of a block's 16 coefficients (`QuantizeBlock_C` in libwebp's `dsp/enc.c`):
//! the levels in zigzag order to `out`, the dequantised values back into `in`.

use super::Matrix;
use core::arch::wasm32::*;
use std::ffi::c_int;

/// libwebp's `QFIX`: the reciprocals' fixed-point bits.
const QFIX: u32 = 17;
/// libwebp's `MAX_LEVEL`.
const MAX_LEVEL: i32 = 2047;

/// Four levels (`i32` lanes) of the coefficients' magnitudes `abs` at `at..at + 4`: C's
/// `QUANTDIV(coeff, iq, bias)` (32-bit unsigned arithmetic, as C's), capped at `MAX_LEVEL`, and
/// 0 where the magnitude plus sharpening is not above the zero threshold.
#[inline(always)]
unsafe fn levels(abs: v128, m: &Matrix, at: usize) -> v128 {
    let widen = |p: *const u16| u32x4_extend_low_u16x8(u64x2(p.cast::<u64>().read_unaligned(), 0));
    let coeff = i32x4_add(abs, widen(m.sharpen.as_ptr().add(at)));
    let scaled = i32x4_add(i32x4_mul(coeff, widen(m.iq.as_ptr().add(at))), v128_load(m.bias.as_ptr().add(at).cast()));
    let level = u32x4_min(u32x4_shr(scaled, QFIX), u32x4_splat(MAX_LEVEL as u32));
    v128_and(level, u32x4_gt(coeff, v128_load(m.zthresh.as_ptr().add(at).cast())))
}

/// `QuantizeBlock_C`: whether any level is not 0.
pub(super) unsafe extern "C" fn quantize_block(coeffs: *mut i16, out: *mut i16, mtx: *const Matrix) -> c_int {
    let m = &*mtx;
    let mut signed = [i16x8_splat(0); 2];
    for (half, level) in signed.iter_mut().enumerate() {
        let x = v128_load(coeffs.add(8 * half).cast());
        let negative = i16x8_lt(x, i16x8_splat(0));
        // In i32: the magnitude of −32768 is 32768, as C's `-in[j]` on an int.
        let low = levels(i32x4_abs(i32x4_extend_low_i16x8(x)), m, 8 * half);
        let high = levels(i32x4_abs(i32x4_extend_high_i16x8(x)), m, 8 * half + 4);
        let magnitude = i16x8_narrow_i32x4(low, high);
        // Negated where the coefficient was negative: (l ^ −1) − (−1) = −l.
        *level = i16x8_sub(v128_xor(magnitude, negative), negative);
        // `in[j] = level * Q`, truncated to 16 bits as C's store to an int16_t.
        let q = v128_load(m.q.as_ptr().add(8 * half).cast());
        v128_store(coeffs.add(8 * half).cast(), i16x8_mul(*level, q));
    }
    // The zigzag scan order (`kZigzag`): 0 1 4 8 5 2 3 6 9 12 13 10 7 11 14 15.
    let [lo, hi] = signed;
    v128_store(out.cast(), i16x8_shuffle::<0, 1, 4, 8, 5, 2, 3, 6>(lo, hi));
    v128_store(out.add(8).cast(), i16x8_shuffle::<9, 12, 13, 10, 7, 11, 14, 15>(lo, hi));
    c_int::from(v128_any_true(v128_or(lo, hi)))
}

/// `Quantize2Blocks_C`: two consecutive blocks, bit 0 and bit 1 saying which has a level.
pub(super) unsafe extern "C" fn quantize_2_blocks(coeffs: *mut i16, out: *mut i16, mtx: *const Matrix) -> c_int {
    quantize_block(coeffs, out, mtx) | (quantize_block(coeffs.add(16), out.add(16), mtx) << 1)
}
