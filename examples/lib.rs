//! Shared bits of the examples (each example is a file beside this one).

#[path = "traced.rs"]
pub mod traced;

/// The value of `--NAME VALUE` (or `--NAME=VALUE`) on the command line, if given.
///
/// ```
/// let args = ["prog", "--addr", "127.0.0.1:1"].map(String::from);
/// assert_eq!(instrument_metrics_examples::flag(&args, "addr").as_deref(), Some("127.0.0.1:1"));
/// ```
#[must_use]
pub fn flag(args: &[String], name: &str) -> Option<String> {
    let long = format!("--{name}");
    let with_eq = format!("--{name}=");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if *a == long {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix(&with_eq) {
            return Some(v.to_owned());
        }
    }
    None
}

/// Sends `GET path` over HTTP/1.1 to `addr` and returns the status code (a tiny client, so the
/// load generators need no HTTP client dependency).
///
/// # Errors
/// Connection or protocol errors.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let status = instrument_metrics_examples::http_get("127.0.0.1:3000".parse().unwrap(), "/hello").await?;
/// assert_eq!(status, 200);
/// # Ok(()) }
/// ```
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not an HTTP response: {head:?}"),
            )
        })
}
