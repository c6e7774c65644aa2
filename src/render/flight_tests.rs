//! Tests of the coalescing table: who leads, what followers read, and that nothing is left.

use super::*;
use crate::render::produce::RenderFailure;

fn failure() -> Produced {
    Err(RenderFailure::Internal("x".into()))
}

fn follower(seat: Seat) -> Follower {
    match seat {
        Seat::Follower(f) => f,
        Seat::Leader(_) => panic!("expected to follow"),
    }
}

fn empty(key: &str) -> bool {
    FLIGHTS.with(|f| !f.borrow().contains_key(key))
}

#[test]
fn the_first_request_leads_and_the_others_read_its_answer_once() {
    let Seat::Leader(leader) = board("k1") else { panic!("first leads") };
    let (mut a, mut b) = (follower(board("k1")), follower(board("k1")));
    assert!(a.look().is_none(), "still flying");
    leader.land(&failure());
    assert!(matches!(a.look(), Some(Some(Err(_)))));
    assert!(!empty("k1"), "b has not read it yet");
    let mut late = follower(board("k1"));
    assert!(matches!(late.look(), Some(Some(Err(_)))), "a late arrival reads the landed answer");
    assert!(matches!(b.look(), Some(Some(Err(_)))));
    assert!(empty("k1"), "read by all: gone");
    assert!(matches!(board("k1"), Seat::Leader(_)));
}

#[test]
fn an_abandoned_flight_sends_its_followers_to_try_again() {
    let leader = board("k2");
    let mut f = follower(board("k2"));
    drop(leader);
    assert!(matches!(f.look(), Some(None)), "abandoned: board again");
    assert!(empty("k2"));
}

#[test]
fn cancelled_followers_leave_nothing_behind() {
    let Seat::Leader(leader) = board("k3") else { panic!("leads") };
    drop(follower(board("k3")));
    let waiting = follower(board("k3"));
    leader.land(&failure());
    drop(waiting);
    assert!(empty("k3"));
    let Seat::Leader(alone) = board("k4") else { panic!("leads") };
    alone.land(&failure());
    assert!(empty("k4"), "a flight nobody followed is gone at once");
}

#[test]
fn while_the_leader_still_writes_its_rendition_late_arrivals_read_it_instead_of_leading() {
    let Seat::Leader(leader) = board("k5") else { panic!("leads") };
    let landing = leader.land(&failure());
    let mut late = follower(board("k5"));
    assert!(matches!(late.look(), Some(Some(Err(_)))), "a late arrival reads the landed answer");
    assert!(!empty("k5"), "kept while the writes go on");
    drop(landing);
    assert!(empty("k5"), "writes done, nobody reading: gone");
    assert!(matches!(board("k5"), Seat::Leader(_)), "the next request leads (the store has it now)");
}
