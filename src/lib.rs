//! Syncopate: design microservice topologies, see the trade-offs of their sync and async calls, simulate load,
//! and export deployable configuration.
//!
//! The core modules (`model`, and the analysis, sequence, simulation, export and import modules built on it) are
//! plain Rust with no GUI dependency; `app` and `ui` hold the desktop application (the `gui` feature, on by
//! default). See `docs/architecture.md`.

#[cfg(feature = "gui")]
pub mod app;
pub mod capacity;
pub mod cli;
pub mod edit;
#[cfg(feature = "emulate")]
pub mod emulate;
pub mod export;
pub mod git;
pub mod import;
pub mod logging;
pub mod model;
pub mod review;
pub mod rules;
#[cfg(feature = "gui")]
pub mod runs;
#[cfg(feature = "gui")]
pub mod samples;
pub mod sequence;
pub mod sim;
#[cfg(feature = "gui")]
pub mod ui;
