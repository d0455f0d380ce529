//! Which verifications a cache answered, for the `cache` label of the
//! verification-duration metric ([`Event::Verification`](crate::Event::Verification)).
//!
//! A provider calls [`note_cache_hit`] when its token cache (verified JWTs,
//! introspection or userinfo answers) answered; the guard runs each
//! verification inside [`observe_cache_hit`] and reports what it saw. Outside
//! such a scope `note_cache_hit` does nothing.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static CACHE_HIT: Cell<bool>;
}

/// Records that a cache answered the verification running in this task.
pub fn note_cache_hit() {
    let _ = CACHE_HIT.try_with(|hit| hit.set(true));
}

/// Runs `verification` and returns its output with whether [`note_cache_hit`]
/// was called while it ran.
pub async fn observe_cache_hit<F: Future>(verification: F) -> (F::Output, bool) {
    CACHE_HIT
        .scope(Cell::new(false), async move {
            let output = verification.await;
            (output, CACHE_HIT.with(Cell::get))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reports_hits_only_inside_the_scope() {
        note_cache_hit(); // outside any scope: ignored, no panic
        let ((), hit) = observe_cache_hit(async {
            tokio::task::yield_now().await;
            note_cache_hit();
        })
        .await;
        assert!(hit);
        let ((), hit) = observe_cache_hit(async {}).await;
        assert!(!hit);
    }
}
