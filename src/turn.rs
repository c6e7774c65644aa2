//! One image job at a time per isolate: the memory planner sizes each job against the whole
//! isolate, so two jobs whose peaks overlap in time could pass 128 MiB together. A render and a
//! queue job (or two renders of different images) that reach the same isolate take turns here.
//!
//! The thread is also handed to the network for one timer turn after an answer
//! ([`after_answer`]) and between a long job's steps ([`Breather`]). Why: under `wrangler dev`
//! the objects, R2, the queue and the cache run in workerd's own process, and work that only
//! awaits them never lets it read or write its sockets, so an answer left only when the work
//! after it ended, and a request arriving during a job was read only when the job ended (found
//! with health probes sent while a task ran). On the platform those awaits are network I/O.
//!
//! Waiting is cheap and short (a render's work is tens of milliseconds; a job's seconds), and
//! it is the only way the planner's per-job figure stays a promise. The isolate runs one
//! thread, so the state is a thread-local flag.
//!
//! Why waiters poll on a timer of their own instead of being woken by the request that frees
//! the turn: workerd ties timers and promises to the request that made them. A waker fired by
//! another request polls the waiter inside that request, where the waiter's own timer cannot
//! be cleared, and a request whose every await belongs to another request is cancelled as hung
//! ("your Worker's code had hung"). Both were seen under the hostile corpus; polling on its own
//! [`pause`] keeps every waiter's I/O its own.

use std::cell::Cell;
use std::ops::Not;

/// How often a waiter looks again.
const POLL_MS: u64 = 10;

thread_local! {
    static BUSY: Cell<bool> = const { Cell::new(false) };
    /// Jobs promised to run here next ([`promise`]).
    static PROMISED: Cell<u32> = const { Cell::new(0) };
}

/// A job this isolate took on itself (a new task's first job, run by the request that created
/// it) while it had nothing to do: held until that job ends.
pub struct Promise(());

/// A promise, if the isolate is idle: no job holds the turn and none was promised. A job is
/// claimed before it waits for the turn, and a claimed job's step timeout runs meanwhile; so a
/// burst of new tasks must not all take their first job on here (they would queue behind each
/// other as "running"), only the first, and the rest go to the queue, where waiting is not
/// silence.
pub fn promise() -> Option<Promise> {
    let idle = BUSY.with(Cell::get).not() && PROMISED.with(Cell::get) == 0;
    idle.then(|| {
        PROMISED.with(|p| p.set(p.get() + 1));
        Promise(())
    })
}

impl Drop for Promise {
    fn drop(&mut self) {
        PROMISED.with(|p| p.set(p.get().saturating_sub(1)));
    }
}

/// Holding this is having the isolate's memory for one job; dropping it frees the turn.
pub struct Turn(());

/// The turn, if it is free now.
pub fn try_take() -> Option<Turn> {
    BUSY.with(|busy| (!busy.replace(true)).then_some(Turn(())))
}

/// Waits for the turn.
pub async fn take() -> Turn {
    loop {
        if let Some(turn) = try_take() {
            return turn;
        }
        pause(POLL_MS).await;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        BUSY.with(|busy| busy.set(false));
    }
}

/// Computing this long without a turn for the network is long enough to give it one.
const BUSY_MS: u64 = 2;

/// Gives the network a timer turn at a job's step boundaries once the job has computed for
/// [`BUSY_MS`] since it last did (see the module's note), so the task's socket opens and a
/// status poll is answered between steps. A cheap step never pays the turn (the orchestration
/// benchmark's no-op steps).
pub struct Breather {
    last: u64,
}

impl Breather {
    pub fn new() -> Breather {
        Breather { last: crate::clock::now_millis() }
    }

    pub async fn breathe(&mut self) {
        if crate::clock::now_millis().saturating_sub(self.last) >= BUSY_MS {
            pause(0).await;
            self.last = crate::clock::now_millis();
        }
    }
}

/// Runs `work` after the answer (`wait_until`), one timer turn later, so that the answer leaves
/// first (see the module's note; measured on `POST /tasks`, whose first job runs here, and on
/// render hits, whose copies and charge do). Every `wait_until` of the Worker goes through it.
pub fn after_answer(background: &worker::Context, work: impl std::future::Future<Output = ()> + 'static) {
    background.wait_until(async move {
        pause(0).await;
        work.await;
    });
}

/// Sleeps `ms` on a timer of this request's own (see the module's note).
#[cfg(target_arch = "wasm32")]
pub async fn pause(ms: u64) {
    worker::Delay::from(std::time::Duration::from_millis(ms)).await;
}

/// Natively (unit tests) there is no runtime timer; waiting is only tested through its states.
#[cfg(not(target_arch = "wasm32"))]
pub async fn pause(_ms: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_idle_isolate_promises_a_job_and_only_one_at_a_time() {
        let promised = promise().expect("idle: promised");
        assert!(promise().is_none(), "one promise at a time");
        drop(promised);
        let turn = try_take().expect("free");
        assert!(promise().is_none(), "busy with a job");
        drop(turn);
        assert!(promise().is_some(), "idle again");
    }

    #[test]
    fn one_turn_at_a_time_and_free_again_once_dropped() {
        let first = try_take().expect("free: taken at once");
        assert!(try_take().is_none(), "taken while the first holds it");
        drop(first);
        let second = try_take().expect("free again");
        drop(second);
        assert!(try_take().is_some());
    }
}
