//! The one small HTTP/1.1 client of the real-server tests, over a plain [`TcpStream`].
//!
//! Why raw TCP and not a client crate: these tests assert on the wire itself — the exact
//! status line and headers (and that none is repeated), how a body is framed, that nothing
//! follows a response, that a HEAD answer has no body, several requests on one kept-alive
//! connection. A client library would normalise exactly that away. Writing the request
//! bytes ourselves keeps every byte under the test's control, and the test package needs no
//! HTTP client dependency. Tests that must misbehave below this level (garbage bytes,
//! slowloris, connections held open) start from [`connect`] and use the stream directly.
//!
//! Every read is bounded by [`READ_TIMEOUT`] and every surprise panics, so a broken server
//! fails the test that talks to it instead of hanging it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long one read may block before it fails (and with it the test).
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// One response, as received.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The reason phrase of the status line, as sent (`"OK"`).
    pub reason: String,
    /// In the order received, names as sent, names and values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked if it was chunked; empty for an answer to HEAD and for 1xx, 204
    /// and 304, which have none.
    pub body: Vec<u8>,
}

impl Reply {
    /// The one value of header `name` (any case); `None` if absent, panics if repeated.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        let found: Vec<&str> = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        assert!(found.len() <= 1, "{name} repeated: {found:?}");
        found.first().copied()
    }

    /// The body as UTF-8; panics if it is not.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("body is UTF-8")
    }

    /// The body gunzipped, as UTF-8; panics if it is not a valid gzip stream of UTF-8.
    #[must_use]
    pub fn gunzip(&self) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(self.body.as_slice())
            .read_to_string(&mut text)
            .expect("a valid gzip stream of UTF-8");
        text
    }
}

/// A connection to `addr`, its reads bounded by [`READ_TIMEOUT`].
///
/// # Panics
/// If the connection cannot be made.
#[must_use]
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .expect("set the read timeout");
    stream
}

/// Writes one request without a body: the request line, `Host`, `headers` in order, and
/// `Connection: close` if `close`.
///
/// # Panics
/// If the write fails.
pub fn send(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    close: bool,
) {
    let host = stream.peer_addr().expect("a connected stream");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        req.extend([k, ": ", v, "\r\n"]);
    }
    if close {
        req.push_str("Connection: close\r\n");
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).expect("write the request");
}

/// Reads one whole response, and nothing after it: `head` for the answer to a HEAD request
/// (no body, whatever its headers say).
///
/// The status line must be `HTTP/1.1`, every line must end in CRLF and every header line
/// must have a colon. The body is framed by `Transfer-Encoding: chunked` (then de-chunked,
/// trailers skipped), else by `Content-Length` (exactly that many bytes), else it runs to
/// the end of the connection, as for a response to a `Connection: close` request.
///
/// # Panics
/// On a malformed response, or a connection closed or timed out within it.
pub fn read_reply(reader: &mut impl BufRead, head: bool) -> Reply {
    let line = read_line(reader);
    let mut parts = line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "status line {line:?}");
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line {line:?}"));
    let reason = parts.next().unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader);
        if line.is_empty() {
            break;
        }
        let (k, v) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("header line {line:?}"));
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let mut reply = Reply {
        status,
        reason,
        headers,
        body: Vec::new(),
    };
    let bodiless = head || status / 100 == 1 || status == 204 || status == 304;
    if bodiless {
        return reply;
    }
    if let Some(coding) = reply.header("transfer-encoding") {
        assert!(
            coding.eq_ignore_ascii_case("chunked"),
            "unsupported transfer-encoding {coding:?}"
        );
        reply.body = read_chunked(reader);
    } else if let Some(length) = reply.header("content-length") {
        let length: usize = length
            .parse()
            .unwrap_or_else(|_| panic!("content-length {length:?}"));
        reply.body = vec![0; length];
        reader
            .read_exact(&mut reply.body)
            .expect("a body of content-length bytes");
    } else {
        reader
            .read_to_end(&mut reply.body)
            .expect("a body up to the close");
    }
    reply
}

/// One request on a fresh connection with `Connection: close` (`Host` is added); also checks
/// that the server then closes it with nothing more sent.
///
/// # Panics
/// If the exchange fails or the response is malformed (see [`read_reply`]).
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = connect(addr);
    send(&mut stream, method, path, headers, true);
    let mut reader = BufReader::new(stream);
    let reply = read_reply(&mut reader, method == "HEAD");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).expect("read up to the close");
    assert!(rest.is_empty(), "bytes after the response: {rest:?}");
    reply
}

/// One CRLF-terminated line, without the CRLF.
fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    let n = reader.read_line(&mut line).expect("read a line");
    assert!(n > 0, "connection closed before the end of the response");
    line.strip_suffix("\r\n")
        .unwrap_or_else(|| panic!("line not ended by CRLF: {line:?}"))
        .to_owned()
}

/// A chunked body, de-chunked; the trailer section is read and ignored.
fn read_chunked(reader: &mut impl BufRead) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader);
        let size = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size, 16).unwrap_or_else(|_| panic!("chunk size {line:?}"));
        if size == 0 {
            break;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .expect("a chunk of its size");
        assert_eq!(read_line(reader), "", "chunk not followed by CRLF");
    }
    while !read_line(reader).is_empty() {}
    body
}
