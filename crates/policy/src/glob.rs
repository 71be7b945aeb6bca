//! globs
