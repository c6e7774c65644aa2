//! The queue consumer: runs one chain step per message.
//!
//! For each message it claims the step from the task's object (which may say skip), loads the
//! input from R2, runs the pure step from the `functions` crate, stores the output under its
//! deterministic key, and reports back. Image errors are permanent and reported as the step's
//! failure; platform errors (R2, Durable Object) are transient and the message is retried.

use crate::bindings::{DEAD_LETTER_QUEUE_NAME, IMAGES_BUCKET};
use crate::clock::now_millis;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::messages::{ClaimRequest, Completion, Outcome, StepMessage};
use crate::task::client::TaskClient;
use functions::exec::{run_step, StepContext};
use std::collections::HashMap;
use worker::{console_error, console_log, Env, HttpMetadata, MessageBatch, MessageExt};

pub async fn consume(batch: MessageBatch<StepMessage>, env: Env) -> worker::Result<()> {
    let dead_letters = batch.queue() == DEAD_LETTER_QUEUE_NAME;
    let config = match Config::from_env(&env) {
        Ok(c) => c,
        Err(problems) => {
            // Without a valid config nothing can run; keep the messages for when it is fixed.
            console_error!("{}", serde_json::json!({"event": "queue", "error": "bad configuration", "names": problems}));
            batch.retry_all();
            return Ok(());
        }
    };
    for message in batch.iter() {
        let message = message?;
        let msg = message.body();
        let result = if dead_letters { give_up(&env, msg).await } else { run(&env, &config, msg).await };
        match result {
            Ok(()) => message.ack(),
            Err(e) => {
                console_error!("{}", log_line(msg, "retry", &e.to_string()));
                message.retry();
            }
        }
    }
    Ok(())
}

fn log_line(msg: &StepMessage, event: &str, detail: &str) -> String {
    serde_json::json!({"event": event, "task": msg.task, "image": msg.image, "step": msg.step, "detail": detail}).to_string()
}

/// A message that exhausted its retries: its step fails visibly.
async fn give_up(env: &Env, msg: &StepMessage) -> ApiResult<()> {
    console_error!("{}", log_line(msg, "dead_letter", "giving up on the step"));
    TaskClient::new(env, &msg.task)?.give_up(&ClaimRequest { image: msg.image, step: msg.step }).await?;
    Ok(())
}

async fn run(env: &Env, config: &Config, msg: &StepMessage) -> ApiResult<()> {
    let task = TaskClient::new(env, &msg.task)?;
    let Some(spec) = task.claim(&ClaimRequest { image: msg.image, step: msg.step }).await?.run else {
        console_log!("{}", log_line(msg, "skip", "duplicate or finished"));
        return Ok(());
    };
    let bucket = env.bucket(IMAGES_BUCKET)?;
    let started = now_millis();
    let outcome = match bucket.get(spec.input_key.clone()).execute().await? {
        None => Outcome::Failed { code: "not_found".into(), message: "the input image no longer exists".into() },
        Some(obj) => {
            let input = obj.body().ok_or_else(|| ApiError::Internal("input has no body".into()))?.bytes().await?;
            let aux = load_aux(&bucket, &spec.aux).await?;
            let ctx = StepContext {
                source_format: spec.source_format,
                is_first: spec.is_first,
                is_last: spec.is_last,
                max_pixels: config.max_input_pixels,
                aux: &aux,
            };
            match run_step(&spec.step, input, &ctx) {
                Err(e) => Outcome::Failed { code: e.code().into(), message: e.to_string() },
                Ok(out) => {
                    let (content_type, width, height, bytes) = (out.content_type.to_string(), out.width, out.height, out.bytes.len() as u64);
                    let memory_bytes = memory_bytes();
                    let http = HttpMetadata { content_type: Some(content_type.clone()), ..Default::default() };
                    bucket.put(spec.output_key.clone(), out.bytes).http_metadata(http).execute().await?;
                    Outcome::Succeeded { content_type, width, height, bytes, duration_ms: now_millis() - started, memory_bytes }
                }
            }
        }
    };
    console_log!("{}", log_line(msg, "step", &format!("{outcome:?}").chars().take(200).collect::<String>()));
    let done = Completion { image: msg.image, step: msg.step, attempt: spec.attempt, outcome };
    task.complete(&done).await.map(|_| ()).map_err(|e| ApiError::Internal(format!("reporting the step: {e}")))
}

/// Loads the other images a step reads (e.g. a watermark). A missing one is left out: the step
/// then fails with a clear image error rather than retrying forever.
async fn load_aux(bucket: &worker::Bucket, aux: &[(String, String)]) -> ApiResult<HashMap<String, Vec<u8>>> {
    let mut out = HashMap::new();
    for (id, key) in aux {
        if let Some(obj) = bucket.get(key.clone()).execute().await? {
            let body = obj.body().ok_or_else(|| ApiError::Internal(format!("{key} has no body")))?;
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
