//! One task chain: its state machine (pure: model, lease, state, lifecycle, watchdog), its
//! events, and the Durable Object that persists both, sends the jobs and streams the events.

mod alarm;
pub mod client;
mod dispatch;
pub mod events;
mod held;
pub mod inline;
mod jitter;
pub mod lease;
mod lifecycle;
mod listing;
pub mod model;
pub mod names;
pub mod object;
mod progress;
pub mod protocol;
mod record;
mod spec;
pub mod state;
mod throttle;
pub mod view;
mod watchdog;
