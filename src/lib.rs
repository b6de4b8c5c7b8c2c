//! postmulti: the Postfix multi-instance manager, as a drop-in replacement.
//!
//! The flow, one module a step:
//! argv → [`command`] → [`primary`] main.cf ([`maincf`], [`expand`]) →
//! [`table`] of instances (each an [`instance`]; a secondary's parameters
//! from [`secondary`], which asks postconf, or from the [`native`] reader)
//! → [`iterate`] or [`manage`]
//! (serialized by [`lock`], environment from [`environ`]); [`msg`] reports.
//! [`startup`] runs the steps in upstream's order; [`additions`] holds what
//! this postmulti adds (`--version`, `--completions`); [`bytes`] the small
//! byte-string helpers (paths, C strings, yes/no, white space).

pub mod additions;
pub mod bytes;
pub mod command;
pub mod defaults;
pub mod environ;
pub mod expand;
pub mod instance;
pub mod interfaces;
pub mod iterate;
pub mod lock;
pub mod maincf;
pub mod manage;
pub mod msg;
pub mod native;
pub mod primary;
pub mod secondary;
pub mod startup;
pub mod table;
