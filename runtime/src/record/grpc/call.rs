//! One gRPC call being measured, from the request's arrival to the end of the response stream
//! (a streaming RPC is one call), and the reader of gRPC's length-prefixed framing that counts
//! messages as the bodies stream through.

use std::sync::atomic::Ordering;

use crate::record::busy::{Busy, BusyCells};
use crate::record::capture;
use crate::record::clock;
use crate::record::exemplar::{self, ExemplarSource, TraceContext};
use crate::record::grpc::method::{Counts, Method, Side, BUCKETS, DURATION_BOUNDS_NANOS};
use crate::record::grpc::vocabulary::{CANCELED, CODES, DEADLINE_EXCEEDED};
use crate::record::native;

/// One call being measured. Recorded once: by [`Call::end`] or [`Call::fail`], or, if neither
/// is called, when dropped (as `Canceled`, or `DeadlineExceeded` once its deadline has passed).
///
/// Small (64 bytes, 8-aligned): the futures and bodies holding it are moved on every call.
pub(crate) struct Call {
    counts: &'static Counts,
    start: u64,
    /// The deadline the request carried (`grpc-timeout`), in nanoseconds from the start; 0 for none.
    deadline: u64,
    /// The exemplar's trace context when a source gave one: trace id (high, low), span id, in
    /// 8-byte words (a `u128` would align the call to 16 bytes); a zero trace id is none.
    trace: [u64; 3],
    /// With `polls`: the time spent in polls so far.
    busy_nanos: u64,
    /// With `polls`: the slow-poll threshold in microseconds (at least 1); 0 without.
    slow_poll_micros: u32,
    /// With `polls`: the polls so far longer than the threshold.
    slow_polls: u32,
}

impl Call {
    /// Starts measuring a call of `method` on `side`; `deadline` from the request's `grpc-timeout`.
    #[inline]
    pub(crate) fn begin(method: &'static Method, side: Side, deadline: Option<u64>) -> Call {
        let counts = method.counts(side);
        if !counts.seen.load(Ordering::Relaxed) {
            counts.seen.store(true, Ordering::Relaxed);
        }
        counts.started.fetch_add(1, Ordering::Relaxed);
        Call {
            counts,
            start: clock::raw_now(),
            deadline: deadline.unwrap_or(0),
            trace: exemplar::source().map_or([0; 3], trace_context),
            busy_nanos: 0,
            slow_poll_micros: 0,
            slow_polls: 0,
        }
    }

    /// Keeps this call's busy time, counting polls longer than `slow_poll_micros` (at least 1) as slow.
    #[inline]
    pub(crate) fn keep_busy(&mut self, slow_poll_micros: u32) {
        self.slow_poll_micros = slow_poll_micros.max(1);
    }

    /// Whether the call keeps its busy time (`polls`).
    #[inline]
    pub(crate) fn keeps_busy(&self) -> bool {
        self.slow_poll_micros != 0
    }

    /// Adds the poll that started at `start` (a [`clock::raw_now`] reading).
    #[inline]
    pub(crate) fn add_poll(&mut self, start: u64) {
        let mut busy = Busy {
            nanos: self.busy_nanos,
            slow: self.slow_polls,
        };
        busy.add_poll_since(start, u64::from(self.slow_poll_micros) * 1_000);
        self.busy_nanos = busy.nanos;
        self.slow_polls = busy.slow;
    }

