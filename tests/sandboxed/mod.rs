//! `mod sandboxed; use sandboxed::*;` is the same harness as
//! `mod common; use common::*;` (tests/common): one harness, one idea of
//! which binary is ours (POSTMULTI_OURS) and of the reference.  The script
//! helpers are in `common/sandboxed.rs`.
#[path = "../common/mod.rs"]
mod common;
pub use common::*;
