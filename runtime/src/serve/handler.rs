//! One request: routing, credentials, the scrape limit, and the response.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;

use http::header::{
    HeaderName, HeaderValue, ACCEPT, ACCEPT_ENCODING, ALLOW, AUTHORIZATION, CONTENT_ENCODING,
    CONTENT_LENGTH, CONTENT_TYPE, VARY, WWW_AUTHENTICATE,
};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::auth::Auth;
use super::body::{plain, Body};
use super::config::Config;
use super::conn_state::ConnState;
use super::live;
use crate::expose::scrape::{self as exposition, Scrape};
use crate::expose::self_metrics;

/// What every connection of one exporter shares.
pub(super) struct Shared {
    path: String,
    auth: Option<Auth>,
    scrapes: Arc<Semaphore>,
    live: Option<live::Paths>,
}

impl Shared {
    pub(super) fn new(config: Config) -> Self {
        Shared {
            path: config.path,
            auth: config.auth,
            scrapes: Arc::new(Semaphore::new(config.max_concurrent_scrapes.max(1))),
            live: config.live_page.map(live::Paths::new),
        }
    }
}

/// Answers one request. Never fails: every problem is an HTTP status.
pub(super) async fn handle(
    shared: Arc<Shared>,
    state: Arc<ConnState>,
    answered: Arc<Notify>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    state.answering();
    let path = request.uri().path();
    let response = if path == shared.path {
        let _in_flight = self_metrics::scrape_started();
        let response = metrics_path(&shared, &request).await;
        self_metrics::scrape_served(response.status().as_u16());
        response
    } else if let Some(asset) = shared.live.as_ref().and_then(|l| l.asset(path)) {
        match admit(&shared, &request) {
            Ok((head, permit)) => live::respond(asset, head, permit).await,
            Err(refused) => *refused,
        }
    } else {
        plain(StatusCode::NOT_FOUND, "Not Found\n")
    };
    state.writing();
    answered.notify_one();
    Ok(response.map(|body| body.tracking(state)))
}

/// The checks every served path makes: credentials, method (`true` for HEAD) and the limit
/// on concurrent renders (the permit).
fn admit(
    shared: &Shared,
    request: &Request<Incoming>,
) -> Result<(bool, OwnedSemaphorePermit), Box<Response<Body>>> {
    if let Some(auth) = &shared.auth {
        if !auth.allows(request.headers().get(AUTHORIZATION)) {
            let mut response = plain(StatusCode::UNAUTHORIZED, "Unauthorized\n");
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(auth.challenge()));
            return Err(Box::new(response));
        }
    }
    let head = match *request.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Err(Box::new(response));
        }
    };
    let Ok(permit) = Arc::clone(&shared.scrapes).try_acquire_owned() else {
        return Err(Box::new(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many scrapes at once; try again later\n",
        )));
    };
    Ok((head, permit))
}

async fn metrics_path(shared: &Shared, request: &Request<Incoming>) -> Response<Body> {
    let (head, permit) = match admit(shared, request) {
        Ok(admitted) => admitted,
        Err(refused) => return *refused,
    };
    // Owned: they travel to the blocking pool.
    let accept = joined(request, &ACCEPT).map(Cow::into_owned);
    let accept_encoding = joined(request, &ACCEPT_ENCODING).map(Cow::into_owned);
    // Off the runtime's thread: a slow collector holds up its own scrape only. The permit
    // goes along, so the limit holds even when the client gives up before the render ends.
    let rendered = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        exposition::scrape(accept.as_deref(), accept_encoding.as_deref())
    })
    .await;
    match rendered {
        Ok(scrape) => metrics(scrape, head),
        // A collector panicked.
        Err(_) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Gathering the metrics failed\n",
        ),
    }
}

fn metrics(scrape: Scrape, head: bool) -> Response<Body> {
    let content_type = scrape.content_type();
    let content_encoding = scrape.content_encoding();
    let length = scrape.body.len();
    let mut response = if head {
        let mut response = Response::new(Body::empty());
        // No body, but the length a GET would get.
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
        response
    } else {
        Response::new(Body::new(scrape.body))
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(encoding) = content_encoding {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    headers.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    response
}

/// All values of a header, comma-joined as HTTP allows; `None` when absent or not text.
fn joined<'a>(request: &'a Request<Incoming>, name: &HeaderName) -> Option<Cow<'a, str>> {
    crate::expose::negotiate::join_header_values(
        request
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}
