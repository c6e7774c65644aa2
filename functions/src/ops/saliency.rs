//! Where an image is interesting, measured on a small grid of cells (each cell the average of a
//! block of the image) so that the cost does not grow with the picture: `smart_crop` places its
//! window from these maps.
//!
//! - [`entropy_map`]: each cell's Shannon entropy of its luma histogram (16 bins over the cell's
//!   own pixels): texture and edges score, flat sky does not.
//! - [`attention_map`]: libvips' `attention` heuristic (which sharp's `position: attention` runs),
//!   after smartcrop.js: on a 32×32 reduction in CIE XYZ, the sum of edge energy (5 × |Laplacian|
//!   of Y), a skin-tone score (100 − 100 × distance of the normalised XYZ from a skin point) and
//!   the CIELAB a* (red–green saturation), the last two only where Y > 5; blurred with a
//!   Gaussian sized from the crop window.

use crate::raster::Raster;

/// A grid of scores: `cells.0 × cells.1` values, row-major; cell `(i, j)` covers the image's
/// pixels `[i·w/cw, (i+1)·w/cw) × [j·h/ch, (j+1)·h/ch)`.
pub struct Grid {
    pub cells: (usize, usize),
    pub scores: Vec<f64>,
}

/// The entropy grid's long side, in cells: placement precision of 1/128 of the image.
pub const ENTROPY_CELLS: usize = 128;
/// libvips reduces to 32×32 for `attention`.
pub const ATTENTION_CELLS: usize = 32;
const BINS: usize = 16;

/// Bytes the maps hold at most: the entropy grid's histograms (u32 per bin) and its scores.
pub const MAP_BYTES: u64 = (ENTROPY_CELLS * ENTROPY_CELLS * (BINS * 4 + 8)) as u64;

/// Cells along an axis of `len` pixels when the long side gets `long` cells (at least one
/// pixel per cell, at least one cell).
fn cells_along(len: u32, longest: u32, long: usize) -> usize {
    let n = (u64::from(len) * long as u64).div_ceil(u64::from(longest.max(1)));
    usize::try_from(n).unwrap_or(long).clamp(1, long).min(len.max(1) as usize)
}

/// For each pixel column (or row) of `len`, its cell among `cells`.
fn cell_of(len: u32, cells: usize) -> Vec<usize> {
    (0..len as usize).map(|p| p * cells / len.max(1) as usize).collect()
}

/// The pixel's colour as RGB (gray layouts repeat their luma; alpha is ignored).
fn rgb(px: &[u8]) -> [u8; 3] {
    match px.len() {
        1 | 2 => [px[0]; 3],
        _ => [px[0], px[1], px[2]],
    }
}

/// Local Shannon entropy per cell (bits, 0..4), on a grid whose long side is [`ENTROPY_CELLS`].
pub fn entropy_map(src: &Raster) -> Grid {
    let longest = src.width.max(src.height);
    let cells = (cells_along(src.width, longest, ENTROPY_CELLS), cells_along(src.height, longest, ENTROPY_CELLS));
    let mut hist = vec![0u32; cells.0 * cells.1 * BINS];
    let (cx, cy) = (cell_of(src.width, cells.0), cell_of(src.height, cells.1));
    let ch = src.layout.channels();
    for (y, row) in src.pixels.chunks_exact(src.width as usize * ch).enumerate() {
        let base = cy[y] * cells.0;
        for (x, px) in row.chunks_exact(ch).enumerate() {
            let [r, g, b] = rgb(px);
            let luma = (u32::from(r) * 77 + u32::from(g) * 150 + u32::from(b) * 29) >> 8;
            hist[(base + cx[x]) * BINS + ((luma as usize * BINS) >> 8)] += 1;
        }
    }
    let scores = hist
        .chunks_exact(BINS)
        .map(|h| {
            let total: u32 = h.iter().sum();
            let n = f64::from(total.max(1));
            h.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
        })
        .collect();
    Grid { cells, scores }
}

