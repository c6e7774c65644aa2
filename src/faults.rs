//! Fault injection for the end-to-end tests, from the dev-only var `FAULT_INJECTION`, e.g.
//! `transient=2,duplicate,die=1`. Production config never sets it, and unset it is inert.
//!
//! - `transient=N`: the first N attempts of every step fail with a transient error;
//! - `duplicate`: the task object sends every job message twice;
//! - `die=N`: the first N attempts of every step stop mid-run without reporting, as if the
//!   consumer's isolate died (the message is redelivered, the watchdog takes over);
//! - `pause=MS`: every step waits MS ms (a timer, so the isolate stays free) before it runs,
//!   so that tests can act while a chain is mid-way (an image's steps otherwise run back to
//!   back in one job, faster than a client can react);
//! - `send_fail=N`: the task object's first N queue sends fail (counted per task object), as if
//!   the queue were briefly unreachable; the watchdog must re-send;
//! - `lose_report=N`: the first N attempts of every image's last step store the result and stop
//!   without reporting it (a report lost, or an isolate dying right after the write); the
//!   retry must find the stored result and report it;
//! - `oom=N`: the first N attempts of every step allocate past the isolate's memory cap without
//!   asking first (a trap, as a misplanned step would cause); the module must recover;
//! - `index_fail=N`: the task object's first N writes to its tenant's index fail (counted per
//!   task object); the alarm must retry until the listing matches the task;
//! - `inline_lost`: `POST /tasks` does not run the first job it was handed (as if its isolate
//!   died right after answering); the watchdog must retry it through the queue;
//! - `analysis_send_fail`: every analysis job an upload sends (after its answer) fails to
//!   send; the tenant index's alarm must send it instead;
//! - `clock_days=N`: the Cron Triggers run as if N days later than scheduled, so a test sees
//!   retention 31 days on without waiting (`wrangler dev`'s `/__scheduled` does not pass its
//!   `time` parameter through to the event).

use thiserror::Error;

/// Why `FAULT_INJECTION` does not parse (named in the configuration's problems).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FaultsError {
    #[error("{0:?} needs a count, e.g. transient=2")]
    NoCount(String),
    #[error("unknown fault {0:?} (known: transient=N, duplicate, die=N, pause=MS, send_fail=N, index_fail=N, oom=N, lose_report=N, inline_lost, clock_days=N, analysis_send_fail)")]
    Unknown(String),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    pub transient: u32,
    pub duplicate: bool,
    pub die: u32,
    pub pause_ms: u32,
    pub send_fail: u32,
    pub index_fail: u32,
    pub oom: u32,
    pub lose_report: u32,
    pub clock_days: u32,
    pub inline_lost: bool,
    pub analysis_send_fail: bool,
}

impl Faults {
    /// Whether a step's report may wait for the next step's (`consumer::hold`). Not with `die`,
    /// which counts attempts that a held-for step cannot know (it is claimed only when the held
    /// report arrives, so it would die as a first attempt again on every retry), nor with
    /// `pause`, which makes every step slow: holding promises a cheap next step.
    pub fn let_reports_wait(&self) -> bool {
        self.die == 0 && self.pause_ms == 0
    }

    /// Parses the var; an unknown item is an error so that a typo is not silently inert.
    pub fn parse(spec: &str) -> Result<Faults, FaultsError> {
        let mut faults = Faults::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let count = |v: &str| v.parse::<u32>().map_err(|_| FaultsError::NoCount(item.to_string()));
            match item.split_once('=') {
                Some(("transient", v)) => faults.transient = count(v)?,
                Some(("die", v)) => faults.die = count(v)?,
                Some(("pause", v)) => faults.pause_ms = count(v)?,
                Some(("send_fail", v)) => faults.send_fail = count(v)?,
                Some(("index_fail", v)) => faults.index_fail = count(v)?,
                Some(("oom", v)) => faults.oom = count(v)?,
                Some(("lose_report", v)) => faults.lose_report = count(v)?,
                Some(("clock_days", v)) => faults.clock_days = count(v)?,
                None if item == "duplicate" => faults.duplicate = true,
                None if item == "inline_lost" => faults.inline_lost = true,
                None if item == "analysis_send_fail" => faults.analysis_send_fail = true,
                _ => return Err(FaultsError::Unknown(item.to_string())),
            }
        }
        Ok(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_wait_only_when_no_fault_depends_on_attempts_or_slows_steps() {
        assert!(Faults::default().let_reports_wait());
        assert!(Faults::parse("transient=1,lose_report=1").expect("faults").let_reports_wait());
        assert!(!Faults::parse("die=1").expect("die").let_reports_wait());
        assert!(!Faults::parse("pause=50").expect("pause").let_reports_wait());
    }

    #[test]
    fn faults_parse_and_typos_are_refused() {
        assert_eq!(Faults::parse("").expect("empty"), Faults::default());
        assert_eq!(Faults::parse(" ").expect("blank"), Faults::default(), "blank is inert");
        assert_eq!(
            Faults::parse("transient=2, duplicate,die=1").expect("all"),
            Faults { transient: 2, duplicate: true, die: 1, ..Faults::default() }
        );
        assert_eq!(Faults::parse("pause=250").expect("pause").pause_ms, 250);
        let outages = Faults::parse("send_fail=1,index_fail=3").expect("outages");
        assert_eq!((outages.send_fail, outages.index_fail), (1, 3));
        assert_eq!(Faults::parse("oom=1").expect("oom").oom, 1);
        assert_eq!(Faults::parse("lose_report=2").expect("lose_report").lose_report, 2);
        assert_eq!(Faults::parse("send_fail"), Err(FaultsError::Unknown("send_fail".into())));
        assert_eq!(Faults::parse("die=x"), Err(FaultsError::NoCount("die=x".into())));
        assert_eq!(Faults::parse("clock_days=31").expect("clock_days").clock_days, 31);
        assert!(Faults::parse("analysis_send_fail").expect("analysis_send_fail").analysis_send_fail);
        assert!(Faults::parse("transient").is_err() && Faults::parse("dupe").is_err() && Faults::parse("die=x").is_err());
    }
}
