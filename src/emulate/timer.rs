//! Waits with sub-millisecond precision. tokio's timers tick in whole milliseconds and round a wait up to the
//! next tick, which adds about 1 ms to every service time: on a chain of ten 5 ms services that is a fifth of the
//! latency. Service times and back-offs wait on this timer instead: one thread that sleeps until the earliest
//! deadline (the OS wakes it within tens of microseconds) and wakes the waiting tasks. It costs one wake-up per
//! deadline, nothing while idle. The waits end on time on average: each waiting task says how late it resumed
//! (the timer thread's lateness plus the runtime's wake-up of the task, 60-250 microseconds under load), and the
//! thread wakes that much early.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

struct Deadline {
    at: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Deadline {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Deadline {}
impl PartialOrd for Deadline {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Deadline {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    deadlines: BinaryHeap<Reverse<Deadline>>,
    seq: u64,
}

struct Timer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

fn timer() -> &'static Arc<Timer> {
    static TIMER: OnceLock<Arc<Timer>> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer = Arc::new(Timer {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        });
        let worker = timer.clone();
        // The thread lives as long as the process; it holds no resources but its queue.
        let _ = std::thread::Builder::new()
            .name("emulator-timer".to_owned())
            .spawn(move || run(&worker));
        timer
    })
}

/// The longest the thread wakes early to make up for the lateness of the OS and the runtime.
const MAX_EARLY: Duration = Duration::from_micros(500);

/// How early the thread wakes, in nanoseconds: an integral controller on the lateness tasks report, so that
/// waits end on average at their deadline.
static EARLY_NS: AtomicI64 = AtomicI64::new(0);

/// How much of each reported lateness moves `EARLY_NS` (1/16: steady against single slow wake-ups).
const EARLY_GAIN_SHIFT: u32 = 4;

/// A task resumed `late_ns` after its deadline (negative: early): wake a little earlier (or later) next time.
fn report_lateness(late_ns: i64) {
    let max = i64::try_from(MAX_EARLY.as_nanos()).unwrap_or(i64::MAX);
    let _ = EARLY_NS.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |early| {
        Some((early + (late_ns.clamp(-max, max) >> EARLY_GAIN_SHIFT)).clamp(0, max))
    });
}

fn run(timer: &Timer) {
    #[cfg(target_os = "linux")]
    // SAFETY: sets this thread's own timer slack (how late the kernel may wake it) to 1 ns.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1u64);
    }
    let Ok(mut queue) = timer.queue.lock() else {
        return;
    };
    loop {
        let now = Instant::now();
        let early =
            Duration::from_nanos(u64::try_from(EARLY_NS.load(Ordering::Relaxed)).unwrap_or(0));
        while queue
            .deadlines
            .peek()
            .is_some_and(|Reverse(d)| d.at <= now + early)
        {
            if let Some(Reverse(deadline)) = queue.deadlines.pop() {
                let _ = deadline.wake.send(());
            }
        }
        let wait = queue
            .deadlines
            .peek()
            .map_or(Duration::from_secs(1), |Reverse(d)| {
                d.at.checked_sub(early)
                    .unwrap_or(d.at)
                    .saturating_duration_since(now)
            });
        queue = match timer.changed.wait_timeout(queue, wait) {
            Ok((queue, _)) => queue,
            Err(_) => return,
        };
    }
}

/// A wait of `ms` milliseconds as a `Duration`, saturating: a design's times are bounded, but a sample of a
/// heavy-tailed service time times a `slow` factor can exceed what a `Duration` holds, which would panic.
pub(crate) fn duration_ms(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms.max(0.0) / 1000.0).unwrap_or(Duration::MAX)
}

/// Waits `duration`, to within tens of microseconds (forever when its end is beyond what the clock can hold).
pub(crate) async fn sleep(duration: Duration) {
    if duration.is_zero() {
        return;
    }
    let Some(at) = Instant::now().checked_add(duration) else {
        std::future::pending::<()>().await;
        return;
    };
    let (wake, woken) = oneshot::channel();
    let timer = timer();
    {
        let Ok(mut queue) = timer.queue.lock() else {
            tokio::time::sleep(duration).await;
            return;
        };
        queue.seq += 1;
        let seq = queue.seq;
        let earliest = queue.deadlines.peek().is_none_or(|Reverse(d)| at < d.at);
        queue.deadlines.push(Reverse(Deadline { at, seq, wake }));
        if earliest {
            timer.changed.notify_one();
        }
    }
    if woken.await.is_ok() {
        let now = Instant::now();
        let late_ns = if now >= at {
            i64::try_from((now - at).as_nanos()).unwrap_or(i64::MAX)
        } else {
            -i64::try_from((at - now).as_nanos()).unwrap_or(i64::MAX)
        };
        report_lateness(late_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every wait ends, none before its deadline less the early wake-up allowance. (How late they end depends on
    /// the machine's load: docs/emulation.md gives the figures; no timing is asserted here.)
    #[test]
    fn every_wait_ends_and_none_ends_early() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let waits: Vec<(Duration, Duration)> = runtime.block_on(async {
            let mut tasks = Vec::new();
            for i in 0..400u64 {
                tasks.push(tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_micros(i * 2500 % 50_000)).await;
                    let want = Duration::from_micros(500 + i * 7919 % 5000);
                    let start = Instant::now();
                    sleep(want).await;
                    (want, start.elapsed())
                }));
            }
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.expect("a wait"));
            }
            out
        });
        assert_eq!(waits.len(), 400);
        for (want, took) in waits {
            assert!(
                took + MAX_EARLY >= want,
                "asked {want:?}, woke after {took:?}"
            );
        }
    }
}
