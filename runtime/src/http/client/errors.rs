//! What a client's error says about how the call ended: `connect`, `timeout`, or the generic
//! `service_error` (`body_error` for a response body's).
//!
//! A client's error type is whatever the wrapped service says, so it is recognised by type at
//! run time (`Any`), not by a trait bound every client would have to meet: tower's boxed
//! errors (`Box<dyn Error + Send + Sync>`, what `tower::timeout` and `tower::buffer` return),
//! `std::io::Error`, hyper's and hyper-util's client errors (with the `exporter` feature, which
//! builds hyper) and reqwest's (with `reqwest`). Their source chains are walked: a timed-out
//! I/O operation, hyper's timeout, tower's `Elapsed` are `timeout`; a connection refused or
//! unreachable, hyper-util's and reqwest's connect errors are `connect`.

use std::any::Any;
use std::error::Error;
use std::io;

use crate::record::outbound::CallEnd;

/// How a call whose client returned `e` ended.
pub(crate) fn service_error<E: 'static>(e: &E) -> CallEnd {
    recognise(e).unwrap_or(CallEnd::ServiceError)
}

/// How a call whose response body failed with `e` ended: `timeout` if it says so, else
/// `body_error`.
pub(crate) fn body_error<E: 'static>(e: &E) -> CallEnd {
    match recognise(e) {
        Some(CallEnd::Timeout) => CallEnd::Timeout,
        _ => CallEnd::BodyError,
    }
}

/// The error as one of the types we know, by its source chain.
fn recognise<E: 'static>(e: &E) -> Option<CallEnd> {
    let any: &dyn Any = e;
    if let Some(b) = any.downcast_ref::<Box<dyn Error + Send + Sync>>() {
        return chain(&**b);
    }
    if let Some(b) = any.downcast_ref::<Box<dyn Error + Send>>() {
        return chain(&**b);
    }
    if let Some(b) = any.downcast_ref::<Box<dyn Error>>() {
        return chain(&**b);
    }
    if let Some(e) = any.downcast_ref::<io::Error>() {
        return chain(e);
    }
    #[cfg(feature = "exporter")]
    {
        if let Some(e) = any.downcast_ref::<hyper_util::client::legacy::Error>() {
            return chain(e);
        }
        if let Some(e) = any.downcast_ref::<hyper::Error>() {
            return chain(e);
        }
    }
    #[cfg(feature = "reqwest")]
    if let Some(e) = any.downcast_ref::<reqwest::Error>() {
        return chain(e);
    }
    None
}

/// `timeout` if any error of the chain timed out, else `connect` if any failed to connect.
pub(crate) fn chain(e: &(dyn Error + 'static)) -> Option<CallEnd> {
    let mut connect = false;
    let mut next = Some(e);
    while let Some(err) = next {
        if timed_out(err) {
            return Some(CallEnd::Timeout);
        }
        connect |= failed_to_connect(err);
        next = err.source();
    }
    connect.then_some(CallEnd::Connect)
}

fn timed_out(err: &(dyn Error + 'static)) -> bool {
    if let Some(io) = err.downcast_ref::<io::Error>() {
        return io.kind() == io::ErrorKind::TimedOut;
    }
    #[cfg(feature = "exporter")]
    if let Some(h) = err.downcast_ref::<hyper::Error>() {
        return h.is_timeout();
    }
    #[cfg(feature = "reqwest")]
    if let Some(r) = err.downcast_ref::<reqwest::Error>() {
        return r.is_timeout();
    }
    // tower's `timeout::error::Elapsed` (tower is not a dependency: known by what it says).
    displays_as(err, "request timed out")
}

fn failed_to_connect(err: &(dyn Error + 'static)) -> bool {
    if let Some(io) = err.downcast_ref::<io::Error>() {
        return matches!(
            io.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::HostUnreachable
                | io::ErrorKind::NetworkUnreachable
        );
    }
    #[cfg(feature = "exporter")]
    if let Some(h) = err.downcast_ref::<hyper_util::client::legacy::Error>() {
        return h.is_connect();
    }
    #[cfg(feature = "reqwest")]
    if let Some(r) = err.downcast_ref::<reqwest::Error>() {
        return r.is_connect();
    }
    false
}

/// Whether `err` displays exactly as `text`, compared as it is written (no allocation).
fn displays_as(err: &dyn Error, text: &str) -> bool {
    struct Compare<'a> {
        rest: &'a str,
        same: bool,
    }
    impl std::fmt::Write for Compare<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            match self.rest.strip_prefix(s) {
                Some(rest) => self.rest = rest,
                None => self.same = false,
            }
            if self.same {
                Ok(())
            } else {
                Err(std::fmt::Error)
            }
        }
    }
    let mut c = Compare {
        rest: text,
        same: true,
    };
    std::fmt::write(&mut c, format_args!("{err}")).is_ok() && c.same && c.rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[derive(Debug)]
    struct Elapsed;
    impl std::fmt::Display for Elapsed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.pad("request timed out")
        }
    }
    impl Error for Elapsed {}

    fn boxed(e: impl Error + Send + Sync + 'static) -> Box<dyn Error + Send + Sync> {
        Box::new(e)
    }

    #[test]
    fn errors_are_recognised_through_their_chain() {
        let refused = || io::Error::from(io::ErrorKind::ConnectionRefused);
        let timed_out = || io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(service_error(&refused()), CallEnd::Connect);
        assert_eq!(service_error(&boxed(Wrapped(refused()))), CallEnd::Connect);
        assert_eq!(
            service_error(&boxed(Wrapped(timed_out()))),
            CallEnd::Timeout
        );
        assert_eq!(service_error(&boxed(Elapsed)), CallEnd::Timeout);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(service_error(&reset), CallEnd::ServiceError);
        // A type we do not know is not looked into.
        assert_eq!(service_error(&Wrapped(refused())), CallEnd::ServiceError);
        assert_eq!(service_error(&"text"), CallEnd::ServiceError);
        assert_eq!(body_error(&refused()), CallEnd::BodyError);
        assert_eq!(body_error(&timed_out()), CallEnd::Timeout);
    }

    #[test]
    fn text_is_compared_whole() {
        assert!(displays_as(&Elapsed, "request timed out"));
        assert!(!displays_as(&Elapsed, "request timed"));
        assert!(!displays_as(&Elapsed, "request timed out!"));
    }
}