    /// The counts this call's messages go to.
    #[inline]
    pub(crate) fn counts(&self) -> &'static Counts {
        self.counts
    }

    /// Records the call as ended with `code` (a status the peer received).
    #[inline]
    pub(crate) fn end(self, code: u8) {
        self.record(code, false);
        // Recorded: not again when dropped.
        std::mem::forget(self);
    }

    /// Records the call as ended by a transport failure: the peer received `code` (what a
    /// client library reports for one, `Unavailable`), and the transport-error counter says why.
    pub(crate) fn fail(self, code: u8) {
        self.record(code, true);
        std::mem::forget(self);
    }

    fn record(&self, code: u8, transport: bool) {
        let nanos = clock::nanos_since(self.start);
        // tonic answers an expired deadline with `Cancelled` (its timeout drops the call), and
        // a client's own timer fails the channel's call: gRPC says the call ended with
        // `DeadlineExceeded`, and so do we (the transport did not fail).
        // A client's timer starts before the server's (by the request's trip) and fires first:
        // its cancellation reaches the server a little before the server's own deadline. A
        // cancellation within a tenth of the deadline (50 ms at most) of it is the deadline's.
        let slack = (self.deadline / 10).min(50_000_000);
        let expired = self.deadline != 0 && nanos.saturating_add(slack) >= self.deadline;
        let (code, transport) = if expired && (code == CANCELED || transport) {
            (DEADLINE_EXCEEDED, false)
        } else {
            (code, transport)
        };
        let c = self.counts;
        if transport {
            c.transport_errors.fetch_add(1, Ordering::Relaxed);
        }
        // Native buckets first and classic ones next, the handled counter last: a scrape reads
        // them in the other order, so its buckets never count a call its counter has not.
        if let Some(n) = c.native.get() {
            n.observe(nanos);
        } else if native::default_histograms().native() {
            allocate_native(c, nanos);
        }
        let bucket = DURATION_BOUNDS_NANOS.partition_point(|b| *b < nanos);
        if let Some(b) = c.buckets.get(bucket) {
            b.fetch_add(1, Ordering::Release);
        }
        c.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        if self.trace[..2] != [0, 0] {
            keep_exemplar(c, self.trace, bucket, nanos);
        }
        if self.slow_poll_micros != 0 {
            self.record_busy();
        }
        let code = usize::from(code).min(CODES.len() - 1);
        c.handled[code].fetch_add(1, Ordering::Release);
        if capture::active() {
            note_in_capture(c, code);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_busy(&self) {
        let cells = self
            .counts
            .busy
            .get_or_init(|| Box::new(BusyCells::new(DURATION_BOUNDS_NANOS.len())));
        cells.record(
            &DURATION_BOUNDS_NANOS,
            Busy {
                nanos: self.busy_nanos,
                slow: self.slow_polls,
            },
        );
    }
}

const _: () = assert!(std::mem::size_of::<Call>() == 64);
const _: () = assert!(std::mem::size_of::<Option<Call>>() == 64);

impl Drop for Call {
    fn drop(&mut self) {
        self.record(CANCELED, false);
    }
}

/// Notes the call in the test capture open on this thread: its method is found by its counts
/// (a scan, in a test only; the call carries no more than its counts).
#[cold]
#[inline(never)]
fn note_in_capture(counts: &'static Counts, code: usize) {
    for method in crate::record::grpc::methods() {
        for (side, server) in [(Side::Server, true), (Side::Client, false)] {
            if std::ptr::eq(method.counts(side), counts) {
                capture::note(|| capture::Event::Grpc {
                    service: method.service,
                    method: method.name,
                    server,
                    code: CODES[code],
                });
                return;
            }
        }
    }
}

#[cold]
#[inline(never)]
fn trace_context(source: ExemplarSource) -> [u64; 3] {
    exemplar::current(source).map_or([0; 3], |c| {
        // The two halves of the 128-bit id.
        #[allow(clippy::cast_possible_truncation)]
        let (high, low) = ((c.trace_id >> 64) as u64, c.trace_id as u64);
        [high, low, c.span_id]
    })
}

/// The trace is kept as three words in the call (smaller to carry); the context is built only
/// here, off the common path.
#[cold]
#[inline(never)]
fn keep_exemplar(c: &Counts, trace: [u64; 3], bucket: usize, nanos: u64) {
    let context = TraceContext::new(
        (u128::from(trace[0]) << 64) | u128::from(trace[1]),
        trace[2],
    );
    c.exemplars.keep_duration(BUCKETS, bucket, context, nanos);
}

#[cold]
#[inline(never)]
fn allocate_native(c: &Counts, nanos: u64) {
    c.native.allocate();
    if let Some(n) = c.native.get() {
        n.observe(nanos);
    }
}

/// Where a body is in gRPC's framing: each message is a 1-byte flag, a 4-byte big-endian
/// length, then that many bytes. Reads the bytes passing through; copies nothing.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Framing {
    /// Bytes of the current 5-byte prefix seen (0 between messages).
    prefix: u8,
    /// The length being read from the prefix.
    length: u32,
    /// Bytes of the current message still to come, once its prefix is read.
    remaining: u32,
}

