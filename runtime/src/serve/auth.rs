//! Credentials a scraper must present: HTTP Basic or a bearer token, compared in constant time.

use std::fmt;

use base64::Engine as _;
use http::HeaderValue;

/// What the `Authorization` header must carry.
#[derive(Clone)]
pub(super) enum Auth {
    /// `user:password`, as it is inside the base64 of `Authorization: Basic`.
    Basic(Vec<u8>),
    /// The token of `Authorization: Bearer`.
    Bearer(Vec<u8>),
}

impl Auth {
    pub(super) fn basic(user: &str, password: &str) -> Self {
        Auth::Basic(format!("{user}:{password}").into_bytes())
    }

    pub(super) fn bearer(token: &str) -> Self {
        Auth::Bearer(token.as_bytes().to_vec())
    }

    /// Whether this `Authorization` header value carries the expected credentials.
    pub(super) fn allows(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let value = value.as_bytes().trim_ascii();
        let Some(space) = value.iter().position(|&b| b == b' ') else {
            return false;
        };
        let (scheme, credentials) = (&value[..space], value[space..].trim_ascii());
        match self {
            Auth::Basic(expected) => {
                scheme.eq_ignore_ascii_case(b"basic")
                    && base64::engine::general_purpose::STANDARD
                        .decode(credentials)
                        .is_ok_and(|given| constant_time_eq(&given, expected))
            }
            Auth::Bearer(expected) => {
                scheme.eq_ignore_ascii_case(b"bearer")
                    && !expected.is_empty()
                    && constant_time_eq(credentials, expected)
            }
        }
    }

    /// The `WWW-Authenticate` challenge sent with a 401.
    pub(super) fn challenge(&self) -> &'static str {
        match self {
            Auth::Basic(_) => r#"Basic realm="metrics", charset="UTF-8""#,
            Auth::Bearer(_) => r#"Bearer realm="metrics""#,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        match self {
            Auth::Basic(_) => f.write_str("Basic(<redacted>)"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// Equality whose running time depends only on the length of `given` (which the client
/// chose), never on where the first difference is, nor on the secret's content or length.
///
/// The byte comparison is `constant_time_eq`'s. It takes constant time for slices of equal
/// length only (it returns at once on a length mismatch, which would tell a client how long
/// the secret is), so `given` is compared with the secret repeated to `given`'s length, and
/// the lengths separately, without a branch.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    if expected.is_empty() {
        return given.is_empty();
    }
    let repeated: Vec<u8> = expected.iter().copied().cycle().take(given.len()).collect();
    constant_time_eq::constant_time_eq(given, &repeated) & (given.len() == expected.len())
}

#[cfg(test)]
mod tests {
    use super::{constant_time_eq, Auth};
    use http::HeaderValue;

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abd", b"abc"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abcabc", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"a", b""));
    }

    #[test]
    fn basic_credentials() {
        let auth = Auth::basic("prometheus", "pa:ss");
        // base64("prometheus:pa:ss")
        let good = HeaderValue::from_static("Basic cHJvbWV0aGV1czpwYTpzcw==");
        let scheme_case = HeaderValue::from_static("bAsIc   cHJvbWV0aGV1czpwYTpzcw==  ");
        assert!(auth.allows(Some(&good)));
        assert!(auth.allows(Some(&scheme_case)));
        for bad in [
            "Basic cHJvbWV0aGV1czpwYTpzcA==", // prometheus:pa:sp
            "Basic !!!not base64",
            "Bearer cHJvbWV0aGV1czpwYTpzcw==",
            "Basic",
            "",
        ] {
            assert!(!auth.allows(Some(&HeaderValue::from_static(bad))), "{bad}");
        }
        assert!(!auth.allows(None));
    }

    #[test]
    fn bearer_token() {
        let auth = Auth::bearer("t0ken");
        assert!(auth.allows(Some(&HeaderValue::from_static("Bearer t0ken"))));
        assert!(auth.allows(Some(&HeaderValue::from_static("bearer t0ken"))));
        assert!(!auth.allows(Some(&HeaderValue::from_static("Bearer t0ke"))));
        assert!(!auth.allows(Some(&HeaderValue::from_static("Bearer t0kenn"))));
        assert!(!auth.allows(Some(&HeaderValue::from_static("Basic t0ken"))));
        let empty = Auth::bearer("");
        assert!(!empty.allows(Some(&HeaderValue::from_static("Bearer "))));
        assert!(!empty.allows(Some(&HeaderValue::from_static("Bearer x"))));
    }

    #[test]
    fn debug_hides_the_secret() {
        assert_eq!(
            format!("{:?}", Auth::bearer("s3cret")),
            "Bearer(<redacted>)"
        );
        assert_eq!(
            format!("{:?}", Auth::basic("u", "s3cret")),
            "Basic(<redacted>)"
        );
    }
}
