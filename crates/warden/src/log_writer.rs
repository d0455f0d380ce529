//! Where log lines go: a shared batch buffer, written to stderr in batches.
//!
//! A request formats its line on its own thread (the `fmt` layer does that in
//! a thread-local buffer) and [`BatchWriter`] appends it to one shared buffer
//! under a short lock: no allocation, no channel, and no thread wake-up per
//! line. A flusher thread writes the buffer out [`FLUSH_INTERVAL`] after the
//! first line of a batch arrives, or as soon as the batch reaches
//! [`FLUSH_AT`], so a line reaches stderr within about that long and request
//! threads never `write(2)` themselves. Nothing is dropped: if stderr stalls,
//! lines collect up to [`MAX_PENDING`] bytes (a burst of about 100 000 access
//! log lines), then writers wait for stderr (back-pressure), as they would
//! with a direct write. Dropping the [`BatchWriterGuard`] writes out what is
//! left and stops the flusher.
//!
//! Why not `tracing_appender::non_blocking`: it hands every line to its writer
//! thread through a channel (a copy, an allocation freed on another thread,
//! and a futex wake-up whenever that thread has caught up and sleeps). Under
//! load that thread and its wake-ups took about a fifth of warden's CPU
//! (`benches/results/profile.md`).

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the first line of a batch may wait before the batch is written.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(20);

/// A batch this large is written without waiting for [`FLUSH_INTERVAL`].
pub const FLUSH_AT: usize = 128 * 1024;

/// Lines waiting beyond this many bytes (stderr stalled) make the writer that
/// adds them write the batch itself, so it waits for stderr: bounded memory,
/// nothing dropped.
pub const MAX_PENDING: usize = 16 * 1024 * 1024;

/// The `MakeWriter` of the log subscriber (see the [module docs](self)).
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BatchWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter").finish_non_exhaustive()
    }
}

/// Keep it while lines are logged: dropping it writes out the last batch and
/// stops the flusher thread.
#[must_use = "dropping the guard stops the log flusher"]
pub struct BatchWriterGuard {
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for BatchWriterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriterGuard").finish_non_exhaustive()
    }
}

struct Shared {
    /// The batch size written without waiting ([`FLUSH_AT`]).
    flush_at: usize,
    /// The back-pressure limit ([`MAX_PENDING`]).
    max_pending: usize,
    /// Lines not yet written, and whether the flusher should stop.
    pending: Mutex<Pending>,
    /// Signalled when a batch starts (the buffer was empty), when it reaches
    /// `flush_at`, or on stop.
    started: Condvar,
    /// The output, with a spare buffer to swap in; holding this lock while
    /// taking a batch keeps batches in order.
    out: Mutex<Output>,
}

struct Pending {
    lines: Vec<u8>,
    stop: bool,
}

struct Output {
    sink: Box<dyn Write + Send>,
    spare: Vec<u8>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain bytes behind: keep logging.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BatchWriter {
    /// A writer to `sink` (stderr for the host) and the guard of its flusher
    /// thread.
    pub fn new(sink: Box<dyn Write + Send>) -> io::Result<(Self, BatchWriterGuard)> {
        Self::with_limits(sink, FLUSH_AT, MAX_PENDING)
    }

    fn with_limits(
        sink: Box<dyn Write + Send>,
        flush_at: usize,
        max_pending: usize,
    ) -> io::Result<(Self, BatchWriterGuard)> {
        let shared = Arc::new(Shared {
            flush_at,
            max_pending,
            pending: Mutex::new(Pending {
                lines: Vec::with_capacity(flush_at),
                stop: false,
            }),
            started: Condvar::new(),
            out: Mutex::new(Output {
                sink,
                spare: Vec::with_capacity(flush_at),
            }),
        });
        let flusher = std::thread::Builder::new()
            .name("warden-log".into())
            .spawn({
                let shared = shared.clone();
                move || shared.run_flusher()
            })?;
        Ok((
            Self {
                shared: shared.clone(),
            },
            BatchWriterGuard {
                shared,
                flusher: Some(flusher),
            },
        ))
    }

    /// A writer to stderr.
    pub fn stderr() -> io::Result<(Self, BatchWriterGuard)> {
        Self::new(Box::new(io::stderr()))
    }
}

impl Shared {
    /// Appends whole lines. Wakes the flusher only when a batch starts or
    /// reaches `flush_at`; writes the batch itself (waiting for stderr) only
    /// beyond `max_pending`.
    fn append(&self, bytes: &[u8]) {
        let (wake, over) = {
            let mut pending = lock(&self.pending);
            let before = pending.lines.len();
            pending.lines.extend_from_slice(bytes);
            let after = pending.lines.len();
            (
                before == 0 || (before < self.flush_at && after >= self.flush_at),
                after >= self.max_pending,
            )
        };
        if over {
            self.write_batch();
        } else if wake {
            self.started.notify_one();
        }
    }

    /// Takes the pending batch and writes it. Errors are ignored: there is
    /// nowhere left to report a failing stderr.
    fn write_batch(&self) {
        let mut out = lock(&self.out);
        let Output { sink, spare } = &mut *out;
        {
            let mut pending = lock(&self.pending);
            if pending.lines.is_empty() {
                return;
            }
            std::mem::swap(&mut pending.lines, spare);
        }
        let _ = sink.write_all(spare).and_then(|()| sink.flush());
        spare.clear();
        if spare.capacity() > 4 * self.flush_at {
            // One burst (or a stall) should not pin its memory forever.
            spare.shrink_to(self.flush_at);
        }
    }