/// The 32×32 (or smaller, for a smaller image) average colours of `src`, as sRGB 0..255.
fn reduce(src: &Raster, cells: (usize, usize)) -> Vec<[f64; 3]> {
    let mut sums = vec![[0f64; 4]; cells.0 * cells.1];
    let (cx, cy) = (cell_of(src.width, cells.0), cell_of(src.height, cells.1));
    let ch = src.layout.channels();
    for (y, row) in src.pixels.chunks_exact(src.width as usize * ch).enumerate() {
        for (x, px) in row.chunks_exact(ch).enumerate() {
            let s = &mut sums[cy[y] * cells.0 + cx[x]];
            let [r, g, b] = rgb(px);
            (s[0], s[1], s[2], s[3]) = (s[0] + f64::from(r), s[1] + f64::from(g), s[2] + f64::from(b), s[3] + 1.0);
        }
    }
    sums.iter().map(|s| [s[0] / s[3].max(1.0), s[1] / s[3].max(1.0), s[2] / s[3].max(1.0)]).collect()
}

/// sRGB (0..255) to CIE XYZ with D65 white, Y of white = 100 (libvips' scale).
fn xyz([r, g, b]: [f64; 3]) -> [f64; 3] {
    let lin = |c: f64| {
        let c = c / 255.0;
        100.0 * if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let (r, g, b) = (lin(r), lin(g), lin(b));
    [0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b, 0.0193 * r + 0.1192 * g + 0.9505 * b]
}

/// CIELAB a* of an XYZ colour (D65).
fn lab_a([x, y, _]: [f64; 3]) -> f64 {
    let f = |t: f64| if t > 216.0 / 24389.0 { t.cbrt() } else { (24389.0 / 27.0 * t + 16.0) / 116.0 };
    500.0 * (f(x / 95.047) - f(y / 100.0))
}

/// libvips' attention score per cell, before the blur (see the module doc).
fn attention_scores(cells: (usize, usize), xyz: &[[f64; 3]]) -> Vec<f64> {
    const SKIN: [f64; 3] = [0.78, 0.57, 0.44];
    let (w, h) = (cells.0 as isize, cells.1 as isize);
    let y_at = |x: isize, y: isize| xyz[(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize][1];
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            let c = xyz[(y * w + x) as usize];
            let laplacian = 4.0 * c[1] - y_at(x - 1, y) - y_at(x + 1, y) - y_at(x, y - 1) - y_at(x, y + 1);
            let edge = (5.0 * laplacian).abs();
            if c[1] <= 5.0 {
                return edge;
            }
            let norm = (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt().max(f64::MIN_POSITIVE);
            let d = (0..3).map(|i| (c[i] / norm - SKIN[i]).powi(2)).sum::<f64>().sqrt();
            edge + (100.0 - 100.0 * d) + lab_a(c)
        })
        .collect()
}

/// A separable Gaussian blur of a grid, edges extended (as libvips' `gaussblur`).
fn blur(grid: &Grid, sigma: f64) -> Vec<f64> {
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-radius..=radius).map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp()).collect();
    let total: f64 = kernel.iter().sum();
    let (w, h) = (grid.cells.0 as isize, grid.cells.1 as isize);
    let pass = |src: &[f64], horizontal: bool| -> Vec<f64> {
        (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                let at = |k: isize| {
                    let (sx, sy) = if horizontal { ((x + k).clamp(0, w - 1), y) } else { (x, (y + k).clamp(0, h - 1)) };
                    src[(sy * w + sx) as usize]
                };
                kernel.iter().zip(-radius..=radius).map(|(kv, k)| kv * at(k)).sum::<f64>() / total
            })
            .collect()
    };
    pass(&pass(&grid.scores, true), false)
}

/// libvips' attention map for a `window` crop of `src`, blurred: its maximum is the point the
/// crop centres on.
pub fn attention_map(src: &Raster, window: (u32, u32)) -> Grid {
    let cells = ((src.width as usize).min(ATTENTION_CELLS), (src.height as usize).min(ATTENTION_CELLS));
    let colours: Vec<[f64; 3]> = reduce(src, cells).into_iter().map(xyz).collect();
    let raw = Grid { cells, scores: attention_scores(cells, &colours) };
    // libvips: sigma = max(|window in cells| / 10, 1).
    let (hs, vs) = (cells.0 as f64 / f64::from(src.width), cells.1 as f64 / f64::from(src.height));
    let sigma = ((f64::from(window.0) * hs).powi(2) + (f64::from(window.1) * vs).powi(2)).sqrt() / 10.0;
    Grid { cells, scores: blur(&raw, sigma.max(1.0)) }
}
