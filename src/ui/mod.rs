//! Panels and widgets. They read the design and emit [`crate::app::Command`]s; they never change the design
//! themselves.

pub mod canvas;
pub mod capacity;
pub mod dashboard;
pub mod emulation;
pub mod export;
pub mod find;
pub mod inspector;
pub mod sequence;
pub mod sim_bar;
pub mod warnings;
pub mod welcome;
