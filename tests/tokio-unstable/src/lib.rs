//! Only its tests: see tests/unstable.rs.
