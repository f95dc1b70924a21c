//! gRPC calls on the caller's side (feature `tonic`): one [`Method`] per declared or seen
//! method, holding each side's counts in fixed arrays (codes, buckets), found by a binary
//! search of the request path, and one [`Call`] per call, recorded once.
//!
//! - `vocabulary`: codes, method kinds, the shared values, `grpc-status`/`grpc-timeout`;
//! - `descriptors`: the methods an encoded `FileDescriptorSet` declares;
//! - `method`: one method and each side's counts;
//! - `directory`: every method, declared or seen, and the lookup by path;
//! - `call`: one call being measured, and the framing reader that counts messages.

mod call;
mod descriptors;
mod directory;
mod method;
mod vocabulary;

pub(crate) use call::{Call, Framing};
pub(crate) use descriptors::methods as declared_methods;
pub(crate) use directory::{declare, find, is_serving, methods, serving, OVERFLOWS};
pub(crate) use method::{Counts, Method, Side, DURATION_BOUNDS_SECONDS};
pub(crate) use vocabulary::{parse_code, parse_timeout, CODES, INTERNAL, UNAVAILABLE, UNKNOWN};
