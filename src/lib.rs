//! Syncopate: design microservice topologies, see the trade-offs of their sync and async calls, simulate load,
//! and export deployable configuration.
//!
//! The core modules (`model`, and the analysis, sequence, simulation, export and import modules built on it) are
//! plain Rust with no GUI dependency; `app` and `ui` hold the desktop application. See `docs/architecture.md`.

pub mod app;
pub mod cli;
pub mod export;
pub mod import;
pub mod model;
pub mod rules;
pub mod sequence;
pub mod sim;
pub mod ui;
