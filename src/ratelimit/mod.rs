//! Per-tenant rate limiting: a token bucket (this module, pure) kept in one Durable Object per
//! tenant ([`object`]), so every isolate in every location sees the same budget.
//!
//! The bucket holds `RATE_LIMIT_PER_MINUTE` tokens and refills continuously at that rate; a
//! request that costs more than what is left gets 429 with the seconds until it would fit.

pub mod deferred;
pub mod object;

/// What a request costs: reads are cheap, requests that store bytes or start work cost more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Reads, listings, streams, downloads, cancels.
    Read,
    /// Uploads and deletes: they write to R2.
    Write,
    /// Task creation, charged by the work it starts: `steps` image-steps (images × chain
    /// length), one token each and at least a write's 5. A 100-image, 32-step task costs 3,200
    /// tokens (taken as a whole minute's budget at most, see [`Bucket::take`]), not 5.
    Work { steps: u32 },
}

impl Cost {
    pub fn tokens(self) -> u32 {
        match self {
            Cost::Read => 1,
            Cost::Write => 5,
            Cost::Work { steps } => steps.max(5),
        }
    }

    /// What a task of `images` images and a `steps`-step chain costs.
    pub fn work(images: usize, steps: usize) -> Cost {
        Cost::Work { steps: u32::try_from(images.saturating_mul(steps)).unwrap_or(u32::MAX) }
    }
}

/// A token bucket refilled continuously.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    tokens: f64,
    updated_ms: u64,
}

impl Bucket {
    /// A full bucket: a tenant starts with its whole minute's budget.
    pub fn full(per_minute: u32, now_ms: u64) -> Bucket {
        Bucket { tokens: f64::from(per_minute), updated_ms: now_ms }
    }

    /// Takes `cost` tokens, or answers how many whole seconds until they will be there. A cost
    /// above the capacity is charged as the whole capacity, so it is never refused forever.
    pub fn take(&mut self, cost: u32, per_minute: u32, now_ms: u64) -> Result<(), u64> {
        let capacity = f64::from(per_minute.max(1));
        let per_ms = capacity / 60_000.0;
        let elapsed = now_ms.saturating_sub(self.updated_ms) as f64;
        self.tokens = (self.tokens + elapsed * per_ms).min(capacity);
        self.updated_ms = self.updated_ms.max(now_ms);
        let cost = f64::from(cost).min(capacity);
        if self.tokens >= cost {
            self.tokens -= cost;
            return Ok(());
        }
        let wait_ms = (cost - self.tokens) / per_ms;
        Err(((wait_ms / 1000.0).ceil() as u64).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_costs_its_image_steps_and_at_least_a_write() {
        assert_eq!(Cost::work(1, 4).tokens(), 5, "one image through a preset: a write");
        assert_eq!(Cost::work(10, 4).tokens(), 40);
        assert_eq!(Cost::work(100, 32).tokens(), 3_200);
        assert_eq!(Cost::work(usize::MAX, 2).tokens(), u32::MAX, "saturates");
        let mut b = Bucket::full(600, 0);
        assert_eq!(b.take(Cost::work(100, 32).tokens(), 600, 0), Ok(()), "above capacity: the whole budget");
        assert_eq!(b.take(Cost::Read.tokens(), 600, 0), Err(1), "and then nothing is left");
    }

    #[test]
    fn a_full_bucket_allows_a_burst_of_its_capacity_then_refuses() {
        let mut b = Bucket::full(60, 0);
        for i in 0..60 {
            assert_eq!(b.take(1, 60, 0), Ok(()), "request {i}");
        }
        assert_eq!(b.take(1, 60, 0), Err(1), "60/min refills one token per second");
    }

    #[test]
    fn tokens_come_back_at_the_configured_rate() {
        let mut b = Bucket::full(60, 0);
        while b.take(1, 60, 0).is_ok() {}
        assert!(b.take(1, 60, 500).is_err(), "half a token after 0.5 s");
        assert_eq!(b.take(1, 60, 1_000), Ok(()));
        assert_eq!(b.take(5, 60, 1_000), Err(5), "a write needs five seconds of refill");
    }

    #[test]
    fn refill_never_exceeds_the_capacity() {
        let mut b = Bucket::full(10, 0);
        assert_eq!(b.take(10, 10, 3_600_000), Ok(()));
        assert!(b.take(1, 10, 3_600_000).is_err(), "an hour idle still holds only one minute's budget");
    }

    #[test]
    fn a_cost_above_the_capacity_is_capped_so_it_can_pass() {
        let mut b = Bucket::full(3, 0);
        assert_eq!(b.take(Cost::Write.tokens(), 3, 0), Ok(()));
    }

    #[test]
    fn a_clock_going_backwards_does_not_mint_tokens() {
        let mut b = Bucket::full(60, 10_000);
        while b.take(1, 60, 10_000).is_ok() {}
        assert!(b.take(1, 60, 5_000).is_err());
        assert!(b.take(1, 60, 10_500).is_err(), "time counts from the latest instant seen");
    }
}
