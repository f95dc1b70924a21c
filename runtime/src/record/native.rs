//! Native histograms: durations counted in exponential buckets (schema 3: each bucket's bound is
//! 2^(1/8), about 9% above the last), one series per histogram instead of one per bucket.
//!
//! The buckets cover every duration a `u64` of nanoseconds holds: above the zero bucket's
//! threshold of 2^-30 s (0.93 ns) up to 2^34.25 s, 513 buckets, densely, so that recording is
//! one index computation and one atomic add: no lock, no allocation, no resizing. The index
//! comes from the float's exponent bits and a search of the 8 sub-bucket bounds of one power of
//! two, never from a floating-point `log`.
//!
//! Memory: 513 counters, the zero bucket and a bitmap of the chunks in use, 4,120 bytes per function (or HTTP series) that
//! has native histograms on, allocated before `main` for functions that ask for them, when
//! [`set_default_histograms`](crate::set_default_histograms) turns them on for the others, and with the series for HTTP. Unlike the
//! classic cells they are not sharded per thread: two threads recording into one histogram add
//! to shared cache lines (the call-overhead bench measures it).

use std::sync::atomic::{
    AtomicPtr, AtomicU64, AtomicU8, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

/// The schema: 2^3 buckets per power of two.
pub(crate) const SCHEMA: i32 = 3;
/// Durations at or below this many seconds (2^-30) are counted in the zero bucket.
pub(crate) const ZERO_THRESHOLD: f64 = 9.313_225_746_154_785e-10;
/// The index of the first bucket above the zero bucket: (2^-30, 2^(-239/8)].
pub(crate) const FIRST_INDEX: i32 = -239;
/// Buckets from [`FIRST_INDEX`] up to the one holding `u64::MAX` nanoseconds.
pub(crate) const LEN: usize = 513;

/// 2^((j - 8) / 8) for j in 0..=8: the upper bounds of the sub-buckets of [0.5, 1).
const SUB_BOUNDS: [f64; 9] = [
    0.5,
    0.545_253_866_332_628_8,
    0.594_603_557_501_360_5,
    0.648_419_777_325_504_8,
    std::f64::consts::FRAC_1_SQRT_2,
    0.771_105_412_703_970_4,
    0.840_896_415_253_714_5,
    0.917_004_043_204_671_2,
    1.0,
];

/// How a histogram is exposed: classic `le` buckets (what text scrapes see), native buckets
/// (protobuf scrapes of a Prometheus with `--enable-feature=native-histograms`), or both.
///
/// Classic is the default, so nothing changes for text scrapers; choose per function with
/// `#[instrument_metrics(histogram = native | classic | both)]`, or for every function without
/// that option with [`set_default_histograms`](crate::set_default_histograms) (or the environment variable
/// `INSTRUMENT_METRICS_HISTOGRAMS=native|classic|both`, read before `main`).
///
/// ```
/// use instrument_metrics::Histograms;
///
/// assert_eq!("both".parse::<Histograms>(), Ok(Histograms::Both));
/// assert!(Histograms::Both.native() && Histograms::Both.classic());
/// assert!(!Histograms::Classic.native());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Histograms {
    /// `le` buckets only (the default).
    #[default]
    Classic,
    /// Native (exponential) buckets only; text scrapes see `_sum`, `_count` and `+Inf`.
    Native,
    /// Both: text scrapes see the classic buckets, native-histogram scrapers the native ones.
    Both,
}

impl Histograms {
    /// Whether native buckets are kept.
    #[must_use]
    pub const fn native(self) -> bool {
        matches!(self, Histograms::Native | Histograms::Both)
    }

    /// Whether classic buckets are exposed.
    #[must_use]
    pub const fn classic(self) -> bool {
        matches!(self, Histograms::Classic | Histograms::Both)
    }

    const fn code(self) -> u8 {
        match self {
            Histograms::Classic => 0,
            Histograms::Native => 1,
            Histograms::Both => 2,
        }
    }

    const fn from_code(code: u8) -> Self {
        match code {
            1 => Histograms::Native,
            2 => Histograms::Both,
            _ => Histograms::Classic,
        }
    }
}

impl std::str::FromStr for Histograms {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "classic" => Ok(Histograms::Classic),
            "native" => Ok(Histograms::Native),
            "both" => Ok(Histograms::Both),
            other => Err(format!(
                "unknown histogram kind `{other}`: write `classic`, `native` or `both`"
            )),
        }
    }
}

static DEFAULT: AtomicU8 = AtomicU8::new(0);

/// Records the global choice (what [`set_default_histograms`](crate::set_default_histograms) does before it
/// allocates the native buckets of the sites that follow it).
pub(crate) fn choose(kind: Histograms) {
    DEFAULT.store(kind.code(), Release);
}

/// The choice [`set_default_histograms`](crate::set_default_histograms) made (classic unless changed).
///
/// ```
/// assert_eq!(instrument_metrics::default_histograms(), instrument_metrics::Histograms::Classic);
/// ```
#[must_use]
pub fn default_histograms() -> Histograms {
    Histograms::from_code(DEFAULT.load(Acquire))
}

