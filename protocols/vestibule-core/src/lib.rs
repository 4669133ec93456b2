//! Types every Vestibule crate shares: the clock, identifiers and secrets.
//!
//! This crate does no I/O. Time and randomness are passed in so that protocol
//! logic can be tested with a fixed clock instead of sleeping.

#![forbid(unsafe_code)]

pub mod clock;
pub mod id;
pub mod secret;

pub use clock::{Clock, FixedClock, SystemClock};
pub use secret::Secret;
