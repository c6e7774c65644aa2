//! Fault injection for the end-to-end tests, from the dev-only var `FAULT_INJECTION`, e.g.
//! `transient=2,duplicate,die=1`. Production config never sets it, and unset it is inert.
//!
//! - `transient=N`: the first N attempts of every step fail with a transient error;
//! - `duplicate`: the task object sends every job message twice;
//! - `die=N`: the first N attempts of every step stop mid-run without reporting, as if the
//!   consumer's isolate died (the message is redelivered, the watchdog takes over).

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    pub transient: u32,
    pub duplicate: bool,
    pub die: u32,
}

impl Faults {
    /// Parses the var; an unknown item is an error so that a typo is not silently inert.
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut faults = Faults::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let count = |v: &str| v.parse::<u32>().map_err(|_| format!("{item:?} needs a count, e.g. transient=2"));
            match item.split_once('=') {
                Some(("transient", v)) => faults.transient = count(v)?,
                Some(("die", v)) => faults.die = count(v)?,
                None if item == "duplicate" => faults.duplicate = true,
                _ => return Err(format!("unknown fault {item:?} (known: transient=N, duplicate, die=N)")),
            }
        }
        Ok(faults)
    }

    pub fn is_active(&self) -> bool {
        *self != Faults::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_typos_are_refused() {
        assert_eq!(Faults::parse("").expect("empty"), Faults::default());
        assert!(!Faults::parse(" ").expect("blank").is_active());
        assert_eq!(Faults::parse("transient=2, duplicate,die=1").expect("all"), Faults { transient: 2, duplicate: true, die: 1 });
        assert!(Faults::parse("transient").is_err() && Faults::parse("dupe").is_err() && Faults::parse("die=x").is_err());
    }
}