/// Reads `INSTRUMENT_METRICS_HISTOGRAMS` (before `main`); an unknown value is ignored, with a
/// line on stderr saying what to write.
pub(crate) fn default_from_env() {
    if let Ok(v) = std::env::var("INSTRUMENT_METRICS_HISTOGRAMS") {
        match v.parse::<Histograms>() {
            Ok(kind) => DEFAULT.store(kind.code(), Release),
            Err(e) => eprintln!("instrument-metrics: INSTRUMENT_METRICS_HISTOGRAMS: {e}"),
        }
    }
}

/// The bucket of a duration: `None` for the zero bucket, else the dense index (0 = the bucket
/// of [`FIRST_INDEX`]).
#[inline]
pub(crate) fn bucket_of(nanos: u64) -> Option<usize> {
    if nanos == 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // 2^-53 relative: far below a bucket's 9%
    let seconds = nanos as f64 * 1e-9;
    let bits = seconds.to_bits();
    // seconds = frac × 2^exp with frac in [0.5, 1), as frexp gives them.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & ((1 << 52) - 1)) | (1022 << 52));
    let mut j = 0;
    while frac > SUB_BOUNDS[j] {
        j += 1;
    }
    #[allow(clippy::cast_possible_wrap)]
    let index = (exp << SCHEMA) + j as i32 - (1 << SCHEMA);
    let dense = usize::try_from(index - FIRST_INDEX).unwrap_or(0);
    Some(dense.min(LEN - 1))
}

/// The counters of one native histogram.
pub(crate) struct NativeBuckets {
    zero: AtomicU64,
    /// Bit `k` set once a bucket of chunk `k` (8 buckets, the last chunk 9) was counted, so a
    /// scrape reads the few chunks a function's durations fall in, not all 513 counters.
    touched: AtomicU64,
    counts: [AtomicU64; LEN],
}

/// The chunk of the `touched` bit of bucket `i`.
#[inline]
fn chunk(i: usize) -> usize {
    (i / 8).min(63)
}

impl NativeBuckets {
    fn boxed() -> Box<Self> {
        Box::new(NativeBuckets {
            zero: AtomicU64::new(0),
            touched: AtomicU64::new(0),
            counts: [const { AtomicU64::new(0) }; LEN],
        })
    }

    /// Counts one duration.
    #[inline]
    pub(crate) fn observe(&self, nanos: u64) {
        let cell = match bucket_of(nanos) {
            Some(i) => {
                let bit = 1 << chunk(i);
                // Set once per chunk: afterwards a plain load.
                if self.touched.load(Relaxed) & bit == 0 {
                    self.touched.fetch_or(bit, Relaxed);
                }
                &self.counts[i]
            }
            None => &self.zero,
        };
        cell.fetch_add(1, Relaxed);
    }

    /// Adds these counts into `into`.
    pub(crate) fn add_to(&self, into: &mut NativeReading) {
        into.zero = into.zero.wrapping_add(self.zero.load(Acquire));
        let touched = self.touched.load(Acquire);
        for (i, (sum, cell)) in into.counts.iter_mut().zip(&self.counts).enumerate() {
            if touched & (1 << chunk(i)) != 0 {
                *sum = sum.wrapping_add(cell.load(Acquire));
            }
        }
    }
}

/// A native histogram's counts as read by a scrape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NativeReading {
    pub zero: u64,
    /// Dense, from [`FIRST_INDEX`].
    pub counts: Vec<u64>,
}

impl Default for NativeReading {
    fn default() -> Self {
        NativeReading {
            zero: 0,
            counts: vec![0; LEN],
        }
    }
}

impl NativeReading {
    /// Observations counted, zero bucket included.
    pub(crate) fn count(&self) -> u64 {
        self.counts
            .iter()
            .fold(self.zero, |a, b| a.wrapping_add(*b))
    }

    /// The populated buckets as Prometheus' spans and deltas: runs of buckets (gaps of one or
    /// two empty buckets are kept inside a run, cheaper than a new span) with each count given
    /// as the difference from the previous one.
    pub(crate) fn spans(&self) -> (Vec<(i32, u32)>, Vec<i64>) {
        let mut spans: Vec<(i32, u32)> = Vec::new();
        let mut deltas = Vec::new();
        let mut previous_count: i64 = 0;
        // The index (absolute) just past the last bucket emitted.
        let mut next: Option<i32> = None;
        for (dense, &count) in self.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let index = dense as i32 + FIRST_INDEX;
            match next {
                Some(n) if index - n <= 2 => {
                    // Fill the gap with empty buckets inside the current span.
                    for _ in n..index {
                        deltas.push(-previous_count);
                        previous_count = 0;
                    }
                    if let Some(last) = spans.last_mut() {
                        last.1 += u32::try_from(index - n).unwrap_or(0) + 1;
                    }
                }
                Some(n) => spans.push((index - n, 1)),
                None => spans.push((index, 1)),
            }
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            deltas.push(count - previous_count);
            previous_count = count;
            next = Some(index + 1);
        }
        (spans, deltas)
    }
}

