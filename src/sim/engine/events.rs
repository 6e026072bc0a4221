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
    /// A try of a sync call ran out of time.
    TryTimeout {
        call: u32,
        generation: u32,
        try_number: u32,
    },
    /// A sync call ran out of its overall time.
    CallTimeout { call: u32, generation: u32 },
    /// The backoff before a retry is over.
    RetryDue { call: u32, generation: u32 },
    /// A fault starts or ends.
    FaultEdge { fault: u32 },
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
            let end = (first_child + 4).min(len);
            // One bounds check for the whole group of children.
            let children = &heap[first_child..end];
            let mut smallest = 0;
            let mut smallest_key = children[0].key;
            for (offset, child) in children.iter().enumerate().skip(1) {
                if child.key < smallest_key {
                    smallest = offset;
                    smallest_key = child.key;
                }
            }
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
