//! One task chain: its state machine, its events, and the Durable Object that persists both
//! and streams the events to WebSocket clients.

pub mod client;
pub mod events;
pub mod object;
mod sockets;
pub mod state;
pub mod view;