/// The native buckets of one site: null until allocated.
pub(crate) struct NativeCells {
    ptr: AtomicPtr<NativeBuckets>,
}

impl NativeCells {
    pub(crate) const fn new() -> Self {
        NativeCells {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The buckets, if allocated: one load on every call.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<&NativeBuckets> {
        let ptr = self.ptr.load(Acquire);
        // SAFETY: a non-null pointer is a leaked `Box<NativeBuckets>`, never freed.
        (!ptr.is_null()).then(|| unsafe { &*ptr })
    }

    /// Allocates them once (never on a caller's path: before `main`, or in `set_default_histograms`).
    pub(crate) fn allocate(&self) {
        if !self.ptr.load(Acquire).is_null() {
            return;
        }
        let fresh = Box::into_raw(NativeBuckets::boxed());
        if self
            .ptr
            .compare_exchange(std::ptr::null_mut(), fresh, Release, Acquire)
            .is_err()
        {
            // SAFETY: `fresh` came from `Box::into_raw` just above and was never shared.
            drop(unsafe { Box::from_raw(fresh) });
        }
    }
}

/// Native buckets owned by one value (an HTTP series), allocated with it.
pub(crate) fn boxed() -> Box<NativeBuckets> {
    NativeBuckets::boxed()
}

#[cfg(test)]
mod tests {
    use super::{bucket_of, NativeReading, FIRST_INDEX, LEN, SCHEMA, SUB_BOUNDS, ZERO_THRESHOLD};

    /// The bucket a float computation with `log2` would pick: the reference, not the method.
    fn by_log(nanos: u64) -> i32 {
        let seconds = nanos as f64 * 1e-9;
        (seconds.log2() * f64::from(1 << SCHEMA)).ceil() as i32
    }

    #[test]
    fn constants_are_what_they_say() {
        for (j, b) in SUB_BOUNDS.iter().enumerate() {
            let exact = 2f64.powf((j as f64 - 8.0) / 8.0);
            assert!((b - exact).abs() < 1e-15, "{j}: {b} vs {exact}");
        }
        assert_eq!(ZERO_THRESHOLD, 2f64.powi(-30));
        assert_eq!(bucket_of(1), Some(0), "1 ns is in the first bucket");
        assert_eq!(
            bucket_of(u64::MAX),
            Some(LEN - 1),
            "the last bucket holds u64::MAX"
        );
        assert_eq!(
            by_log(u64::MAX) - FIRST_INDEX,
            i32::try_from(LEN).unwrap() - 1
        );
    }

    #[test]
    fn the_index_agrees_with_log2_away_from_bounds() {
        let mut n: u64 = 1;
        while n < u64::MAX / 4 {
            for m in [n, n + 1, n / 2 * 3 + 7] {
                let seconds = m as f64 * 1e-9;
                let exact = seconds.log2() * 8.0;
                // Within rounding of a bound either answer is right.
                if (exact - exact.round()).abs() > 1e-9 {
                    let expected = usize::try_from(by_log(m) - FIRST_INDEX).unwrap();
                    assert_eq!(bucket_of(m), Some(expected), "{m} ns");
                }
            }
            n += n / 4 + 1;
        }
        assert_eq!(bucket_of(0), None);
    }

    #[test]
    fn a_power_of_two_is_the_upper_bound_of_its_bucket() {
        // 2^-1 s = 500 ms exactly: index -8, the bucket (2^(-9/8), 2^-1].
        assert_eq!(
            bucket_of(500_000_000),
            Some(usize::try_from(-8 - FIRST_INDEX).unwrap())
        );
        assert_eq!(
            bucket_of(500_000_001),
            Some(usize::try_from(-7 - FIRST_INDEX).unwrap())
        );
    }

    #[test]
    fn spans_and_deltas_encode_the_counts() {
        let mut r = NativeReading::default();
        let at = |i: i32| usize::try_from(i - FIRST_INDEX).unwrap();
        r.counts[at(-3)] = 2;
        r.counts[at(-2)] = 5;
        r.counts[at(0)] = 1; // one empty bucket between: same span
        r.counts[at(10)] = 4; // far: a new span
        let (spans, deltas) = r.spans();
        assert_eq!(spans, vec![(-3, 4), (9, 1)]);
        assert_eq!(deltas, vec![2, 3, -5, 1, 3]);
        // Decoding gives the counts back.
        let mut index = 0;
        let mut count = 0;
        let mut decoded = Vec::new();
        let mut d = deltas.iter();
        for (offset, len) in spans {
            index += offset;
            for _ in 0..len {
                count += d.next().unwrap();
                if count != 0 {
                    decoded.push((index, count));
                }
                index += 1;
            }
        }
        assert_eq!(decoded, vec![(-3, 2), (-2, 5), (0, 1), (10, 4)]);
        assert_eq!(r.count(), 12);
    }
}
