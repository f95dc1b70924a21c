//! [`Config`]: the settings an exporter runs with, as the builder leaves them.

use std::time::Duration;

use super::auth::Auth;

/// The settings the exporter runs with.
#[derive(Clone, Debug)]
pub(super) struct Config {
    pub(super) path: String,
    pub(super) max_concurrent_scrapes: usize,
    pub(super) max_connections: usize,
    pub(super) header_read_timeout: Duration,
    pub(super) auth: Option<Auth>,
    /// Where the live page is served (its JSON beside it); `None` when off.
    pub(super) live_page: Option<String>,
}