impl Framing {
    /// The messages that end in `bytes`.
    #[inline]
    pub(crate) fn messages(&mut self, mut bytes: &[u8]) -> u64 {
        let mut n = 0;
        while !bytes.is_empty() {
            if self.prefix == 0 {
                // Between messages with a whole prefix at hand (the usual case: a frame holds
                // whole messages): read the length at once and skip the message.
                if let Some((prefix, rest)) = bytes.split_first_chunk::<5>() {
                    let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
                    if let Some(after) = rest.get(length as usize..) {
                        n += 1;
                        bytes = after;
                        continue;
                    }
                    // The message goes on in later bytes: `rest` is shorter than `length`.
                    #[allow(clippy::cast_possible_truncation)]
                    let here = rest.len() as u32;
                    self.prefix = 5;
                    self.remaining = length - here;
                    return n;
                }
            }
            if self.prefix < 5 {
                if self.prefix > 0 {
                    self.length = (self.length << 8) | u32::from(bytes[0]);
                }
                bytes = &bytes[1..];
                self.prefix += 1;
                if self.prefix == 5 {
                    self.remaining = std::mem::take(&mut self.length);
                    if self.remaining == 0 {
                        n += 1;
                        self.prefix = 0;
                    }
                }
            } else {
                let take = bytes.len().min(self.remaining as usize);
                bytes = &bytes[take..];
                // `take` is at most `remaining`, a u32.
                #[allow(clippy::cast_possible_truncation)]
                let take = take as u32;
                self.remaining -= take;
                if self.remaining == 0 {
                    n += 1;
                    self.prefix = 0;
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::Framing;

    fn message(len: usize) -> Vec<u8> {
        let mut m = vec![0u8];
        m.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        m.extend(std::iter::repeat_n(7u8, len));
        m
    }

    #[test]
    fn messages_are_counted_whatever_the_chunks() {
        let mut stream = Vec::new();
        for len in [0, 1, 5, 300, 70_000, 0, 2] {
            stream.extend(message(len));
        }
        // Every way of cutting the stream in two, and byte by byte.
        for cut in 0..stream.len() {
            let mut f = Framing::default();
            let n = f.messages(&stream[..cut]) + f.messages(&stream[cut..]);
            assert_eq!(n, 7, "cut at {cut}");
        }
        let mut f = Framing::default();
        let n: u64 = stream
            .iter()
            .map(|b| f.messages(std::slice::from_ref(b)))
            .sum();
        assert_eq!(n, 7);
    }

    #[test]
    fn messages_are_counted_whatever_three_pieces_the_stream_comes_in() {
        // Whole prefixes and cut ones, whole messages and cut ones, in every mix.
        let mut stream = Vec::new();
        for len in [0, 1, 5, 0, 2] {
            stream.extend(message(len));
        }
        for a in 0..=stream.len() {
            for b in a..=stream.len() {
                let mut f = Framing::default();
                let n =
                    f.messages(&stream[..a]) + f.messages(&stream[a..b]) + f.messages(&stream[b..]);
                assert_eq!(n, 5, "cut at {a} and {b}");
            }
        }
    }

    #[test]
    fn a_partial_message_is_not_counted() {
        let m = message(10);
        let mut f = Framing::default();
        assert_eq!(f.messages(&m[..9]), 0);
        assert_eq!(f.messages(&m[9..14]), 0);
        assert_eq!(f.messages(&m[14..]), 1);
    }
}
