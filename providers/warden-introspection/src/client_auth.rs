//! Client authentication at the introspection endpoint and the request body.

use std::fmt;

use base64::Engine;
use url::form_urlencoded;

use crate::config::{AuthMethod, Secret};

/// warden's credentials at the authorization server.
#[derive(Clone)]
pub(crate) struct ClientAuth {
    method: AuthMethod,
    client_id: String,
    secret: Secret,
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuth")
            .field("method", &self.method)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ClientAuth {
    pub(crate) fn new(method: AuthMethod, client_id: String, secret: Secret) -> Self {
        ClientAuth {
            method,
            client_id,
            secret,
        }
    }

    /// The `Authorization` header (for `basic`) and the form body of an
    /// RFC 7662 request for `token`.
    pub(crate) fn request(&self, token: &str) -> (Option<String>, String) {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", "access_token");
        match self.method {
            AuthMethod::Basic => {
                // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
                let pair = format!(
                    "{}:{}",
                    urlencode(&self.client_id),
                    urlencode(self.secret.expose())
                );
                let header = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                );
                (Some(header), form.finish())
            }
            AuthMethod::Post => {
                form.append_pair("client_id", &self.client_id)
                    .append_pair("client_secret", self.secret.expose());
                (None, form.finish())
            }
        }
    }
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_form(body: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn basic_encodes_before_base64() {
        let auth = ClientAuth::new(
            AuthMethod::Basic,
            "my app".into(),
            Secret::new("p@ss:w/rd+ é"),
        );
        let (header, body) = auth.request("tok&en=1");
        let header = header.unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "my+app:p%40ss%3Aw%2Frd%2B+%C3%A9"
        );
        assert_eq!(
            decode_form(&body),
            [
                ("token".to_owned(), "tok&en=1".to_owned()),
                ("token_type_hint".into(), "access_token".into())
            ]
        );
    }

    #[test]
    fn post_puts_credentials_in_the_body() {
        let auth = ClientAuth::new(AuthMethod::Post, "app".into(), Secret::new("s&cret"));
        let (header, body) = auth.request("t");
        assert!(header.is_none());
        let form = decode_form(&body);
        assert!(form.contains(&("client_id".into(), "app".into())));
        assert!(form.contains(&("client_secret".into(), "s&cret".into())));
        assert!(!format!("{auth:?}").contains("s&cret"));
    }
}
