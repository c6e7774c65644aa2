//! End-to-end tests of the public API contract against a real `wrangler dev` per test.
//! Run after building the wasm once (scripts/test.sh does); each test starts its own server with
//! its own state and stops it when done.

mod analysis;
mod backups;
mod chains;
mod client;
mod contract;
mod corpus;
mod formats;
mod forms;
mod foundation;
mod fused;
mod hardening;
mod imaging;
mod inline;
mod listings;
mod live;
mod logs;
mod memory;
mod metadata;
mod redelivery;
mod reliability;
mod render;
mod render_formats;
mod retention;
mod security;
mod storm;
mod support;
mod usage;
mod webp;
