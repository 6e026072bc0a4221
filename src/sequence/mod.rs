//! Sequence diagrams generated from the design: how a request of a flow moves through the services, following the
//! same request semantics as the simulator. One model, three renderers (Mermaid, PlantUML, SVG).

mod mermaid;
mod plantuml;
mod svg;

pub use mermaid::to_mermaid;
pub use plantuml::to_plantuml;
pub use svg::to_svg;

use crate::model::{CallMode, Design, Flow, ServiceKind};

/// Deepest nesting of calls followed before the diagram stops with a note (cycles stop earlier, at the repeat).
pub const MAX_DEPTH: usize = 12;

/// A lifeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    /// The service id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The service kind (renderers draw actors, databases and queues differently).
    pub kind: ServiceKind,
}

/// What kind of arrow a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A sync request: filled arrowhead.
    Request,
    /// The answer to a sync request: dashed.
    Reply,
    /// An async message: open arrowhead, no answer.
    Async,
}

/// One element of a diagram, in time order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An arrow between two participants (indices into `participants`).
    Message {
        /// Sender.
        from: usize,
        /// Receiver.
        to: usize,
        /// Arrow kind.
        kind: MessageKind,
        /// Text on the arrow.
        label: String,
        /// The call it stands for.
        edge: Option<String>,
    },
    /// A short note beside a participant.
    Note {
        /// The participant it is attached to.
        over: usize,
        /// The text.
        text: String,
    },
    /// Calls made in parallel: one branch per call.
    Par(Vec<Vec<Item>>),
    /// A call made only by some requests.
    Opt {
        /// The condition, e.g. `p = 0.1`.
        label: String,
        /// What happens when it is made.
        items: Vec<Item>,
    },
    /// A separator across the diagram, e.g. between the answer and the work that continues asynchronously.
    Divider(String),
    /// A framed part: a saga's rollback when a step fails (`break`), or the client's polls (`loop`).
    Frame {
        /// What the frame is.
        kind: FrameKind,
        /// Its condition, e.g. `hotels fails` or `every 500 ms until the work is done`.
        label: String,
        /// What happens inside.
        items: Vec<Item>,
    },
}

/// The kind of a framed part of a diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A saga's rollback: what happens instead of the rest when a step fails.
    Break,
    /// Repeated messages: a client's polls.
    Loop,
}

impl FrameKind {
    /// The keyword Mermaid and PlantUML use, and the frame's tag.
    pub fn keyword(self) -> &'static str {
        match self {
            FrameKind::Break => "break",
            FrameKind::Loop => "loop",
        }
    }
}

/// The id of the client lifeline a polling flow adds (not a valid service id, so it never collides with one).
pub const POLLING_CLIENT_ID: &str = "0client";

/// The sequence diagram of one flow.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceDiagram {
    /// The flow's id.
    pub flow: String,
    /// The title (the flow's name).
    pub title: String,
    /// Lifelines in order of first appearance, the flow's caller (its entry) first.
    pub participants: Vec<Participant>,
    /// The messages, in time order.
    pub items: Vec<Item>,
}

struct Builder<'a> {
    design: &'a Design,
    flow: &'a Flow,
    participants: Vec<Participant>,
    /// Async deliveries waiting to be shown after the answer: (sender, receiver service, topic, depth).
    deferred: Vec<(usize, usize, Option<String>, usize)>,
    /// How many hand-offs lie between the caller and the work being built now.
    handoffs: usize,
}

