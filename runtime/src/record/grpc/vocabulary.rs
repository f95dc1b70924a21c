//! The words gRPC series are labelled with: status codes by their Go names, the four kinds of
//! method, the shared values for methods nobody declared, and how the wire says both.

/// `grpc_code` values, indexed by the code's number (0 `OK` … 16 `Unauthenticated`): the
/// names go-grpc-middleware's Prometheus metrics use, so dashboards written for those fit.
pub(crate) const CODES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

pub(crate) const CANCELED: u8 = 1;
pub(crate) const UNKNOWN: u8 = 2;
pub(crate) const DEADLINE_EXCEEDED: u8 = 4;
pub(crate) const INTERNAL: u8 = 13;
pub(crate) const UNAVAILABLE: u8 = 14;

/// How many messages each side of a method sends, as its descriptor says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MethodType {
    Unary,
    ClientStream,
    ServerStream,
    BidiStream,
    /// No descriptor declared the method: its streaming is not known.
    Unknown,
}

impl MethodType {
    pub(crate) fn new(client_streaming: bool, server_streaming: bool) -> Self {
        match (client_streaming, server_streaming) {
            (false, false) => MethodType::Unary,
            (true, false) => MethodType::ClientStream,
            (false, true) => MethodType::ServerStream,
            (true, true) => MethodType::BidiStream,
        }
    }

    /// The `grpc_type` value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            MethodType::Unary => "unary",
            MethodType::ClientStream => "client_stream",
            MethodType::ServerStream => "server_stream",
            MethodType::BidiStream => "bidi_stream",
            MethodType::Unknown => "unknown",
        }
    }
}

/// `grpc_service` and `grpc_method` of calls to a path no descriptor declares (a scanner's, a
/// typo's), or of a path that is not `/service/method` at all.
pub(crate) const UNMATCHED: &str = "_unmatched";

/// `grpc_service` and `grpc_method` of every undeclared method past the limit.
pub(crate) const OVERFLOW: &str = "_OTHER";

/// The code in a `grpc-status` value (decimal ASCII); an unparsable or unknown one is
/// `Unknown`, as gRPC's spec tells clients to read it.
pub(crate) fn parse_code(value: &[u8]) -> u8 {
    match value {
        [d @ b'0'..=b'9'] => d - b'0',
        [b'1', d @ b'0'..=b'6'] => 10 + (d - b'0'),
        _ => UNKNOWN,
    }
}

/// A `grpc-timeout` value (`1-8 digits` then `H M S m u n`) in nanoseconds; `None` when it
/// is absent or malformed (then no deadline is known).
pub(crate) fn parse_timeout(value: &[u8]) -> Option<u64> {
    let (unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let mut n: u64 = 0;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    let per: u64 = match unit {
        b'H' => 3_600_000_000_000,
        b'M' => 60_000_000_000,
        b'S' => 1_000_000_000,
        b'm' => 1_000_000,
        b'u' => 1_000,
        b'n' => 1,
        _ => return None,
    };
    Some(n.saturating_mul(per))
}

/// Splits a request path `/package.Service/Method` into service and method; `None` for any
/// other shape.
pub(crate) fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((service, method))
}

#[cfg(test)]
mod tests {
    use super::{parse_code, parse_timeout, split_path, CODES, UNKNOWN};

    #[test]
    fn every_code_reads_back() {
        for (i, _) in CODES.iter().enumerate() {
            assert_eq!(usize::from(parse_code(i.to_string().as_bytes())), i);
        }
        for bad in [&b""[..], b"17", b"-1", b"01", b"x", b"100"] {
            assert_eq!(parse_code(bad), UNKNOWN, "{bad:?}");
        }
    }

    #[test]
    fn timeouts_in_every_unit() {
        assert_eq!(parse_timeout(b"1H"), Some(3_600_000_000_000));
        assert_eq!(parse_timeout(b"2M"), Some(120_000_000_000));
        assert_eq!(parse_timeout(b"3S"), Some(3_000_000_000));
        assert_eq!(parse_timeout(b"250m"), Some(250_000_000));
        assert_eq!(parse_timeout(b"7u"), Some(7_000));
        assert_eq!(parse_timeout(b"99999999n"), Some(99_999_999));
        for bad in [&b""[..], b"S", b"123456789S", b"1x", b"1.5S", b"-1S"] {
            assert_eq!(parse_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            split_path("/routeguide.RouteGuide/GetFeature"),
            Some(("routeguide.RouteGuide", "GetFeature"))
        );
        for bad in ["", "/", "//x", "/a/", "/a/b/c", "a/b", "/a"] {
            assert_eq!(split_path(bad), None, "{bad}");
        }
    }
}
