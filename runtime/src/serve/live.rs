//! The exporter's live page and its JSON (see [`crate::live`]).

use http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Response, StatusCode};
use hyper::body::Bytes;
use tokio::sync::OwnedSemaphorePermit;

use super::body::{plain, Body};

/// The paths the page and its JSON answer on.
pub(super) struct Paths {
    page: String,
    api: String,
}

/// Which of the two a request asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Asset {
    Page,
    Api,
}

impl Paths {
    /// The page at `page`; the JSON where the page's relative `api/functions` resolves.
    pub(super) fn new(page: String) -> Self {
        let dir = &page[..page.rfind('/').map_or(0, |i| i + 1)];
        let api = format!("{dir}api/functions");
        Paths { page, api }
    }

    pub(super) fn asset(&self, path: &str) -> Option<Asset> {
        if path == self.page {
            Some(Asset::Page)
        } else if path == self.api {
            Some(Asset::Api)
        } else {
            None
        }
    }
}

/// The page (static), or the JSON built on the blocking pool under the scrape permit.
pub(super) async fn respond(
    asset: Asset,
    head: bool,
    permit: OwnedSemaphorePermit,
) -> Response<Body> {
    let (body, content_type): (Bytes, &'static str) = match asset {
        Asset::Page => {
            drop(permit);
            (
                Bytes::from_static(crate::live::page().as_bytes()),
                crate::live::HTML_CONTENT_TYPE,
            )
        }
        Asset::Api => {
            let built = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                crate::live::functions_json()
            })
            .await;
            match built {
                Ok(json) => (Bytes::from(json), crate::live::JSON_CONTENT_TYPE),
                Err(_) => {
                    return plain(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Reading the snapshots failed\n",
                    )
                }
            }
        }
    };
    let length = body.len();
    let mut response = if head {
        let mut response = Response::new(Body::empty());
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
        response
    } else {
        Response::new(Body::new(body))
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in crate::live::SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{Asset, Paths};

    #[test]
    fn the_json_is_where_the_page_looks() {
        for (page, api) in [
            ("/", "/api/functions"),
            ("/live", "/api/functions"),
            ("/debug/", "/debug/api/functions"),
            ("/debug/live", "/debug/api/functions"),
        ] {
            let paths = Paths::new(page.to_owned());
            assert_eq!(paths.asset(page), Some(Asset::Page));
            assert_eq!(paths.asset(api), Some(Asset::Api), "{page}");
            assert_eq!(paths.asset("/other"), None);
        }
    }
}
