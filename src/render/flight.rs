//! Coalescing: simultaneous requests for the same uncached rendition in one isolate render it
//! once. The first becomes the leader and does the work; the others wait for its answer.
//!
//! The isolate runs one thread, so the table is a thread-local map without locks. Followers
//! look at it on a timer of their own rather than being woken by the leader: a wake-up from
//! another request runs the follower inside that request, which workerd refuses (see
//! `crate::turn`). A leader dropped before it lands (its request was cancelled) leaves the
//! flight abandoned: its followers then try again themselves.

use super::produce::Produced;
use std::cell::RefCell;
use std::collections::HashMap;

/// How often a follower looks for the leader's answer.
const POLL_MS: u64 = 10;

enum Flight {
    Flying { followers: usize },
    Landed { answer: Produced, unread: usize },
    Abandoned { unread: usize },
}

thread_local! {
    static FLIGHTS: RefCell<HashMap<String, Flight>> = RefCell::new(HashMap::new());
}

/// A request's place in the flight for one key.
pub enum Seat {
    /// Nobody is producing this key: do it, then [`Leader::land`].
    Leader(Leader),
    /// Someone is: [`Follower::wait`] for their answer.
    Follower(Follower),
}

/// Takes a seat on the flight for `key`.
pub fn board(key: &str) -> Seat {
    FLIGHTS.with(|flights| {
        let mut flights = flights.borrow_mut();
        match flights.get_mut(key) {
            Some(Flight::Flying { followers }) => *followers += 1,
            // Ended, with readers still to come: read it too (a late arrival gets the answer).
            Some(Flight::Landed { unread, .. } | Flight::Abandoned { unread }) => *unread += 1,
            None => {
                flights.insert(key.to_string(), Flight::Flying { followers: 0 });
                return Seat::Leader(Leader { key: key.to_string(), landed: false });
            }
        }
        Seat::Follower(Follower { key: key.to_string(), done: false })
    })
}

/// The request producing a key; hands its answer to every follower.
pub struct Leader {
    key: String,
    landed: bool,
}

impl Leader {
    pub fn land(mut self, answer: &Produced) {
        self.landed = true;
        settle(&self.key, |followers| Flight::Landed { answer: answer.clone(), unread: followers });
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        if !self.landed {
            settle(&self.key, |followers| Flight::Abandoned { unread: followers });
        }
    }
}

/// Ends a flight: gone if nobody follows it, else `next` until every follower has read it.
fn settle(key: &str, next: impl FnOnce(usize) -> Flight) {
    FLIGHTS.with(|flights| {
        let mut flights = flights.borrow_mut();
        if let Some(Flight::Flying { followers }) = flights.get(key) {
            match *followers {
                0 => drop(flights.remove(key)),
                n => drop(flights.insert(key.to_string(), next(n))),
            }
        }
    })
}

/// A request waiting for a leader's answer.
pub struct Follower {
    key: String,
    /// Read: nothing to give back when dropped.
    done: bool,
}

impl Follower {
    /// The leader's answer, or `None` if it gave up (then board again).
    pub async fn wait(mut self) -> Option<Produced> {
        loop {
            if let Some(outcome) = self.look() {
                return outcome;
            }
            crate::turn::pause(POLL_MS).await;
        }
    }

    /// `Some(answer)` once the flight has ended (`Some(None)`: abandoned), `None` while flying.
    fn look(&mut self) -> Option<Option<Produced>> {
        FLIGHTS.with(|flights| {
            let mut flights = flights.borrow_mut();
            let Some(flight) = flights.get_mut(&self.key) else {
                // Cannot happen while counted; if it did, board again rather than wait forever.
                self.done = true;
                return Some(None);
            };
            let (outcome, unread) = match flight {
                Flight::Flying { .. } => return None,
                Flight::Landed { answer, unread } => (Some(answer.clone()), unread),
                Flight::Abandoned { unread } => (None, unread),
            };
            *unread -= 1;
            if *unread == 0 {
                flights.remove(&self.key);
            }
            self.done = true;
            Some(outcome)
        })
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        // A cancelled follower still counts as read, or the entry would never be removed.
        if !self.done {
            FLIGHTS.with(|flights| {
                let mut flights = flights.borrow_mut();
                match flights.get_mut(&self.key) {
                    Some(Flight::Flying { followers }) => *followers -= 1,
                    Some(Flight::Landed { unread, .. } | Flight::Abandoned { unread }) => {
                        *unread -= 1;
                        if *unread == 0 {
                            flights.remove(&self.key);
                        }
                    }
                    None => {}
                }
            });
        }
    }
}

#[cfg(test)]
#[path = "flight_tests.rs"]
mod tests;
