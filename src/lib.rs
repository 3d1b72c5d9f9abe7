//! fleet keeps Amazon Bedrock model invocation logging identical to a declared
//! intent across every AWS account and region of an organisation.
//!
//! The crate is laid out as DESIGN.md §5 describes: `fleet` turns the fleet file
//! into a validated model, `engine` plans and applies over the small
//! [`engine::LoggingApi`] trait, `aws` is the only module that knows the AWS SDK,
//! `render` prints engine results, and `emulator` is the local Bedrock + STS
//! endpoint used by `fleet demo`, the benchmark and the fault tests.

pub mod app;
pub mod aws;
pub mod cli;
pub mod emulator;
pub mod engine;
pub mod fleet;
pub mod logging;
pub mod render;
