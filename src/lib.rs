//! Stellar Studio's Worker: the public API, the task Durable Object and the queue consumer.
//!
//! This crate is thin glue between Cloudflare's platform (R2, Queues, Durable Objects) and the
//! pure imaging core in the `functions` crate. See `docs/ARCHITECTURE.md` for the request flow.

// No `unsafe` of our own (the platform bindings' generated glue is the macros' business), and
// no `unwrap`/`expect` in shipped code: a panic here aborts the module (see `memory`), so a
// fallible call must become an error the client sees. Tests may unwrap.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod analysis;
mod api;
mod archive;
mod auth;
mod backup;
mod bindings;
mod clock;
mod config;
mod consumer;
mod faults;
mod ids;
mod keys;
mod links;
mod live;
mod log;
mod memory;
mod messages;
mod metrics;
mod objects;
mod range;
mod ratelimit;
mod render;
mod retention;
mod scheduled;
mod signing;
mod storage;
mod task;
mod tenant;
mod turn;
mod webhook;

use worker::{event, Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent};

#[event(start)]
fn start() {
    // Panics become readable stack traces in the logs instead of "unreachable".
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    api::handle(req, env, ctx).await
}

/// The Cron Triggers: retention and the daily backup (`src/scheduled.rs`).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    scheduled::run(&event.cron(), event.schedule() as u64, &env).await;
}

#[event(queue)]
async fn queue(batch: MessageBatch<messages::QueueMessage>, env: Env, _ctx: Context) -> worker::Result<()> {
    consumer::consume(batch, env).await
}
