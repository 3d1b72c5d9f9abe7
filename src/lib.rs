//! fleet keeps Amazon Bedrock model invocation logging identical to a declared
//! intent across every AWS account and region of an organisation.
//!
//! The crate is laid out as DESIGN.md §5 describes: `fleet` turns the fleet file
//! into a validated model, `engine` plans and applies over the small
//! [`engine::LoggingApi`] trait, `aws` is the only module that knows the AWS SDK,
//! and `render` prints engine results. The local emulator that `fleet demo`,
//! `fleet emulator`, the benchmark and the fault tests run is its own crate,
//! `fleet_emulator` (`emulator/` in the workspace).

pub mod app;
pub mod aws;
pub mod cli;
pub mod engine;
pub mod fleet;
pub mod logging;
pub mod render;
