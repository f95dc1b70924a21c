//! HTTP: status codes as outcomes (feature `http`), and the glue for web frameworks.
//!
//! - `outcome`: 5xx is `error`, anything else `ok`, for `http` types;
//! - [`axum`](mod@axum): a `/metrics` handler for axum (feature `axum`);
//! - [`actix`](mod@actix): a `/metrics` handler and outcomes for actix-web (feature `actix-web`).

#[cfg(feature = "actix-web")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "http")]
mod outcome;
