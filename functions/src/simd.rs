//! Four f32 lanes: wasm simd128 in the Worker (enabled for wasm32 in `.cargo/config.toml`),
//! plain arrays elsewhere. Just what the JPEG transforms need, so their code is written once.
//!
//! Why by hand: LLVM does not vectorise the DCT butterflies on its own (it keeps them scalar),
//! and they are a quarter of a "resize this photo" chain. Every operation is IEEE-exact in both
//! implementations (no fused multiply-add), so both give bit-identical results and the native
//! tests speak for the wasm build.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct F32x4(v128);

    impl F32x4 {
        #[inline(always)]
        pub fn new(v: [f32; 4]) -> Self {
            F32x4(f32x4(v[0], v[1], v[2], v[3]))
        }
        #[inline(always)]
        pub fn splat(v: f32) -> Self {
            F32x4(f32x4_splat(v))
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            F32x4(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            F32x4(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            F32x4(f32x4_mul(self.0, o.0))
        }
        #[cfg(test)]
        pub fn to_array(self) -> [f32; 4] {
            [
                f32x4_extract_lane::<0>(self.0),
                f32x4_extract_lane::<1>(self.0),
                f32x4_extract_lane::<2>(self.0),
                f32x4_extract_lane::<3>(self.0),
            ]
        }
        /// Truncated toward zero and saturated, as `f32 as i32` does.
        #[inline(always)]
        pub fn to_i32(self) -> [i32; 4] {
            let v = i32x4_trunc_sat_f32x4(self.0);
            [i32x4_extract_lane::<0>(v), i32x4_extract_lane::<1>(v), i32x4_extract_lane::<2>(v), i32x4_extract_lane::<3>(v)]
        }
    }

    /// Rows a, b, c, d of a 4×4 matrix → its columns.
    #[inline(always)]
    pub fn transpose(m: [F32x4; 4]) -> [F32x4; 4] {
        let [a, b, c, d] = m.map(|v| v.0);
        let (t0, t1) = (i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<2, 6, 3, 7>(a, b));
        let (t2, t3) = (i32x4_shuffle::<0, 4, 1, 5>(c, d), i32x4_shuffle::<2, 6, 3, 7>(c, d));
        [
            F32x4(i32x4_shuffle::<0, 1, 4, 5>(t0, t2)),
            F32x4(i32x4_shuffle::<2, 3, 6, 7>(t0, t2)),
            F32x4(i32x4_shuffle::<0, 1, 4, 5>(t1, t3)),
            F32x4(i32x4_shuffle::<2, 3, 6, 7>(t1, t3)),
        ]
    }

    /// Bit i set where `v[i] != 0`.
    #[inline(always)]
    pub fn nonzero_mask(v: &[i16; 64]) -> u64 {
        let mut mask = 0u64;
        for (i, c) in v.chunks_exact(8).enumerate() {
            let lanes = i16x8(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
            let bits = i16x8_bitmask(i16x8_ne(lanes, i16x8_splat(0)));
            mask |= u64::from(bits) << (8 * i);
        }
        mask
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F32x4([f32; 4]);

    impl F32x4 {
        #[inline(always)]
        pub fn new(v: [f32; 4]) -> Self {
            F32x4(v)
        }
        #[inline(always)]
        pub fn splat(v: f32) -> Self {
            F32x4([v; 4])
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            F32x4([self.0[0] + o.0[0], self.0[1] + o.0[1], self.0[2] + o.0[2], self.0[3] + o.0[3]])
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            F32x4([self.0[0] - o.0[0], self.0[1] - o.0[1], self.0[2] - o.0[2], self.0[3] - o.0[3]])
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            F32x4([self.0[0] * o.0[0], self.0[1] * o.0[1], self.0[2] * o.0[2], self.0[3] * o.0[3]])
        }
        #[cfg(test)]
        pub fn to_array(self) -> [f32; 4] {
            self.0
        }
        #[inline(always)]
        pub fn to_i32(self) -> [i32; 4] {
            self.0.map(|v| v as i32)
        }
    }

    #[inline(always)]
    pub fn transpose(m: [F32x4; 4]) -> [F32x4; 4] {
        std::array::from_fn(|c| F32x4([m[0].0[c], m[1].0[c], m[2].0[c], m[3].0[c]]))
    }

    #[inline(always)]
    pub fn nonzero_mask(v: &[i16; 64]) -> u64 {
        v.iter().enumerate().fold(0u64, |m, (i, &x)| m | (u64::from(x != 0) << i))
    }
}

pub(crate) use imp::{nonzero_mask, transpose, F32x4};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonzero_mask_marks_each_non_zero_coefficient() {
        let mut v = [0i16; 64];
        (v[0], v[9], v[63]) = (5, -1, 7);
        assert_eq!(nonzero_mask(&v), 1 | 1 << 9 | 1 << 63);
        assert_eq!(nonzero_mask(&[0; 64]), 0);
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        let m: [F32x4; 4] = std::array::from_fn(|r| F32x4::new(std::array::from_fn(|c| (r * 4 + c) as f32)));
        let t = transpose(m).map(F32x4::to_array);
        assert_eq!(t[1], [1.0, 5.0, 9.0, 13.0]);
        assert_eq!(t[3], [3.0, 7.0, 11.0, 15.0]);
    }

    #[test]
    fn arithmetic_and_conversion_act_per_lane() {
        let (a, b) = (F32x4::new([1.0, -2.5, 3.0, 1e10]), F32x4::splat(2.0));
        assert_eq!(a.add(b).to_array(), [3.0, -0.5, 5.0, 1e10 + 2.0]);
        assert_eq!(a.sub(b).mul(b).to_array(), [-2.0, -9.0, 2.0, (1e10 - 2.0) * 2.0]);
        assert_eq!(a.to_i32(), [1, -2, 3, i32::MAX], "truncates and saturates");
    }
}
