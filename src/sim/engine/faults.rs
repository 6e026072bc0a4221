//! Planned and injected faults: down, hang, slow and errors, and clearing them by hand.

use super::Simulation;
use super::events::EventKind;
use crate::model::{Fault, FaultEffect, FaultKind};

impl Simulation {
    /// Adds a fault; it takes effect from its start time (now, if that has passed).
    pub fn add_fault(&mut self, fault: Fault) {
        let Some(service) = self
            .design
            .services
            .iter()
            .position(|s| s.id == fault.service)
        else {
            return;
        };
        let index = self.faults.len() as u32;
        let start_ms = (fault.start_s * 1000.0).max(self.now);
        let end_ms = fault.end_s.map(|end| end * 1000.0);
        self.faults.push((fault, service as u32, false));
        self.schedule(start_ms, EventKind::FaultEdge { fault: index });
        if let Some(end_ms) = end_ms {
            self.schedule(end_ms.max(start_ms), EventKind::FaultEdge { fault: index });
        }
    }

    /// Ends every fault on a service now, as an operator restarting it would: work stuck in a hang is dropped (it
    /// fails, and its callers see the failure if they still wait) and its workers are free again. (A planned hang
    /// that simply ends leaves its stuck workers stuck, like a deadlock whose trigger went away.)
    pub fn clear_faults(&mut self, service_id: &str) {
        let targets: Vec<u32> = self
            .faults
            .iter()
            .enumerate()
            .filter(|(_, (fault, _, active))| *active && fault.service.as_str() == service_id)
            .map(|(i, _)| i as u32)
            .collect();
        for fault in targets {
            self.toggle_fault(fault, false);
        }
        for (fault, _, active) in &mut self.faults {
            if fault.service.as_str() == service_id && !*active {
                // A fault that has not started yet is dropped too.
                fault.start_s = f64::INFINITY;
            }
        }
        if let Some(service) = self.design.services.iter().position(|s| s.id == service_id) {
            let stuck: Vec<u32> = (0..self.jobs.len() as u32)
                .filter(|&j| {
                    let job = &self.jobs[j as usize];
                    job.live && job.hung && job.service as usize == service
                })
                .collect();
            for job in stuck {
                let j = &mut self.jobs[job as usize];
                if j.live && j.hung {
                    j.hung = false;
                    self.finish_job(job, false);
                }
            }
        }
    }

    pub(super) fn on_fault_edge(&mut self, fault: u32) {
        let (start_ms, active) = {
            let (f, _, active) = &self.faults[fault as usize];
            (f.start_s * 1000.0, *active)
        };
        if !active && start_ms.is_infinite() {
            return;
        }
        self.toggle_fault(fault, !active);
    }

    /// Starts or ends a fault. Faults on one service add up: two `down` faults keep it down until both have ended;
    /// `slow` factors multiply; `errors` rates combine as independent causes of failure (`1 - Π(1 - rate)`).
    fn toggle_fault(&mut self, fault: u32, activate: bool) {
        let (kind, service) = {
            let (f, service, _) = &self.faults[fault as usize];
            (f.kind, *service as usize)
        };
        self.faults[fault as usize].2 = activate;
        let s = &mut self.services[service];
        match (kind, activate) {
            (FaultKind::Down, true) => s.down += 1,
            (FaultKind::Down, false) => s.down = s.down.saturating_sub(1),
            (FaultKind::Hang, true) => s.hanging += 1,
            (FaultKind::Hang, false) => s.hanging = s.hanging.saturating_sub(1),
            (FaultKind::Slow | FaultKind::Errors, _) => {
                // Recomputed from the faults in force, so the end of one never undoes another that overlaps it.
                let effect = FaultEffect::of(
                    self.faults
                        .iter()
                        .filter(|(_, on, active)| *active && *on as usize == service)
                        .map(|(f, _, _)| f),
                );
                let s = &mut self.services[service];
                s.slow_factor = effect.slow_factor;
                s.set_fault_error_rate(effect.error_rate);
            }
        }
        if kind == FaultKind::Down && !activate {
            // Back up: work that waited while it was down starts now.
            self.touch(service);
            for replica in 0..self.services[service].replicas.len() {
                self.start_waiting(service, replica);
            }
        }
    }
}