impl Builder<'_> {
    fn participant(&mut self, service: usize) -> usize {
        let s = &self.design.services[service];
        if let Some(i) = self.participants.iter().position(|p| p.id == s.id.as_str()) {
            return i;
        }
        self.participants.push(Participant {
            id: s.id.to_string(),
            name: s.display_name().to_owned(),
            kind: s.kind,
        });
        self.participants.len() - 1
    }

    fn service_index(&self, id: &str) -> Option<usize> {
        self.design
            .services
            .iter()
            .position(|s| s.id.as_str() == id)
    }

    /// The calls `service` makes for this flow when its work is done, as items; `path` holds the services on the
    /// way here (to stop at cycles).
    fn calls(&mut self, service: usize, topic: Option<&str>, path: &mut Vec<usize>) -> Vec<Item> {
        let me = self.participant(service);
        let design = self.design;
        let is_broker = design.services[service].kind == ServiceKind::Broker;
        let mut edges: Vec<usize> = design
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.from == design.services[service].id && e.on_forward_path(&self.flow.id)
            })
            .filter(|(_, e)| {
                !is_broker
                    || e.mode == CallMode::Sync
                    || e.topic.is_none()
                    || e.topic.as_deref() == topic
            })
            .map(|(i, _)| i)
            .collect();
        edges.sort_by_key(|&e| design.edges[e].order);
        let mut items = Vec::new();
        let mut index = 0;
        // The compensating calls of the calls made so far that can be undone, in the order made.
        let mut undo: Vec<usize> = Vec::new();
        while index < edges.len() {
            let order = design.edges[edges[index]].order;
            let mut group = Vec::new();
            while index < edges.len() && design.edges[edges[index]].order == order {
                group.push(edges[index]);
                index += 1;
            }
            let mut branches: Vec<Vec<Item>> =
                group.iter().map(|&e| self.call(me, e, path)).collect();
            if branches.len() == 1 {
                items.append(&mut branches[0]);
            } else {
                items.push(Item::Par(branches));
            }
            // A saga: when this step fails after steps that can be undone, those are undone in reverse order.
            if !undo.is_empty()
                && group
                    .iter()
                    .any(|&e| design.edges[e].mode == CallMode::Sync)
            {
                let failing: Vec<&str> = group
                    .iter()
                    .filter(|&&e| design.edges[e].mode == CallMode::Sync)
                    .map(|&e| design.service_name(design.edges[e].to.as_str()))
                    .collect();
                let mut rollback = Vec::new();
                for &compensation in undo.iter().rev() {
                    rollback.append(&mut self.call(me, compensation, path));
                }
                items.push(Item::Frame {
                    kind: FrameKind::Break,
                    label: format!("{} fails: compensate", failing.join(" or ")),
                    items: rollback,
                });
            }
            for &e in &group {
                if let Some(c) = design
                    .compensation_of(&design.edges[e].id)
                    .filter(|&c| design.edges[c].in_flow(&self.flow.id))
                {
                    undo.push(c);
                }
            }
        }
        items
    }

    /// One call from participant `from` along edge `edge`.
    fn call(&mut self, from: usize, edge: usize, path: &mut Vec<usize>) -> Vec<Item> {
        let design = self.design;
        let e = &design.edges[edge];
        let Some(callee) = self.service_index(e.to.as_str()) else {
            return Vec::new();
        };
        let to = self.participant(callee);
        let mut items = Vec::new();
        let notes = policy_notes(e);
        match e.mode {
            CallMode::Sync => {
                items.push(Item::Message {
                    from,
                    to,
                    kind: MessageKind::Request,
                    label: call_label(e, e.effective_protocol().as_str().to_owned()),
                    edge: Some(e.id.to_string()),
                });
                if !notes.is_empty() {
                    items.push(Item::Note {
                        over: from,
                        text: notes,
                    });
                }
                if path.contains(&callee) {
                    items.push(Item::Note {
                        over: to,
                        text: "calls back into the chain: stopped here (cycle)".to_owned(),
                    });
                } else if path.len() >= MAX_DEPTH {
                    items.push(Item::Note {
                        over: to,
                        text: format!("deeper than {MAX_DEPTH} calls: stopped here"),
                    });
                } else {
                    path.push(callee);
                    let mut inner = self.calls(callee, None, path);
                    path.pop();
                    items.append(&mut inner);
                }
                items.push(Item::Message {
                    from: to,
                    to: from,
                    kind: MessageKind::Reply,
                    label: "reply".to_owned(),
                    edge: Some(e.id.to_string()),
                });
            }
            CallMode::Async => {
                let label = call_label(
                    e,
                    match &e.topic {
                        Some(topic) => format!("{} {topic}", e.effective_protocol().as_str()),
                        None => e.effective_protocol().as_str().to_owned(),
                    },
                );
                items.push(Item::Message {
                    from,
                    to,
                    kind: MessageKind::Async,
                    label,
                    edge: Some(e.id.to_string()),
                });
                if !notes.is_empty() {
                    items.push(Item::Note {
                        over: from,
                        text: notes,
                    });
                }
                // The receiver works on it later, after the caller's answer.
                self.deferred
                    .push((to, callee, e.topic.clone(), self.handoffs + 1));
            }
        }
        if e.probability < 1.0 {
            vec![Item::Opt {
                label: format!("p = {}", e.probability),
                items,
            }]
        } else {
            items
        }
    }
}

/// A call's arrow text: its protocol (and topic), with what it undoes for a compensating call.
fn call_label(edge: &crate::model::Edge, protocol: String) -> String {
    match &edge.compensates {
        Some(undone) => format!("{protocol} · undo {undone}"),
        None => protocol,
    }
}

