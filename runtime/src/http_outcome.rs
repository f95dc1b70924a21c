//! (stub: filled in by the http handler work)
