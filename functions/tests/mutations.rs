//! A seeded, deterministic property test: 22,000 mutations (bit flips, byte stomps, truncations,
//! lying size fields, spliced and inserted runs) of valid seed files of every input format go
//! through the format probe and the decoders — full size, and shrunk on load, which takes
//! baseline JPEGs through our own decoder — and none may panic or answer an unstable code.
//!
//! The fuzz targets in `fuzz/` explore further with coverage guidance on nightly; this runs on
//! the stable toolchain in the test command, in a few seconds.

#[path = "support/hostile.rs"]
mod hostile;
#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

use functions::decode::DecodeOptions;
use functions::format::probe;
use functions::raster;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Mutations per seed file.
const PER_SEED: usize = 2000;
/// The codes a broken input may get.
const STABLE_CODES: &[&str] = &["invalid_image", "image_too_large", "unsupported_media_type"];

/// Values a forger writes into size and length fields.
const LIES: &[u32] = &[0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x3FFF, 0x7FFF, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0xFFFF_FFFF];

/// One mutation of `seed`, and its kind.
fn mutate(seed: &[u8], rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let mut b = seed.to_vec();
    let n = b.len();
    match rng.below(6) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(n);
                b[at] ^= 1 << rng.below(8);
            }
            ("bit flips", b)
        }
        1 => {
            let at = rng.below(n);
            b[at] = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)];
            ("byte stomp", b)
        }
        2 => {
            b.truncate(rng.below(n));
            ("truncation", b)
        }
        3 => {
            // A 2- or 4-byte field, either endianness, anywhere in the first 256 bytes (where
            // the headers are) or anywhere at all.
            let lie = LIES[rng.below(LIES.len())];
            let span = if rng.below(4) == 0 { n } else { n.min(256) };
            let at = rng.below(span);
            let bytes: Vec<u8> = match rng.below(4) {
                0 => lie.to_le_bytes().to_vec(),
                1 => lie.to_be_bytes().to_vec(),
                2 => (lie as u16).to_le_bytes().to_vec(),
                _ => (lie as u16).to_be_bytes().to_vec(),
            };
            for (i, v) in bytes.into_iter().enumerate() {
                if let Some(slot) = b.get_mut(at + i) {
                    *slot = v;
                }
            }
            ("lying field", b)
        }
        4 => {
            // A run of the file copied over another place (duplicated chunks, markers, tables).
            let (from, len) = (rng.below(n), 1 + rng.below(64));
            let run: Vec<u8> = b[from..(from + len).min(n)].to_vec();
            let to = rng.below(n);
            b.splice(to..(to + run.len()).min(n), run);
            ("splice", b)
        }
        _ => {
            let at = rng.below(n);
            let junk: Vec<u8> = (0..1 + rng.below(32)).map(|_| rng.next() as u8).collect();
            b.splice(at..at, junk);
            ("insertion", b)
        }
    }
}

/// Probes and decodes `bytes` as an upload and a chain would; `Err` describes misbehaviour.
fn check(bytes: &[u8]) -> Result<&'static str, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let info = probe(bytes).map_err(|e| e.code())?;
        // Full size, then shrunk on load (JPEG: our own scaled decoder on baseline files).
        for hint in [None, Some((2, 2))] {
            let opts = DecodeOptions { hint, max_pixels: 1 << 20, max_alloc: 16 << 20, orient: true, keep_profile: false };
            raster::load(bytes.to_vec(), &opts).map_err(|e| e.code())?;
            if info.format != functions::Format::Jpeg {
                break;
            }
        }
        Ok("decoded")
    }));
    match outcome {
        Err(_) => Err("panicked".into()),
        Ok(Ok(ok)) => Ok(ok),
        Ok(Err(code)) if STABLE_CODES.contains(&code) => Ok(code),
        Ok(Err(code)) => Err(format!("unexpected code {code}")),
    }
}

#[test]
fn ten_thousand_mutated_inputs_never_panic_and_get_stable_codes() {
    let mut rng = Rng(0x5EED_F00D_0000_0013);
    let hook = std::panic::take_hook();
    // Quiet the default hook: a panic is reported once, with its input, below.
    std::panic::set_hook(Box::new(|_| {}));
    let (mut failures, mut summary, mut total) = (Vec::new(), BTreeMap::new(), 0);
    for (name, seed) in hostile::seeds() {
        for i in 0..PER_SEED {
            let (kind, bytes) = mutate(&seed, &mut rng);
            total += 1;
            match check(&bytes) {
                Ok(outcome) => *summary.entry((kind, outcome)).or_insert(0) += 1,
                Err(why) => failures.push(format!("{name} #{i} ({kind}, {} bytes): {why}", bytes.len())),
            }
        }
    }
    std::panic::set_hook(hook);
    println!("{total} mutated inputs; by mutation and outcome:");
    for ((kind, outcome), count) in &summary {
        println!("  {kind:>12} → {outcome:<22} {count}");
    }
    assert!(total >= 10_000, "only {total} inputs");
    assert!(failures.is_empty(), "{} of {total} inputs misbehaved:\n{}", failures.len(), failures.join("\n"));
}
