//! The event list: what happens next, in time order.

/// An event: what happens, and when. Ties in time are broken by `seq`, first scheduled first.
#[derive(Debug, Clone, Copy)]
pub(super) struct Event {
    /// The time's bits above the sequence number: simulated times are never negative, and the bits of
    /// non-negative floats order like the floats, so one integer comparison orders events by (time, seq).
    pub(super) key: u128,
    pub(super) kind: EventKind,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum EventKind {
    /// The next request of a flow arrives (stale when `token` is old).
    Arrival { flow: u32, token: u32 },
    /// A job's local work ends.
    WorkDone { job: u32, generation: u32 },
    /// The first timeout of a lane (see `TimeoutLanes`) is due.
    Timeout { lane: u32 },
    /// The backoff before a retry is over.
    RetryDue { call: u32, generation: u32 },
    /// A fault starts or ends.
    FaultEdge { fault: u32 },
    /// A client polls the entry for its request's result (see `polling`).
    Poll { flow: u32, request: u32 },
}

/// The event key of a time and a sequence number: the time's bits above the sequence number (see `Event::key`).
#[inline]
pub(super) fn event_key(time_ms: f64, seq: u64) -> u128 {
    // Times are sums of non-negative samples from 0, so never negative; max(0.0) also turns -0.0 into 0.0.
    (u128::from(time_ms.max(0.0).to_bits()) << 64) | u128::from(seq)
}

/// The time of an event key.
#[inline]
pub(super) fn key_time(key: u128) -> f64 {
    f64::from_bits((key >> 64) as u64)
}

/// A timeout waiting in its lane: a sync call's overall timeout, or one try's.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeout {
    pub(super) key: u128,
    pub(super) call: u32,
    pub(super) generation: u32,
    /// The try it times out (a try's timeout only).
    pub(super) try_number: u32,
}

/// Timeouts wait in lanes, two per edge (the calls' overall timeouts, and their tries'), and only each lane's
/// first timeout has a place in the event heap. Every timeout of a lane is its edge's fixed duration after it was
/// set, so a lane fills in time order. Most timeouts never fire (the call answered first) and, in the heap, they
/// made up most of it on large designs (a call's timeout outlives the call many times over), so every push and pop
/// went through levels that did not fit the caches. In lanes they are appended and dropped in order, and one that
/// has gone stale is dropped when it reaches the front, without a trip through the heap.
#[derive(Debug, Default)]
pub(super) struct TimeoutLanes {
    lanes: Vec<std::collections::VecDeque<Timeout>>,
    /// The lane whose first timeout is being handled: its event has left the heap, and the next one gets its
    /// event when the handling ends (`end_handling`), so timeouts set meanwhile need none of their own. Every other
    /// lane that holds timeouts has exactly one event in the heap, for its first.
    handling: Option<u32>,
}

impl TimeoutLanes {
    /// Lanes for `edges` edges.
    pub(super) fn new(edges: usize) -> Self {
        Self {
            lanes: vec![std::collections::VecDeque::new(); edges * 2],
            handling: None,
        }
    }

    /// The lane of an edge's call timeouts (`of_try` false) or try timeouts.
    #[inline]
    pub(super) fn lane(edge: u32, of_try: bool) -> u32 {
        edge * 2 + u32::from(of_try)
    }

    /// Whether a lane holds try timeouts.
    #[inline]
    pub(super) fn of_try(lane: u32) -> bool {
        lane % 2 == 1
    }

    /// Adds a timeout at the lane's end. Returns true when the lane needs an event in the heap for it.
    #[inline]
    pub(super) fn push(&mut self, lane: u32, timeout: Timeout) -> bool {
        let queue = &mut self.lanes[lane as usize];
        debug_assert!(
            queue.back().is_none_or(|last| last.key < timeout.key),
            "a lane fills in time order"
        );
        let needs_event = queue.is_empty() && self.handling != Some(lane);
        queue.push_back(timeout);
        needs_event
    }

    /// Takes the first timeout of the lane whose event came up, and handles the lane until `end_handling`.
    #[inline]
    pub(super) fn start_handling(&mut self, lane: u32) -> Option<Timeout> {
        self.handling = Some(lane);
        self.lanes[lane as usize].pop_front()
    }

    /// The lane's first timeout, if any.
    #[inline]
    pub(super) fn first(&self, lane: u32) -> Option<&Timeout> {
        self.lanes[lane as usize].front()
    }

    /// Drops the lane's first timeout (one gone stale).
    #[inline]
    pub(super) fn drop_first(&mut self, lane: u32) {
        self.lanes[lane as usize].pop_front();
    }

    /// The lane being handled is done: its first timeout, if any, gets its event in the heap now.
    #[inline]
    pub(super) fn end_handling(&mut self) {
        self.handling = None;
    }

    /// Timeouts waiting over all lanes (for memory checks).
    pub(super) fn len(&self) -> usize {
        self.lanes.iter().map(std::collections::VecDeque::len).sum()
    }
}

/// A 4-ary min-heap of events: shallower than a binary heap, so a pop touches fewer cache lines; the event queue is
/// the simulator's hottest structure.
#[derive(Debug, Default)]
pub(super) struct EventQueue {
    heap: Vec<Event>,
}

impl EventQueue {
    /// Events waiting.
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    #[inline]
    pub(super) fn peek_key(&self) -> Option<u128> {
        self.heap.first().map(|e| e.key)
    }

    #[inline]
    pub(super) fn push(&mut self, event: Event) {
        let mut child = self.heap.len();
        self.heap.push(event);
        while child > 0 {
            let parent = (child - 1) / 4;
            if self.heap[parent].key <= event.key {
                break;
            }
            self.heap[child] = self.heap[parent];
            child = parent;
        }
        self.heap[child] = event;
    }

    #[inline]
    pub(super) fn pop(&mut self) -> Option<Event> {
        let last = self.heap.pop()?;
        let Some(&top) = self.heap.first() else {
            return Some(last);
        };
        let heap = self.heap.as_mut_slice();
        let len = heap.len();
        let mut hole = 0;
        loop {
            let first_child = hole * 4 + 1;
            if first_child >= len {
                break;
            }
            let (smallest, smallest_key) = if first_child + 4 <= len {
                // A full group, the common case: the smallest of two pairs, then of their winners (independent
                // comparisons, and no loop). Keys are unique, so ties never arise.
                let c = &heap[first_child..first_child + 4];
                let (a, a_key) = if c[1].key < c[0].key {
                    (1, c[1].key)
                } else {
                    (0, c[0].key)
                };
                let (b, b_key) = if c[3].key < c[2].key {
                    (3, c[3].key)
                } else {
                    (2, c[2].key)
                };
                if b_key < a_key {
                    (b, b_key)
                } else {
                    (a, a_key)
                }
            } else {
                // One bounds check for the whole group of children.
                let children = &heap[first_child..len];
                let mut smallest = 0;
                let mut smallest_key = children[0].key;
                for (offset, child) in children.iter().enumerate().skip(1) {
                    if child.key < smallest_key {
                        smallest = offset;
                        smallest_key = child.key;
                    }
                }
                (smallest, smallest_key)
            };
            if smallest_key >= last.key {
                break;
            }
            let child = first_child + smallest;
            heap[hole] = heap[child];
            hole = child;
        }
        heap[hole] = last;
        Some(top)
    }
}
