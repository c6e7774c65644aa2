//! From decoded planes to pixels: chroma upsampling (libjpeg's "fancy" triangle filter, so
//! colour edges stay as smooth as jpeg-decoder and libjpeg-turbo make them) and the JFIF
//! YCbCr → RGB conversion, cropping the block padding away.

use super::scan::Plane;

/// Pixels of `width × height`: gray for one plane, RGB for three.
pub(super) fn to_pixels(planes: &[Plane], width: usize, height: usize) -> Vec<u8> {
    if let [luma] = planes {
        return super::crop(&luma.data, luma.width, width, height);
    }
    let mut out = vec![0u8; width * height * 3];
    let (mut cb, mut cr) = (vec![0u8; width + 1], vec![0u8; width + 1]);
    let mut column = Vec::with_capacity(planes[1].width);
    for (y, row) in out.chunks_exact_mut(width * 3).enumerate() {
        upsample_row(&planes[1], (width, height), y, &mut column, &mut cb);
        upsample_row(&planes[2], (width, height), y, &mut column, &mut cr);
        let luma = &planes[0].data[y * planes[0].width..][..width];
        for (((px, &l), &b), &r) in row.chunks_exact_mut(3).zip(luma).zip(&cb).zip(&cr) {
            px.copy_from_slice(&ycbcr_to_rgb(l, b, r));
        }
    }
    out
}

/// The chroma samples for output row `y`, one per output column (at least `out.len() - 1`).
///
/// A subsampled sample sits between the two output pixels it covers, so each output takes 3/4
/// of the nearer sample and 1/4 of the next one over, down and then across.
///
/// Only the samples inside the image count (`image` is the output size): like libjpeg, the edge
/// sample repeats rather than blending in the block padding past it.
fn upsample_row(plane: &Plane, image: (usize, usize), y: usize, column: &mut Vec<u16>, out: &mut [u8]) {
    let (fh, fv) = plane.factor;
    let (w, h) = (image.0.div_ceil(fh), image.1.div_ceil(fv));
    let row = |cy: usize| &plane.data[cy.min(h - 1) * plane.width..][..w];
    // Vertical pass into sums scaled by 4.
    column.clear();
    if fv == 2 {
        let (near, far) = (row(y / 2), if y.is_multiple_of(2) { row((y / 2).saturating_sub(1)) } else { row(y / 2 + 1) });
        column.extend(near.iter().zip(far).map(|(&n, &f)| 3 * u16::from(n) + u16::from(f)));
    } else {
        column.extend(row(y).iter().map(|&n| 4 * u16::from(n)));
    }
    if fh == 2 {
        // Edges repeat their sample; in between, each sample makes two outputs from its neighbours.
        let edge = |c: u16| ((4 * c + 8) >> 4) as u8;
        let (first, last) = (column[0], column[w - 1]);
        out[0] = edge(first);
        for (pair, win) in out[1..].chunks_exact_mut(2).zip(column.windows(2)) {
            pair[0] = ((3 * win[0] + win[1] + 7) >> 4) as u8;
            pair[1] = ((3 * win[1] + win[0] + 8) >> 4) as u8;
        }
        let end = (2 * w - 1).min(out.len() - 1);
        out[end..].fill(edge(last));
    } else {
        for (o, &c) in out.iter_mut().zip(column.iter()) {
            *o = ((c + 2) >> 2) as u8;
        }
    }
}

/// JFIF's YCbCr → RGB in 16-bit fixed point (the constants of ITU-R BT.601 full range).
#[inline(always)]
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (i32::from(y) << 16, i32::from(cb) - 128, i32::from(cr) - 128);
    let clamp = |v: i32| ((v + 32768) >> 16).clamp(0, 255) as u8;
    [clamp(y + 91_881 * cr), clamp(y - 22_554 * cb - 46_802 * cr), clamp(y + 116_130 * cb)]
}
