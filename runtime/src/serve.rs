//! (stub) The standalone exporter.
use crate::error::Error;

/// A running exporter (stub).
#[derive(Debug)]
pub struct Exporter(());

/// Serves `/metrics` (stub).
///
/// # Errors
/// Always, for now.
pub fn serve(_addr: &str) -> Result<Exporter, Error> {
    Err(Error::RegistryAlreadyChosen)
}
