//! [`SessionBindings`]: which principal owns which MCP session.

use std::sync::Arc;
use std::time::Duration;

use warden_core::Principal;

/// Which principal owns which MCP session (rmcp does not bind sessions to users).
///
/// Bounded and idle-expiring; an entry is removed when its session is deleted.
#[derive(Clone)]
pub struct SessionBindings {
    owners: moka::sync::Cache<String, Arc<Principal>>,
}

impl SessionBindings {
    /// Up to `capacity` sessions, each forgotten after `idle` without requests.
    pub fn new(capacity: u64, idle: Duration) -> Self {
        Self {
            owners: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(idle)
                .build(),
        }
    }

    /// Sessions currently bound.
    pub fn len(&self) -> u64 {
        self.owners.run_pending_tasks();
        self.owners.entry_count()
    }

    /// Whether no session is bound.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The owner of session `id`, if bound.
    pub(crate) fn owner(&self, id: &str) -> Option<Arc<Principal>> {
        self.owners.get(id)
    }

    /// Binds session `id` to `owner`.
    pub(crate) fn bind(&self, id: String, owner: Arc<Principal>) {
        self.owners.insert(id, owner);
    }

    /// Forgets session `id`.
    pub(crate) fn unbind(&self, id: &str) {
        self.owners.invalidate(id);
    }
}

impl Default for SessionBindings {
    fn default() -> Self {
        Self::new(100_000, Duration::from_secs(24 * 3600))
    }
}

impl std::fmt::Debug for SessionBindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionBindings")
            .field("entries", &self.owners.entry_count())
            .finish()
    }
}
