//! Panels and widgets. They read the design and emit [`crate::edit::Command`]s; they never change the design
//! themselves.

pub mod canvas;
pub mod capacity;
pub mod changes;
pub mod dashboard;
pub mod emulation;
pub mod export;
pub mod find;
pub mod inspector;
pub mod sequence;
pub mod sim_bar;
pub mod warnings;
pub mod welcome;

/// WCAG contrast ratio of two colours (1 to 21): text needs 4.5, large text and marks 3.
pub(crate) fn contrast(a: egui::Color32, b: egui::Color32) -> f32 {
    let luminance = |c: egui::Color32| {
        let channel = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.040_45 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}
