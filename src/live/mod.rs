//! Live streams shared by the task objects (one task's events) and the tenant objects (the
//! tenant's feed): hibernatable WebSockets with replay, and Server-Sent Events bridged from them.

pub mod sockets;
pub mod sse;
