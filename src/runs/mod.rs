//! The work the desktop app runs beside its window, each on a thread of its own, and what the panels read of it:
//! the live simulation (`sim_runner`: the simulator's thread; `live`: a run of one design state, its history and
//! a finished run kept as the baseline), the Capacity tab's sweeps and plans (`capacity`), and a run of the design
//! for real (`emulation`). Below both `app` (which starts and steers them) and `ui` (which shows them), so the
//! panels import nothing from the app.

pub mod capacity;
pub mod emulation;
pub mod live;
pub mod sim_runner;
