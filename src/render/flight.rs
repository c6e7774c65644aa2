//! Coalescing: simultaneous requests for the same uncached rendition in one isolate render it
//! once. The first becomes the leader and does the work; the others wait for its answer.
//!
//! Workers run one request at a time per isolate thread, so the table is a thread-local map
//! without locks. A leader dropped before it finishes (its request was cancelled) drops the
//! waiters' senders: they see `Abandoned` and try again themselves.

use futures_channel::oneshot;
use std::cell::RefCell;
use std::collections::HashMap;

use super::produce::Produced;

thread_local! {
    static FLIGHTS: RefCell<HashMap<String, Vec<oneshot::Sender<Produced>>>> = RefCell::new(HashMap::new());
}

/// A request's place in the flight for one key.
pub enum Seat {
    /// Nobody is producing this key: do it, then [`Leader::land`].
    Leader(Leader),
    /// Someone is: wait for their answer.
    Follower(oneshot::Receiver<Produced>),
}

/// Takes a seat on the flight for `key`.
pub fn board(key: &str) -> Seat {
    FLIGHTS.with(|flights| {
        let mut flights = flights.borrow_mut();
        match flights.get_mut(key) {
            Some(waiters) => {
                let (tx, rx) = oneshot::channel();
                waiters.push(tx);
                Seat::Follower(rx)
            }
            None => {
                flights.insert(key.to_string(), Vec::new());
                Seat::Leader(Leader { key: key.to_string() })
            }
        }
    })
}

/// The request producing a key; hands its result to every follower.
pub struct Leader {
    key: String,
}

impl Leader {
    pub fn land(self, produced: &Produced) {
        for waiter in self.take_waiters() {
            // A follower that went away no longer needs it.
            let _ = waiter.send(produced.clone());
        }
    }

    fn take_waiters(&self) -> Vec<oneshot::Sender<Produced>> {
        FLIGHTS.with(|flights| flights.borrow_mut().remove(&self.key)).unwrap_or_default()
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        // Landed: already removed. Abandoned: removing drops the senders, which wakes the
        // followers with `Canceled`.
        drop(self.take_waiters());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::produce::{Produced, RenderFailure};

    fn failure() -> Produced {
        Err(RenderFailure::Internal("x".into()))
    }

    #[test]
    fn the_first_request_leads_and_the_others_follow_until_it_lands() {
        let Seat::Leader(leader) = board("k1") else { panic!("first leads") };
        let Seat::Follower(mut a) = board("k1") else { panic!("second follows") };
        let Seat::Follower(mut b) = board("k1") else { panic!("third follows") };
        leader.land(&failure());
        assert!(matches!(a.try_recv(), Ok(Some(Err(_)))) && matches!(b.try_recv(), Ok(Some(Err(_)))));
        assert!(matches!(board("k1"), Seat::Leader(_)), "a landed flight is gone");
    }

    #[test]
    fn an_abandoned_flight_releases_its_followers() {
        let leader = board("k2");
        let Seat::Follower(mut f) = board("k2") else { panic!("follows") };
        drop(leader);
        assert!(f.try_recv().is_err(), "cancelled, so the follower retries");
        assert!(matches!(board("k2"), Seat::Leader(_)));
    }
}