    fn run_flusher(&self) {
        loop {
            {
                let mut pending = lock(&self.pending);
                while pending.lines.is_empty() && !pending.stop {
                    pending = self
                        .started
                        .wait(pending)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if pending.stop {
                    drop(pending);
                    self.write_batch();
                    return;
                }
                // Let the batch collect lines, unless it is already large or
                // the flusher is asked to stop.
                let (guard, _) = self
                    .started
                    .wait_timeout_while(pending, FLUSH_INTERVAL, |p| {
                        !p.stop && p.lines.len() < self.flush_at
                    })
                    .unwrap_or_else(PoisonError::into_inner);
                drop(guard);
            }
            self.write_batch();
        }
    }
}

/// The writer handed to the `fmt` layer for one event.
#[derive(Debug)]
pub struct BatchLine<'a>(&'a BatchWriter);

impl Write for BatchLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.shared.append(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.shared.append(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = BatchLine<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        BatchLine(self)
    }
}

impl BatchWriterGuard {
    /// Writes out every line logged so far.
    pub fn flush(&self) {
        self.shared.write_batch();
    }
}

impl Drop for BatchWriterGuard {
    fn drop(&mut self) {
        lock(&self.shared.pending).stop = true;
        self.shared.started.notify_all();
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
        // Lines logged after the flusher's last batch.
        self.shared.write_batch();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A sink the test can read (and stall).
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(lock(&self.0).clone()).unwrap()
        }
    }

    fn line(w: &BatchWriter, text: &str) {
        w.make_writer().write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn a_lone_line_is_written_soon_without_a_flush() {
        let sink = Captured::default();
        let (w, _guard) = BatchWriter::new(Box::new(sink.clone())).unwrap();
        line(&w, "one\n");
        let start = Instant::now();
        while sink.text().is_empty() {
            assert!(start.elapsed() < Duration::from_secs(5), "never written");
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(sink.text(), "one\n");
        // And again after the flusher went back to waiting.
        std::thread::sleep(FLUSH_INTERVAL * 3);
        line(&w, "two\n");
        while sink.text().len() < 8 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "second line never written"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(sink.text(), "one\ntwo\n");
    }

    #[test]
    fn lines_from_many_threads_stay_whole_and_in_order_per_thread() {
        let sink = Captured::default();
        let (w, guard) = BatchWriter::new(Box::new(sink.clone())).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let w = w.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        line(&w, &format!("t{t} line {i:05} {}\n", "x".repeat(i % 50)));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let text = sink.text();
        let mut next = [0usize; 4];
        for l in text.lines() {
            let mut parts = l.split(' ');
            let t: usize = parts.next().unwrap()[1..].parse().unwrap();
            assert_eq!(parts.next(), Some("line"));
            let i: usize = parts.next().unwrap().parse().unwrap();
            assert_eq!(i, next[t], "thread {t} out of order");
            assert_eq!(parts.next().unwrap_or("").len(), i % 50);
            next[t] += 1;
        }
        assert_eq!(next, [20_000; 4], "lost lines");
    }

    #[test]
    fn dropping_the_guard_writes_out_the_last_lines() {
        let sink = Captured::default();
        let (w, guard) = BatchWriter::with_limits(Box::new(sink.clone()), 64, 256).unwrap();
        line(&w, "last words\n");
        drop(guard);
        assert_eq!(sink.text(), "last words\n");
        // Lines after the guard is gone still reach the sink past the back-pressure limit.
        line(&w, &"y".repeat(256));
        assert_eq!(sink.text().len(), "last words\n".len() + 256);
    }

    /// A sink whose writes wait until the test opens it.
    #[derive(Clone)]
    struct Gated {
        open: Arc<(Mutex<bool>, Condvar)>,
        inner: Captured,
    }
    impl Write for Gated {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (open, cv) = &*self.open;
            let mut o = lock(open);
            while !*o {
                o = cv.wait(o).unwrap();
            }
            self.inner.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_stderr_absorbs_a_burst_then_pushes_back_without_losing_lines() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let sink = Captured::default();
        let gated = Gated {
            open: gate.clone(),
            inner: sink.clone(),
        };
        let (w, guard) = BatchWriter::with_limits(Box::new(gated), 100, 10_000).unwrap();
        // A burst well past the batch size but under the limit: the writer never waits,
        // although the flusher is stuck in a write.
        let burst = std::thread::spawn({
            let w = w.clone();
            move || {
                for i in 0..500 {
                    line(&w, &format!("{i:05}\n"));
                }
            }
        });
        let start = Instant::now();
        while !burst.is_finished() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "a writer waited on a stalled stderr below the limit"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        burst.join().unwrap();
        // Past the limit the writer waits for stderr.
        let pushed = std::thread::spawn({
            let w = w.clone();
            move || {
                for i in 500..3000 {
                    line(&w, &format!("{i:05}\n"));
                }
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!pushed.is_finished(), "no back-pressure past the limit");
        *lock(&gate.0) = true;
        gate.1.notify_all();
        pushed.join().unwrap();
        drop(guard);
        let expected: String = (0..3000).map(|i| format!("{i:05}\n")).collect();
        assert_eq!(sink.text(), expected, "lines lost or out of order");
    }
}