/// Timeouts, retries, breakers and bulkheads of a call, as a short note.
fn policy_notes(edge: &crate::model::Edge) -> String {
    let mut parts = Vec::new();
    if let Some(timeout) = edge.timeout_ms {
        parts.push(format!("timeout {timeout} ms"));
    }
    if let Some(retry) = edge.retry {
        let mut text = match retry.max_retries {
            1 => "1 retry".to_owned(),
            n => format!("{n} retries"),
        };
        if retry.backoff_ms > 0.0 {
            text.push_str(&format!(", backoff {} ms", retry.backoff_ms));
        }
        if let Some(per_try) = retry.per_try_timeout_ms {
            text.push_str(&format!(", {per_try} ms per try"));
        }
        parts.push(text);
    }
    if let Some(breaker) = edge.circuit_breaker {
        parts.push(format!(
            "breaker: opens after {} for {} ms",
            match breaker.consecutive_failures {
                1 => "1 failure".to_owned(),
                n => format!("{n} failures"),
            },
            breaker.open_ms
        ));
    }
    if let Some(max) = edge.max_in_flight {
        parts.push(format!("at most {max} in flight"));
    }
    parts.join(" · ")
}

/// The sequence diagram of a flow of a (valid) design; `None` when the design has no such flow.
pub fn diagram(design: &Design, flow_id: &str) -> Option<SequenceDiagram> {
    let flow = design.flow(flow_id)?;
    let entry = design.services.iter().position(|s| s.id == flow.entry)?;
    let mut builder = Builder {
        design,
        flow,
        participants: Vec::new(),
        deferred: Vec::new(),
        handoffs: 0,
    };
    let polling = flow.polling;
    if polling.is_some() {
        // The client that submits the request and polls for its result.
        builder.participants.push(Participant {
            id: POLLING_CLIENT_ID.to_owned(),
            name: "Client".to_owned(),
            kind: ServiceKind::Client,
        });
    }
    let entry_lifeline = builder.participant(entry);
    let mut items = builder.calls(entry, None, &mut vec![entry]);
    if polling.is_some() {
        let mut submitted = vec![Item::Message {
            from: 0,
            to: entry_lifeline,
            kind: MessageKind::Request,
            label: "submit".to_owned(),
            edge: None,
        }];
        submitted.append(&mut items);
        submitted.push(Item::Message {
            from: entry_lifeline,
            to: 0,
            kind: MessageKind::Reply,
            label: "202 Accepted, status URL".to_owned(),
            edge: None,
        });
        items = submitted;
    }
    // Async work that continues after the caller has its answer, in the order it was handed over.
    let mut shown_divider = false;
    let mut next = 0;
    while next < builder.deferred.len() {
        let (receiver, service, topic, depth) = builder.deferred[next].clone();
        next += 1;
        if !shown_divider {
            items.push(Item::Divider(if flow.caller_waits {
                "after the answer: asynchronous work".to_owned()
            } else {
                "asynchronous work (the caller does not wait)".to_owned()
            }));
            shown_divider = true;
        }
        if depth >= MAX_DEPTH || next > 4 * MAX_DEPTH {
            items.push(Item::Note {
                over: receiver,
                text: format!("deeper than {MAX_DEPTH} hand-offs: stopped here"),
            });
            break;
        }
        builder.handoffs = depth;
        let mut path = vec![service];
        let mut work = builder.calls(service, topic.as_deref(), &mut path);
        items.append(&mut work);
    }
    if let Some(polling) = polling {
        items.push(Item::Frame {
            kind: FrameKind::Loop,
            label: format!("every {} ms until the work is done", polling.interval_ms),
            items: vec![
                Item::Message {
                    from: 0,
                    to: entry_lifeline,
                    kind: MessageKind::Request,
                    label: "GET status".to_owned(),
                    edge: None,
                },
                Item::Message {
                    from: entry_lifeline,
                    to: 0,
                    kind: MessageKind::Reply,
                    label: "pending, then 303 See Other: the result".to_owned(),
                    edge: None,
                },
            ],
        });
    }
    Some(SequenceDiagram {
        flow: flow.id.to_string(),
        title: flow.display_name().to_owned(),
        participants: builder.participants,
        items,
    })
}

/// Diagrams of every flow, in design order.
pub fn diagrams(design: &Design) -> Vec<SequenceDiagram> {
    design
        .flows
        .iter()
        .filter_map(|f| diagram(design, f.id.as_str()))
        .collect()
}

/// Makes display text safe for one line of a diagram language: no line breaks or control characters.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}
