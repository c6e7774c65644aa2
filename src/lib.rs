//! Stellar Studio's Worker: the public API, the task Durable Object and the queue consumer.
//!
//! This crate is thin glue between Cloudflare's platform (R2, Queues, Durable Objects) and the
//! pure imaging core in the `functions` crate. See `docs/ARCHITECTURE.md` for the request flow.

mod api;
pub mod archive;
pub mod auth;
pub mod bindings;
mod clock;
pub mod config;
mod consumer;
pub mod error;
pub mod faults;
pub mod ids;
pub mod keys;
pub mod links;
pub mod live;
mod memory;
pub mod messages;
pub mod range;
pub mod ratelimit;
mod storage;
pub mod task;
pub mod tenant;
pub mod webhook;

use worker::{event, Context, Env, MessageBatch, Request, Response};

#[event(start)]
fn start() {
    // Panics become readable stack traces in the logs instead of "unreachable".
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    api::handle(req, env).await
}

#[event(queue)]
async fn queue(batch: MessageBatch<messages::Job>, env: Env, _ctx: Context) -> worker::Result<()> {
    consumer::consume(batch, env).await
}
