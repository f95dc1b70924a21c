//! Shared bits of the examples (each example is a file beside this one).

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
