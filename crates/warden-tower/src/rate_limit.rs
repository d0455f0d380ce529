//! Optional per-subject / per-client rate limiting (governor), answered with
//! 429 + `Retry-After`. Applied after authentication, so the key is a verified
//! identity, never something a caller can forge.
//!
//! # Memory
//!
//! governor keeps one bucket per key it has seen. A key whose bucket has
//! refilled completely is indistinguishable from a key never seen, so it can
//! be dropped without changing any answer; [`RateLimit::idle_window`] is how
//! long a key must stay unused for that. [`RateLimit::new`] called inside a
//! tokio runtime starts a housekeeping task that drops those keys and shrinks
//! the map every [`RateLimit::housekeeping_interval`] (by default the idle
//! window, clamped to 1 s ..= 60 s). The state therefore holds at most the keys
//! used within the last idle window plus one interval, whatever the number of
//! distinct callers over time; [`RateLimit::tracked_keys`] reports its size.
//! The task holds only a weak reference and ends when the last clone of the
//! limiter is dropped. Without a runtime no task is started: call
//! [`RateLimit::forget_idle`] yourself.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::task::AbortHandle;
use warden_core::{AuthInfo, Principal};

/// Shortest default housekeeping interval (for quotas that refill in milliseconds).
const MIN_DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// Longest default housekeeping interval (for quotas that refill slowly).
const MAX_DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// What a rate limit is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitKey {
    /// The token's subject (per provider and issuer).
    Subject,
    /// The OAuth client.
    Client,
}

/// A keyed token-bucket limiter whose per-key state is bounded by a
/// housekeeping task (see the [module docs](self)).
///
/// Clones share the buckets and the housekeeping task.
#[derive(Clone)]
pub struct RateLimit {
    inner: Arc<Inner>,
    key: RateLimitKey,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("key", &self.key)
            .field("keys", &self.inner.limiter.len())
            .field("idle_window", &self.inner.idle_window)
            .finish_non_exhaustive()
    }
}

struct Inner {
    limiter: DefaultKeyedRateLimiter<Principal>,
    idle_window: Duration,
    housekeeping: Mutex<Option<Housekeeping>>,
}

struct Housekeeping {
    every: Duration,
    task: AbortHandle,
}

impl Inner {
    /// Drops keys whose bucket has refilled, then releases the freed capacity.
    /// Returns how many keys were dropped.
    fn sweep(&self) -> usize {
        let before = self.limiter.len();
        self.limiter.retain_recent();
        let after = self.limiter.len();
        if after < before {
            self.limiter.shrink_to_fit();
        }
        before.saturating_sub(after)
    }

    fn housekeeping(&self) -> std::sync::MutexGuard<'_, Option<Housekeeping>> {
        self.housekeeping
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let slot = self
            .housekeeping
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(h) = slot.take() {
            h.task.abort();
        }
    }
}

/// Sweeps `inner` every `every` until the limiter is gone.
async fn housekeeping(inner: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            break;
        };
        let dropped = inner.sweep();
        if dropped > 0 {
            tracing::debug!(
                dropped,
                tracked = inner.limiter.len(),
                "rate limit: forgot idle keys"
            );
        }
    }
}

