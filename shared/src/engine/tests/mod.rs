//! The engine's steps, against fakes of the ports.

mod account;
mod deny_policy;
