//! The forward and inverse 4×4 transforms (RFC 6386 §14.4), as `FTransform_C` and
//! `ITransform_C` in libwebp's `dsp/enc.c` compute them, four lanes of `i32` at a time.
//!
//! Both are separable: one pass along rows, one along columns. Lanes hold one row's four
//! columns as loaded; a 4×4 transpose between the passes lets the second pass work lane-wise
//! too, and (for the inverse) one after it brings rows back for the store.

use super::BPS;
use core::arch::wasm32::*;
use std::ffi::c_int;

/// Four bytes at `p`, widened to four `i32` lanes.
#[inline(always)]
pub(super) unsafe fn row_i32(p: *const u8) -> v128 {
    let word = p.cast::<u32>().read_unaligned();
    u32x4_extend_low_u16x8(u16x8_extend_low_u8x16(u32x4(word, 0, 0, 0)))
}

/// The 4×4 transpose of four rows of `i32`: the result's vector `j` holds column `j`.
#[inline(always)]
fn transpose(a: v128, b: v128, c: v128, d: v128) -> [v128; 4] {
    let ab_lo = i32x4_shuffle::<0, 4, 1, 5>(a, b);
    let ab_hi = i32x4_shuffle::<2, 6, 3, 7>(a, b);
    let cd_lo = i32x4_shuffle::<0, 4, 1, 5>(c, d);
    let cd_hi = i32x4_shuffle::<2, 6, 3, 7>(c, d);
    [
        i32x4_shuffle::<0, 1, 4, 5>(ab_lo, cd_lo),
        i32x4_shuffle::<2, 3, 6, 7>(ab_lo, cd_lo),
        i32x4_shuffle::<0, 1, 4, 5>(ab_hi, cd_hi),
        i32x4_shuffle::<2, 3, 6, 7>(ab_hi, cd_hi),
    ]
}

#[inline(always)]
fn times(v: v128, k: i32) -> v128 {
    i32x4_mul(v, i32x4_splat(k))
}

/// `FTransform_C`: the residual `src − ref` (4×4, stride [`BPS`]) to 16 coefficients.
pub(super) unsafe extern "C" fn ftransform(src: *const u8, rf: *const u8, out: *mut i16) {
    let d = |r: usize| i32x4_sub(row_i32(src.add(r * BPS)), row_i32(rf.add(r * BPS)));
    // Along each row: lanes become rows.
    let [c0, c1, c2, c3] = transpose(d(0), d(1), d(2), d(3));
    let (a0, a1, a2, a3) = (i32x4_add(c0, c3), i32x4_add(c1, c2), i32x4_sub(c1, c2), i32x4_sub(c0, c3));
    let t0 = i32x4_shl(i32x4_add(a0, a1), 3);
    let t1 = i32x4_shr(i32x4_add(i32x4_add(times(a2, 2217), times(a3, 5352)), i32x4_splat(1812)), 9);
    let t2 = i32x4_shl(i32x4_sub(a0, a1), 3);
    let t3 = i32x4_shr(i32x4_add(i32x4_sub(times(a3, 2217), times(a2, 5352)), i32x4_splat(937)), 9);
    // Down each column: lanes become columns again.
    let [u0, u1, u2, u3] = transpose(t0, t1, t2, t3);
    let (a0, a1, a2, a3) = (i32x4_add(u0, u3), i32x4_add(u1, u2), i32x4_sub(u1, u2), i32x4_sub(u0, u3));
    let o0 = i32x4_shr(i32x4_add(i32x4_add(a0, a1), i32x4_splat(7)), 4);
    // `+ (a3 != 0)`: the comparison's lanes are −1 where true.
    let o1 =
        i32x4_sub(i32x4_shr(i32x4_add(i32x4_add(times(a2, 2217), times(a3, 5352)), i32x4_splat(12000)), 16), i32x4_ne(a3, i32x4_splat(0)));
    let o2 = i32x4_shr(i32x4_add(i32x4_sub(a0, a1), i32x4_splat(7)), 4);
    let o3 = i32x4_shr(i32x4_add(i32x4_sub(times(a3, 2217), times(a2, 5352)), i32x4_splat(51000)), 16);
    // Every coefficient fits 12 bits: the saturating narrow is exact.
    v128_store(out.cast::<v128>(), i16x8_narrow_i32x4(o0, o1));
    v128_store(out.add(8).cast::<v128>(), i16x8_narrow_i32x4(o2, o3));
}

/// `WEBP_TRANSFORM_AC3_MUL1`.
#[inline(always)]
fn mul1(v: v128) -> v128 {
    i32x4_add(i32x4_shr(times(v, 20091), 16), v)
}

/// `WEBP_TRANSFORM_AC3_MUL2`.
#[inline(always)]
fn mul2(v: v128) -> v128 {
    i32x4_shr(times(v, 35468), 16)
}

/// `ITransformOne`: `ref` plus the inverse transform of 16 coefficients, clipped to 0–255.
#[inline(always)]
unsafe fn itransform_one(rf: *const u8, coeffs: *const i16, dst: *mut u8) {
    let row = |r: usize| i32x4_extend_low_i16x8(u64x2(coeffs.add(4 * r).cast::<u64>().read_unaligned(), 0));
    let (i0, i1, i2, i3) = (row(0), row(1), row(2), row(3));
    // Down each column (lanes are columns): `T_k` lane `c` is C's `tmp[4c + k]`.
    let (a, b) = (i32x4_add(i0, i2), i32x4_sub(i0, i2));
    let c = i32x4_sub(mul2(i1), mul1(i3));
    let d = i32x4_add(mul1(i1), mul2(i3));
    let [s0, s1, s2, s3] = transpose(i32x4_add(a, d), i32x4_add(b, c), i32x4_sub(b, c), i32x4_sub(a, d));
    // Along each row (lanes are output rows).
    let dc = i32x4_add(s0, i32x4_splat(4));
    let (a, b) = (i32x4_add(dc, s2), i32x4_sub(dc, s2));
    let c = i32x4_sub(mul2(s1), mul1(s3));
    let d = i32x4_add(mul1(s1), mul2(s3));
    let rows = transpose(i32x4_add(a, d), i32x4_add(b, c), i32x4_sub(b, c), i32x4_sub(a, d));
    for (y, v) in rows.into_iter().enumerate() {
        let sum = i32x4_add(row_i32(rf.add(y * BPS)), i32x4_shr(v, 3));
        // Saturating to i16 and then to u8 is C's `clip_8b`.
        let pixels = u8x16_narrow_i16x8(i16x8_narrow_i32x4(sum, sum), i16x8_splat(0));
        dst.add(y * BPS).cast::<u32>().write_unaligned(u32x4_extract_lane::<0>(pixels));
    }
}

/// `ITransform_C`: one block, or two side by side (`do_two`, coefficients 16 apart).
pub(super) unsafe extern "C" fn itransform(rf: *const u8, coeffs: *const i16, dst: *mut u8, do_two: c_int) {
    itransform_one(rf, coeffs, dst);
    if do_two != 0 {
        itransform_one(rf.add(4), coeffs.add(16), dst.add(4));
    }
}
