//! [`Principal`]: who a request acts for, as a map key (session owners, rate limits).

use crate::AuthInfo;

/// Who a request acts for: provider, issuer, subject and OAuth client.
///
/// Two tokens of the same user obtained through the same client are the same
/// principal; tokens of different users, clients or providers never are. The
/// parts are kept apart (no joined string), so no choice of subject or client
/// id can make two principals collide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Principal {
    provider: String,
    issuer: Option<String>,
    subject: Option<String>,
    client_id: Option<String>,
}

impl Principal {
    /// The user behind `info` through its client: provider, issuer, subject, client id.
    pub fn of(info: &AuthInfo) -> Self {
        Principal {
            provider: info.provider.clone(),
            issuer: info.issuer.clone(),
            subject: info.subject.clone(),
            client_id: info.client_id.clone(),
        }
    }

    /// The user behind `info` whatever the client: provider, issuer, subject.
    pub fn subject_of(info: &AuthInfo) -> Self {
        Principal {
            client_id: None,
            ..Self::of(info)
        }
    }

    /// The OAuth client behind `info` (its subject when it names no client).
    pub fn client_of(info: &AuthInfo) -> Self {
        Principal {
            provider: info.provider.clone(),
            issuer: None,
            subject: None,
            client_id: info.client_id.clone().or_else(|| info.subject.clone()),
        }
    }

    /// The provider that verified the token.
    pub fn provider(&self) -> &str {
        &self.provider
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(provider: &str, subject: &str, client: Option<&str>) -> AuthInfo {
        AuthInfo {
            provider: provider.into(),
            subject: Some(subject.into()),
            client_id: client.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn distinguishes_users_clients_and_providers() {
        let alice = info("dev", "alice", Some("app"));
        assert_eq!(Principal::of(&alice), Principal::of(&alice.clone()));
        assert_ne!(
            Principal::of(&alice),
            Principal::of(&info("dev", "bob", Some("app")))
        );
        assert_ne!(
            Principal::of(&alice),
            Principal::of(&info("corp", "alice", Some("app")))
        );
        assert_ne!(
            Principal::of(&alice),
            Principal::of(&info("dev", "alice", Some("cli")))
        );
        assert_eq!(
            Principal::subject_of(&alice),
            Principal::subject_of(&info("dev", "alice", Some("cli")))
        );
        assert_eq!(
            Principal::client_of(&alice),
            Principal::client_of(&info("dev", "bob", Some("app")))
        );
    }

    /// A separator inside a value cannot make two principals equal.
    #[test]
    fn no_collisions_through_separators() {
        let a = AuthInfo {
            provider: "p".into(),
            issuer: Some("i\u{1f}x".into()),
            subject: Some("s".into()),
            ..Default::default()
        };
        let b = AuthInfo {
            provider: "p".into(),
            issuer: Some("i".into()),
            subject: Some("x\u{1f}s".into()),
            ..Default::default()
        };
        assert_ne!(Principal::of(&a), Principal::of(&b));
    }
}
