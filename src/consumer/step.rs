//! One chain step: load the input from R2, run the pure step from the `functions` crate, store
//! the output under its deterministic key. Image errors are permanent; storage errors are
//! transient (the object schedules the retry).

use crate::bindings::IMAGES_BUCKET;
use crate::clock::now_millis;
use crate::config::Config;
use crate::messages::{Outcome, StepSpec};
use crate::storage::{HEIGHT_META, WIDTH_META};
use functions::exec::{run_step, StepContext};
use std::collections::HashMap;
use worker::{Bucket, Env, HttpMetadata};

pub async fn run(env: &Env, config: &Config, spec: &StepSpec, attempt: u32) -> Outcome {
    if attempt <= config.faults.transient {
        return Outcome::Transient { message: format!("injected transient failure on attempt {attempt} (FAULT_INJECTION)") };
    }
    match execute(env, config, spec).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Transient { message: e.to_string() },
    }
}

/// `Err` only for platform trouble (worth retrying); image problems are a `Failed` outcome.
async fn execute(env: &Env, config: &Config, spec: &StepSpec) -> worker::Result<Outcome> {
    let bucket = env.bucket(IMAGES_BUCKET)?;
    let started = now_millis();
    let Some(obj) = bucket.get(spec.input_key.clone()).execute().await? else {
        return Ok(Outcome::Failed { code: "not_found".into(), message: "the input image no longer exists".into() });
    };
    let input = obj.body().ok_or_else(|| worker::Error::RustError("input has no body".into()))?.bytes().await?;
    let aux = load_aux(&bucket, &spec.aux).await?;
    let ctx = StepContext {
        source_format: spec.source_format,
        is_first: spec.is_first,
        is_last: spec.is_last,
        max_pixels: config.max_input_pixels,
        aux: &aux,
    };
    let out = match run_step(&spec.step, input, &ctx) {
        Err(e) => return Ok(Outcome::Failed { code: e.code().into(), message: e.to_string() }),
        Ok(out) => out,
    };
    let (content_type, width, height, bytes) = (out.content_type.to_string(), out.width, out.height, out.bytes.len() as u64);
    let memory_bytes = memory_bytes();
    let http = HttpMetadata { content_type: Some(content_type.clone()), ..Default::default() };
    let meta = HashMap::from([(WIDTH_META.to_string(), width.to_string()), (HEIGHT_META.to_string(), height.to_string())]);
    bucket.put(spec.output_key.clone(), out.bytes).http_metadata(http).custom_metadata(meta).execute().await?;
    cleanup(&bucket, &spec.cleanup).await;
    Ok(Outcome::Succeeded { content_type, width, height, bytes, duration_ms: now_millis() - started, memory_bytes })
}

/// Intermediate outputs are dead weight once the result exists; failing to delete them only
/// wastes storage, so errors are ignored.
async fn cleanup(bucket: &Bucket, keys: &[String]) {
    for key in keys {
        let _ = bucket.delete(key.clone()).await;
    }
}

/// Loads the other images a step reads (e.g. a watermark). A missing one is left out: the step
/// then fails with a clear image error rather than retrying forever.
async fn load_aux(bucket: &Bucket, aux: &[(String, String)]) -> worker::Result<HashMap<String, Vec<u8>>> {
    let mut out = HashMap::new();
    for (id, key) in aux {
        if let Some(obj) = bucket.get(key.clone()).execute().await? {
            let body = obj.body().ok_or_else(|| worker::Error::RustError(format!("{key} has no body")))?;
            out.insert(id.clone(), body.bytes().await?);
        }
    }
    Ok(out)
}

/// Size of the wasm linear memory: it only grows, so after a step it is the high-water mark.
pub fn memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
