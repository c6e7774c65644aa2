//! The encoder's input, one MCU row (16 or 8 image rows) at a time: level-shifted floats, Y at
//! full resolution and chroma averaged 2×2 or not, from RGB/gray pixels or copied from planes.

use crate::planar::Planar;

/// One MCU row of level-shifted samples: Y at full resolution, chroma subsampled or not.
pub(super) struct Stripe {
    pub y: Vec<f32>,
    pub cb: Vec<f32>,
    pub cr: Vec<f32>,
    width: usize,
    rows: usize,
    subsample: bool,
}

impl Stripe {
    pub(super) fn new(width: usize, rows: usize, color: bool, subsample: bool) -> Stripe {
        let chroma = if !color {
            0
        } else if subsample {
            width * rows / 4
        } else {
            width * rows
        };
        Stripe { y: vec![0.0; width * rows], cb: vec![0.0; chroma], cr: vec![0.0; chroma], width, rows, subsample }
    }

    /// Converts rows `y0..y0 + rows` (repeating the last row and column past the edges).
    pub(super) fn fill(&mut self, px: &[u8], channels: usize, width: usize, height: usize, y0: usize) {
        let stride = width * channels;
        let source_row = |y: usize| &px[(y0 + y).min(height - 1) * stride..][..stride];
        let w = self.width;
        for y in 0..self.rows {
            let src = source_row(y);
            let dst = &mut self.y[y * w..][..w];
            if channels == 3 {
                dst.iter_mut().zip(src.chunks_exact(3)).for_each(|(d, p)| *d = luma(rgb(p)));
            } else {
                dst.iter_mut().zip(src).for_each(|(d, &p)| *d = f32::from(p) - 128.0);
            }
            let last = dst[width - 1];
            dst[width..].fill(last);
            if channels == 3 && !self.subsample {
                let (cb, cr) = (&mut self.cb[y * w..][..w], &mut self.cr[y * w..][..w]);
                for x in 0..w {
                    (cb[x], cr[x]) = chroma(rgb(&src[x.min(width - 1) * 3..]));
                }
            }
        }
        if channels == 3 && self.subsample {
            let cw = w / 2;
            for cy in 0..self.rows / 2 {
                let (a, b) = (source_row(2 * cy), source_row(2 * cy + 1));
                for cx in 0..cw {
                    let (x0, x1) = ((2 * cx).min(width - 1) * 3, (2 * cx + 1).min(width - 1) * 3);
                    let quad = [rgb(&a[x0..]), rgb(&a[x1..]), rgb(&b[x0..]), rgb(&b[x1..])];
                    let mean = [0, 1, 2].map(|c| (quad[0][c] + quad[1][c] + quad[2][c] + quad[3][c]) * 0.25);
                    (self.cb[cy * cw + cx], self.cr[cy * cw + cx]) = chroma(mean);
                }
            }
        }
    }

    /// Copies rows `y0..y0 + rows` of YCbCr 4:2:0 planes (edges repeated), level-shifted.
    pub(super) fn fill_planar(&mut self, p: &Planar, y0: usize) {
        let (w, h) = (p.width as usize, p.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        copy_rows(&mut self.y, self.width, &p.y, w, h, y0, self.rows);
        copy_rows(&mut self.cb, self.width / 2, &p.cb, cw, ch, y0 / 2, self.rows / 2);
        copy_rows(&mut self.cr, self.width / 2, &p.cr, cw, ch, y0 / 2, self.rows / 2);
    }
}

/// `rows` rows from `src` (`w × h`) starting at `y0` into `dst` (`stride` wide), minus 128.
fn copy_rows(dst: &mut [f32], stride: usize, src: &[u8], w: usize, h: usize, y0: usize, rows: usize) {
    for (y, out) in dst.chunks_exact_mut(stride).take(rows).enumerate() {
        let row = &src[(y0 + y).min(h - 1) * w..][..w];
        out.iter_mut().zip(row).for_each(|(d, &s)| *d = f32::from(s) - 128.0);
        let last = out[w - 1];
        out[w..].fill(last);
    }
}

#[inline(always)]
fn rgb(p: &[u8]) -> [f32; 3] {
    [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]
}

/// JFIF's Y, level-shifted.
#[inline(always)]
fn luma([r, g, b]: [f32; 3]) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b - 128.0
}

/// JFIF's Cb and Cr, centred on 0 (the level shift of 128 cancels their offset).
#[inline(always)]
fn chroma([r, g, b]: [f32; 3]) -> (f32, f32) {
    (-0.168_736 * r - 0.331_264 * g + 0.5 * b, 0.5 * r - 0.418_688 * g - 0.081_312 * b)
}
