//! Every catalogue step runs on a small fixture of each input format and produces the size its
//! planner entry promises; the output decodes.

use functions::format::probe;
use functions::plan::Limits;
use functions::registry::{Step, STEPS};
use functions::session::run_chain;
use functions::Chain;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Cursor;

const W: u32 = 64;
const H: u32 = 48;

/// Generous limits: these tests are about results, not refusals.
const LIMITS: Limits = Limits { max_pixels: 1 << 24, memory_budget: 1 << 30 };

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let rgb = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(W, H, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])));
    let rgba =
        image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(W, H, |x, y| image::Rgba([(x * 4) as u8, 60, (y * 5) as u8, 200])));
    let encode = |img: &image::DynamicImage, f| {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), f).expect("fixture encodes");
        out
    };
    let mut webp = Vec::new();
    image_webp::WebPEncoder::new(&mut webp).encode(rgba.as_bytes(), W, H, image_webp::ColorType::Rgba8).expect("webp");
    vec![
        ("png", encode(&rgba, image::ImageOutputFormat::Png)),
        ("jpeg", encode(&rgb, image::ImageOutputFormat::Jpeg(90))),
        ("gif", encode(&rgba, image::ImageOutputFormat::Gif)),
        ("bmp", encode(&rgb, image::ImageOutputFormat::Bmp)),
        ("webp", webp),
    ]
}

/// Parameters that fit a 64×48 fixture where a step's documented example is sized for photos.
fn fixture_params(op: &str) -> Option<Value> {
    match op {
        "crop" => Some(json!({"left": 4, "top": 2, "width": 30, "height": 20})),
        _ => None,
    }
}

/// The step built from its schema's examples (or defaults), or the fixture override.
fn example(op: &str, schema: &Value) -> Value {
    if let Some(mut p) = fixture_params(op) {
        p["op"] = json!(op);
        return p;
    }
    let mut step = json!({ "op": op });
    if let Some(props) = schema["properties"].as_object() {
        for (name, prop) in props {
            if let Some(v) = prop["examples"].get(0).or_else(|| prop.get("default")) {
                step[name] = v.clone();
            }
        }
    }
    step
}

#[test]
fn every_step_runs_on_every_input_format_with_the_planned_size() {
    let fixtures = fixtures();
    let mut failures = Vec::new();
    for spec in STEPS {
        let step_json = example(spec.op, &(spec.params)());
        let chain = match Chain::parse(&json!([step_json.clone(), {"op": "encode", "format": "png"}])) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: its example does not parse: {e}", spec.op));
                continue;
            }
        };
        let step: &Step = &chain.steps()[0];
        // Steps that read another image (watermark) get a fixture under each id they name.
        let aux: HashMap<String, Vec<u8>> = step.aux_images().iter().map(|id| (id.to_string(), fixtures[0].1.clone())).collect();
        for (format, bytes) in &fixtures {
            let info = probe(bytes).expect("fixture probes");
            let expected = step.output_dims(info.width, info.height);
            match (run_chain(&chain, bytes.clone(), LIMITS, &aux), expected) {
                (Ok(out), Ok(dims)) => {
                    if (out.width, out.height) != dims {
                        failures.push(format!("{} on {format}: {}x{} but planned {dims:?}", spec.op, out.width, out.height));
                    }
                    if image::load_from_memory(&out.bytes).is_err() {
                        failures.push(format!("{} on {format}: output does not decode", spec.op));
                    }
                }
                (result, planned) => failures.push(format!("{} on {format}: {:?} (planned {planned:?})", spec.op, result.err())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
