//! Failed messages: redelivery and dead-letter queues.
//!
//! A consumer (or broker) that fails a message of an async call with a `dead_letter` policy gets it again, at the
//! back of its queue, until the message has had `after_deliveries` deliveries in all; a message that fails its last
//! delivery goes to the dead-letter queue. Each redelivery is an arrival at the consumer (load, and a lag of its
//! own). Without a policy, a failed message is dropped (as before dead-letter queues existed). Either way a message
//! that is not handled in the end marks its request `settle_failed`: its work will not be done.

use super::Simulation;
use super::request::Carried;

impl Simulation {
    /// The message of `edge` (carrying `topic`) in its `delivery`-th delivery failed at `service`.
    #[inline(never)]
    pub(super) fn message_failed(
        &mut self,
        request: u32,
        flow: u32,
        service: u32,
        edge: u32,
        topic: u32,
        delivery: u32,
    ) {
        let after = self.edges[edge as usize].dead_letter_after;
        if after == 0 {
            self.requests.async_failed(request);
            return;
        }
        let measuring = self.measuring();
        if delivery >= after {
            if measuring {
                self.edges[edge as usize].dead_lettered += 1;
            }
            self.requests.async_failed(request);
            return;
        }
        if measuring {
            self.edges[edge as usize].redeliveries += 1;
        }
        let message = self.new_job(request, flow, service, Carried { edge, topic });
        self.jobs[message as usize].delivery = delivery + 1;
        // A full queue refuses it: the message is lost like one refused on its first delivery.
        self.deliver(message);
    }
}
