//! The design model: the types of a design, their ids, the `.syncopate` file format and validation.
//!
//! This is the single source of truth every other module reads. It depends on plain libraries only.

pub mod design;
pub mod diff;
pub mod file;
pub mod generate;
pub mod ids;
pub mod layout;
pub mod validate;

pub use design::*;
pub use file::{LoadError, SaveError, load_file, load_from_str, save_file, to_json_pretty};
pub use ids::{EdgeId, FlowId, ServiceId};
pub use validate::{Problem, validate};