impl RateLimit {
    /// `per_minute` sustained requests with bursts of `burst`, per key.
    ///
    /// Inside a tokio runtime this also starts the housekeeping task with the
    /// default interval (the idle window clamped to 1 s ..= 60 s); see
    /// [`with_housekeeping`](Self::with_housekeeping).
    pub fn new(key: RateLimitKey, per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let period = Quota::per_minute(per_minute)
            .replenish_interval()
            .max(Duration::from_nanos(1));
        // governor computes `period × burst` in u64 nanoseconds (overflow
        // panics there): cap the burst at a refill time of ~146 years.
        let period_ns = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX);
        let max_burst = u32::try_from(u64::MAX / 4 / period_ns).unwrap_or(u32::MAX);
        let burst = NonZeroU32::new(burst.clamp(1, max_burst.max(1))).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        // governor's GCRA: one cell every `period`; a key's stored arrival time
        // is at most `burst` periods past its last use, and `retain_recent`
        // keeps it one period more.
        let idle_window = period
            .checked_mul(burst.get().saturating_add(1))
            .unwrap_or(Duration::MAX);
        let rl = Self {
            inner: Arc::new(Inner {
                limiter: RateLimiter::keyed(quota),
                idle_window,
                housekeeping: Mutex::new(None),
            }),
            key,
        };
        rl.start_housekeeping(idle_window.clamp(MIN_DEFAULT_INTERVAL, MAX_DEFAULT_INTERVAL));
        rl
    }

    /// Sweeps idle keys every `every` instead of the default interval
    /// (replacing the running task; clones share it). `Duration::ZERO` stops
    /// housekeeping. Outside a tokio runtime no task is started.
    #[must_use]
    pub fn with_housekeeping(self, every: Duration) -> Self {
        self.start_housekeeping(every);
        self
    }

    fn start_housekeeping(&self, every: Duration) {
        let mut slot = self.inner.housekeeping();
        if let Some(old) = slot.take() {
            old.task.abort();
        }
        if every.is_zero() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let task = runtime.spawn(housekeeping(Arc::downgrade(&self.inner), every));
            *slot = Some(Housekeeping {
                every,
                task: task.abort_handle(),
            });
        }
    }

    /// How often idle keys are swept, when a housekeeping task is running.
    pub fn housekeeping_interval(&self) -> Option<Duration> {
        self.inner.housekeeping().as_ref().map(|h| h.every)
    }

    /// How long a key must stay unused before housekeeping may drop it: its
    /// bucket has refilled by then (`(burst + 1) × 60 s / per_minute`).
    pub fn idle_window(&self) -> Duration {
        self.inner.idle_window
    }

    /// The number of keys (callers) the limiter currently holds state for.
    ///
    /// Grows with each distinct caller and falls back when housekeeping (or
    /// [`forget_idle`](Self::forget_idle)) drops keys idle for longer than
    /// [`idle_window`](Self::idle_window). Approximate while requests are in
    /// flight.
    pub fn tracked_keys(&self) -> usize {
        self.inner.limiter.len()
    }

    fn key_of(&self, info: &AuthInfo) -> Principal {
        match self.key {
            RateLimitKey::Subject => Principal::subject_of(info),
            RateLimitKey::Client => Principal::client_of(info),
        }
    }

    /// `Ok` when the caller may proceed, else how long to wait.
    pub fn check(&self, info: &AuthInfo) -> Result<(), Duration> {
        self.inner
            .limiter
            .check_key(&self.key_of(info))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Drops the keys idle for longer than [`idle_window`](Self::idle_window)
    /// and shrinks the map now. The housekeeping task does this periodically;
    /// call it yourself when the limiter lives outside a tokio runtime.
    pub fn forget_idle(&self) {
        self.inner.sweep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_subject() {
        let rl = RateLimit::new(RateLimitKey::Subject, 60, 2);
        let alice = AuthInfo {
            subject: Some("alice".into()),
            ..Default::default()
        };
        let bob = AuthInfo {
            subject: Some("bob".into()),
            ..Default::default()
        };
        assert!(rl.check(&alice).is_ok());
        assert!(rl.check(&alice).is_ok());
        let wait = rl.check(&alice).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(rl.check(&bob).is_ok());
    }

    fn subject(sub: String) -> AuthInfo {
        AuthInfo {
            provider: "dev".into(),
            issuer: Some("https://issuer.test".into()),
            subject: Some(sub),
            ..Default::default()
        }
    }

    #[test]
    fn idle_window_is_the_refill_time_of_a_full_bucket_plus_one_period() {
        let rl = RateLimit::new(RateLimitKey::Subject, 600, 60);
        assert_eq!(rl.idle_window(), Duration::from_millis(6100));
        let rl = RateLimit::new(RateLimitKey::Subject, 60_000, 1);
        assert_eq!(rl.idle_window(), Duration::from_millis(2));
        let rl = RateLimit::new(RateLimitKey::Subject, 1, u32::MAX);
        assert!(rl.idle_window() > Duration::from_secs(60 * 60 * 24 * 365));
    }

    #[test]
    fn without_a_runtime_nothing_is_spawned_and_forget_idle_still_works() {
        let rl = RateLimit::new(RateLimitKey::Subject, 60_000, 1);
        assert_eq!(rl.housekeeping_interval(), None);
        for i in 0..100 {
            assert!(rl.check(&subject(format!("user-{i}"))).is_ok());
        }
        assert_eq!(rl.tracked_keys(), 100);
        std::thread::sleep(rl.idle_window() * 5);
        rl.forget_idle();
        assert_eq!(rl.tracked_keys(), 0);
    }

    #[test]
    fn forget_idle_keeps_keys_whose_bucket_has_not_refilled() {
        // Forgetting a limited key would hand its caller a fresh bucket.
        let rl = RateLimit::new(RateLimitKey::Subject, 1, 1);
        let alice = subject("alice".into());
        assert!(rl.check(&alice).is_ok());
        assert!(rl.check(&alice).is_err());
        rl.forget_idle();
        assert_eq!(rl.tracked_keys(), 1);
        assert!(
            rl.check(&alice).is_err(),
            "alice was forgotten while limited"
        );
    }

    #[tokio::test]
    async fn default_housekeeping_interval_is_the_idle_window_clamped() {
        let fast = RateLimit::new(RateLimitKey::Subject, 60_000, 1);
        assert_eq!(fast.housekeeping_interval(), Some(Duration::from_secs(1)));
        let default = RateLimit::new(RateLimitKey::Subject, 600, 60);
        assert_eq!(
            default.housekeeping_interval(),
            Some(Duration::from_millis(6100))
        );
        let slow = RateLimit::new(RateLimitKey::Subject, 1, 100);
        assert_eq!(slow.housekeeping_interval(), Some(Duration::from_secs(60)));
        let off = slow.with_housekeeping(Duration::ZERO);
        assert_eq!(off.housekeeping_interval(), None);
    }

    /// 100 000 distinct subjects, then the state shrinks back
    /// to nothing once they have been idle for the idle window — with no call
    /// from outside, only the housekeeping task that `new` started.
    #[tokio::test]
    async fn housekeeping_forgets_100_000_idle_subjects() {
        const SUBJECTS: usize = 100_000;
        let rl = RateLimit::new(RateLimitKey::Subject, 60_000, 1)
            .with_housekeeping(Duration::from_millis(50));
        // This runtime is single-threaded: no sweep runs during the loop.
        for i in 0..SUBJECTS {
            assert!(rl.check(&subject(format!("user-{i}"))).is_ok());
        }
        assert_eq!(rl.tracked_keys(), SUBJECTS);
        let idle_since = std::time::Instant::now();
        let deadline = idle_since + Duration::from_secs(10);
        while rl.tracked_keys() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{} of {SUBJECTS} idle keys still tracked after 10 s",
                rl.tracked_keys()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(idle_since.elapsed() >= rl.idle_window());
        // Forgotten subjects start with a fresh bucket.
        assert!(rl.check(&subject("user-0".into())).is_ok());
        assert_eq!(rl.tracked_keys(), 1);
    }

    #[tokio::test]
    async fn housekeeping_task_ends_with_the_last_clone() {
        let metrics = tokio::runtime::Handle::current().metrics();
        let before = metrics.num_alive_tasks();
        let rl = RateLimit::new(RateLimitKey::Subject, 60_000, 1)
            .with_housekeeping(Duration::from_millis(10));
        // The default task `new` started was replaced (aborted) by this one.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(metrics.num_alive_tasks(), before + 1);
        let clone = rl.clone();
        drop(rl);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(metrics.num_alive_tasks(), before + 1, "a clone is alive");
        drop(clone);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while metrics.num_alive_tasks() > before {
            assert!(std::time::Instant::now() < deadline, "task still alive");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
