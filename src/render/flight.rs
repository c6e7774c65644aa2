//! Coalescing: simultaneous requests for the same uncached rendition in one isolate render it
//! once. The first becomes the leader and does the work; the others wait for its answer.
//!
//! The isolate runs one thread, so the table is a thread-local map without locks. Followers
//! look at it on a timer of their own rather than being woken by the leader: a wake-up from
//! another request runs the follower inside that request, which workerd refuses (see
//! `crate::turn`). A leader dropped before it lands (its request was cancelled) leaves the
//! flight abandoned: its followers then try again themselves.
//!
//! A leader answers as soon as its rendition exists and writes it to the store and the edge
//! afterwards (`render::after`); until those writes end ([`Landing`] dropped), a request that
//! arrives reads the landed answer rather than missing a store not yet written and rendering
//! again.

use super::produce::Produced;
use std::cell::RefCell;
use std::collections::HashMap;

/// How often a follower looks for the leader's answer.
const POLL_MS: u64 = 10;

enum Flight {
    Flying {
        followers: usize,
    },
    /// `held` while the leader's writes are still going ([`Landing`]).
    Landed {
        answer: Produced,
        unread: usize,
        held: bool,
    },
    Abandoned {
        unread: usize,
    },
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
    /// Hands `answer` to the followers; later arrivals read it too while the [`Landing`] lives.
    pub fn land(mut self, answer: &Produced) -> Landing {
        self.landed = true;
        FLIGHTS.with(|flights| {
            let mut flights = flights.borrow_mut();
            if let Some(Flight::Flying { followers }) = flights.get(&self.key) {
                let landed = Flight::Landed { answer: answer.clone(), unread: *followers, held: true };
                flights.insert(self.key.clone(), landed);
            }
        });
        Landing { key: std::mem::take(&mut self.key) }
    }
}

/// A landed flight whose leader is still writing its rendition: dropped when the writes end.
pub struct Landing {
    key: String,
}

impl Drop for Landing {
    fn drop(&mut self) {
        FLIGHTS.with(|flights| {
            let mut flights = flights.borrow_mut();
            if let Some(Flight::Landed { unread, held, .. }) = flights.get_mut(&self.key) {
                *held = false;
                if *unread == 0 {
                    flights.remove(&self.key);
                }
            }
        });
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        if !self.landed {
            settle(&self.key, |followers| Flight::Abandoned { unread: followers });
        }
    }
}

/// Abandons a flight: gone if nobody follows it, else `next` until every follower has read it.
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
            let (outcome, unread, held) = match flight {
                Flight::Flying { .. } => return None,
                Flight::Landed { answer, unread, held } => (Some(answer.clone()), unread, *held),
                Flight::Abandoned { unread } => (None, unread, false),
            };
            *unread -= 1;
            if *unread == 0 && !held {
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
                    Some(Flight::Landed { unread, held, .. }) => {
                        *unread -= 1;
                        if *unread == 0 && !*held {
                            flights.remove(&self.key);
                        }
                    }
                    Some(Flight::Abandoned { unread }) => {
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
