//! The chain parser a `POST /tasks` body reaches, then the memory planner on what it accepts
//! (its arithmetic on hostile sizes). No input may panic.
#![no_main]

use functions::format::{Format, ImageInfo};
use functions::plan::{plan, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(steps) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(chain) = functions::Chain::parse(&steps) else { return };
    let limits = Limits { max_pixels: 100_000_000, memory_budget: 96 << 20 };
    for (width, height) in [(1, 1), (4000, 3000), (65_535, 1)] {
        let info = ImageInfo { format: Format::Jpeg, width, height, progressive: false, wide: false };
        let _ = plan(&info, 1 << 20, &chain, limits);
    }
});
