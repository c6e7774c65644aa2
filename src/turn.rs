//! One image job at a time per isolate: the memory planner sizes each job against the whole
//! isolate, so two jobs whose peaks overlap in time could pass 128 MiB together. A render and a
//! queue job (or two renders of different images) that reach the same isolate take turns here.
//!
//! Waiting is cheap and short (a render's work is tens of milliseconds; a job's seconds), and
//! it is the only way the planner's per-job figure stays a promise. The isolate runs one
//! thread, so the state is a thread-local flag and a queue of wake-ups, not a lock.

use futures_channel::oneshot;
use std::cell::RefCell;
use std::collections::VecDeque;

#[derive(Default)]
struct Turns {
    busy: bool,
    waiting: VecDeque<oneshot::Sender<()>>,
}

thread_local! {
    static TURNS: RefCell<Turns> = RefCell::new(Turns::default());
}

/// Holding this is having the isolate's memory for one job; dropping it passes the turn on.
pub struct Turn(());

/// Waits for the turn (first come, first served).
pub async fn take() -> Turn {
    let wait = TURNS.with(|t| {
        let mut t = t.borrow_mut();
        if t.busy {
            let (tx, rx) = oneshot::channel();
            t.waiting.push_back(tx);
            Some(rx)
        } else {
            t.busy = true;
            None
        }
    });
    if let Some(rx) = wait {
        let mut waiting = Waiting(Some(rx));
        if let Some(rx) = waiting.0.as_mut() {
            // Err only if the sender was dropped without handing over, which `Drop` never
            // does while it holds the turn; either way the turn is ours now.
            let _ = rx.await;
        }
        waiting.0 = None;
    }
    Turn(())
}

/// A waiter's end; if its request is cancelled after the turn was handed to it but before it
/// ran, dropping this passes the turn on instead of losing it.
struct Waiting(Option<oneshot::Receiver<()>>);

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(mut rx) = self.0.take() {
            if let Ok(Some(())) = rx.try_recv() {
                drop(Turn(()));
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        TURNS.with(|t| {
            let mut t = t.borrow_mut();
            // Hand the turn to the first waiter still waiting (a cancelled one dropped its end).
            while let Some(next) = t.waiting.pop_front() {
                if next.send(()).is_ok() {
                    return;
                }
            }
            t.busy = false;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[test]
    fn turns_are_taken_one_at_a_time_in_order() {
        let first = take().now_or_never().expect("free: taken at once");
        let mut second = Box::pin(take());
        let mut third = Box::pin(take());
        assert!((&mut second).now_or_never().is_none(), "waits while the first holds it");
        drop(first);
        let second = (&mut second).now_or_never().expect("handed to the second");
        assert!((&mut third).now_or_never().is_none(), "the third still waits");
        drop(second);
        drop((&mut third).now_or_never().expect("then the third"));
        drop(take().now_or_never().expect("free again"));
    }

    #[test]
    fn a_waiter_cancelled_after_the_handover_passes_the_turn_on() {
        let first = take().now_or_never().expect("free");
        let mut second = Box::pin(take());
        let mut third = Box::pin(take());
        assert!((&mut second).now_or_never().is_none() && (&mut third).now_or_never().is_none());
        drop(first); // handed to the second, which is then cancelled before it runs
        drop(second);
        drop((&mut third).now_or_never().expect("the turn reached the third"));
        drop(take().now_or_never().expect("and is free after it"));
    }
}
