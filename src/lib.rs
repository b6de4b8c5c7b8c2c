//! postmulti: the Postfix multi-instance manager, as a drop-in replacement.
//!
//! The flow, one module a step:
//! argv → [`command`] → [`primary`] main.cf ([`maincf`], [`expand`]) →
//! [`instance`] table ([`secondary`] instances) → [`iterate`] or [`manage`]
//! (serialized by [`lock`], environment from [`environ`]); [`msg`] reports.

pub mod command;
pub mod defaults;
pub mod environ;
pub mod expand;
pub mod extra;
pub mod instance;
pub mod iterate;
pub mod lock;
pub mod maincf;
pub mod manage;
pub mod msg;
pub mod osstr;
pub mod primary;
pub mod run;
pub mod secondary;
