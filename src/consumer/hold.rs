//! Which step's report may wait for the next step's, to be sent with it in one call
//! (`task::held` records them in order, as if each had come alone).
//!
//! Only when the next step is cheap and bounded, so that a subscriber sees the held events a
//! few milliseconds late, never a long step late, and it is not the chain's last step (whose
//! report carries the result and ends the task). Cheap and bounded means one of:
//! - it moves, cuts or scales pixels (geometry, linear in its pixels; the SIMD resize of a
//!   sub-megapixel raster takes 1–4 ms here) and works on and makes at most
//!   [`HOLD_MAX_PIXELS`]. The common case is the preset's resize after a shrink-on-load
//!   decode: `thumbnail` and `avatar` on a 12 MP photo hold their first report;
//! - it maps each pixel on its own (colour and tone) on at most [`HOLD_MAX_POINT_PIXELS`]:
//!   a chain of small adjustments on a thumbnail-sized image sends half the reports.
//!
//! A report round trip costs more than either under `wrangler dev` (4–5 ms).
//!
//! The price: a job that dies while holding a report loses it with the step it was running, so
//! the watchdog retries the held step (one attempt more on it, and its work, which was cheap
//! or decoding, redone); every guarantee of a lost report holds as before.

use crate::messages::{Completion, CompletionResponse};
use crate::task::client::TaskClient;
use crate::task::protocol::TaskError;
use functions::shrink::Shrink;
use functions::Step;

/// The most pixels a held-for geometry step may read or write (1000×1000).
pub const HOLD_MAX_PIXELS: u64 = 1_000_000;

/// The most pixels a held-for per-pixel step may work on (256×256). Per-pixel steps differ
/// far more in cost than geometry: natively, at 0.25 MP, `brightness` or `gamma` take 0.4–0.5
/// ms, `saturation` 1.7, `tint` 2.2, most `filter` presets 3.4–5 and `filter` `lofi` 15 (62 ns
/// a pixel); here that slowest one stays at 4 ms.
pub const HOLD_MAX_POINT_PIXELS: u64 = 65_536;

/// The attempt a held-for step runs as, for the job's own use (its fault hooks and log lines):
/// a step claimed in place after its predecessor has never run before. The object records it
/// as the attempt the held report claims, whatever this says.
pub const HELD_STEP_ATTEMPT: u32 = 1;

/// Whether the report of the step just run may wait for step `next` of `steps`, which will
/// run on an input of `dims`.
pub fn may_hold(steps: &[Step], next: usize, dims: (u32, u32)) -> bool {
    let Some(step) = steps.get(next) else { return false };
    let limit = match step.shrink() {
        Shrink::Move { .. } | Shrink::Cut | Shrink::Scale => HOLD_MAX_PIXELS,
        Shrink::Point => HOLD_MAX_POINT_PIXELS,
        Shrink::Barrier => return false,
    };
    let pixels = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
    let output = step.output_dims(dims.0, dims.1).map_or(u64::MAX, pixels);
    next + 1 < steps.len() && pixels(dims).max(output) <= limit
}

/// Sends `done`, with the report `held` for it if there is one, in one call.
pub async fn send(task: &TaskClient, held: Option<Completion>, done: &Completion) -> Result<CompletionResponse, TaskError> {
    match held {
        Some(first) => task.complete_held(&first, done).await,
        None => task.complete(done).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use functions::Chain;
    use serde_json::json;

    fn chain(steps: serde_json::Value) -> Chain {
        Chain::parse(&steps).expect("a valid chain")
    }

    #[test]
    fn a_small_resize_before_the_encode_is_held_for() {
        let c = chain(json!([{"op":"auto_orient"},{"op":"resize","width":512,"height":512,"fit":"cover"},{"op":"encode","format":"png"}]));
        assert!(may_hold(c.steps(), 1, (1000, 750)), "avatar after a 1/4-scale decode");
        assert!(!may_hold(c.steps(), 1, (2000, 1500)), "3 MP in: not cheap enough");
        assert!(!may_hold(c.steps(), 2, (512, 512)), "the encode, the last step, is never held for");
        assert!(!may_hold(c.steps(), 3, (512, 512)), "no such step");
    }

    #[test]
    fn an_upscale_or_a_neighbourhood_filter_is_not_held_for() {
        let c = chain(json!([{"op":"resize","width":4000},{"op":"blur","sigma":2},{"op":"encode","format":"jpeg"}]));
        assert!(!may_hold(c.steps(), 0, (500, 375)), "its output is 12 MP");
        assert!(!may_hold(c.steps(), 1, (500, 375)), "a blur looks at neighbours: not bounded by geometry");
    }

    #[test]
    fn a_per_pixel_step_is_held_for_only_on_a_thumbnail_sized_image() {
        let c = chain(
            json!([{"op":"resize","width":256},{"op":"filter","name":"lofi"},{"op":"brightness","factor":1.1},{"op":"encode","format":"webp"}]),
        );
        assert!(may_hold(c.steps(), 1, (256, 192)), "the slowest filter on 49 K pixels");
        assert!(may_hold(c.steps(), 2, (256, 256)), "exactly at the bound");
        assert!(!may_hold(c.steps(), 2, (257, 256)), "past it");
        assert!(!may_hold(c.steps(), 1, (1000, 750)), "geometry's bound is not a per-pixel step's");
    }
}
