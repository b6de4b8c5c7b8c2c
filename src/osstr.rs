//! Bytes to and from the OS's strings: paths and arguments are bytes.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Views bytes as an OS string.
pub fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

/// Takes an OS string as bytes.
pub fn bytes(s: OsString) -> Vec<u8> {
    s.into_vec()
}
