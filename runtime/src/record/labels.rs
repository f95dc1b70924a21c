//! Label values known only at run time, always bounded: [`LabelValue`] (a finite set of values
//! known at compile time, recorded by a dense index, no hashing) and [`BoundedStrings`] (strings
//! capped at N distinct values at run time, every further one counted as [`OVERFLOW`]).

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// The value every string past a `bounded(expr, N)` label's first N distinct values is
/// counted under.
///
/// ```
/// assert_eq!(instrument_metrics::LABEL_OVERFLOW, "_OTHER");
/// ```
pub const OVERFLOW: &str = "_OTHER";

/// The value of a label computed from the result when there is no result (the call panicked
/// or was cancelled), and the `error_kind` of an error that is not an `Err` (judged by
/// `error_if`, `ok_if` or [`ClassifyOutcome`](crate::ClassifyOutcome)).
///
/// ```
/// assert_eq!(instrument_metrics::LABEL_NONE, "_NONE");
/// ```
pub const NONE: &str = "_NONE";

/// A type whose values are a finite set known at compile time, so it can be a label value:
/// `labels(tier = account.tier)`, a label computed from the result (`labels(hit = |r| …)`) or
/// the `error_kind` of an error type.
///
/// A value is recorded by its position in [`VALUES`](LabelValue::VALUES): no hashing, no
/// allocation. Every value (every combination, for several labels) is in the exposition from
/// process start, at 0. Derive it on an enum (values are the variant names, or
/// `#[label_value(rename = "…")]`); it is implemented for `bool`, [`std::io::ErrorKind`] and
/// [`std::io::Error`] (by kind).
///
/// ```
/// use instrument_metrics::{instrument_metrics, LabelValue};
///
/// #[derive(LabelValue)]
/// pub enum Tier {
///     Free,
///     #[label_value(rename = "paid")]
///     Pro { seats: u32 },
/// }
///
/// pub struct Account { pub tier: Tier }
///
/// #[instrument_metrics(labels(tier = account.tier))]
/// fn checkout(account: &Account) -> u32 {
///     7
/// }
///
/// assert_eq!(Tier::VALUES, ["Free", "paid"]);
/// assert_eq!(Tier::Pro { seats: 3 }.index(), 1);
/// checkout(&Account { tier: Tier::Pro { seats: 3 } });
/// let text = instrument_metrics::render();
/// assert!(text.contains(r#"function_calls_total{function="checkout",module="rust_out",tier="paid",result="ok"} 1"#));
/// assert!(text.contains(r#"function_calls_total{function="checkout",module="rust_out",tier="Free",result="ok"} 0"#));
/// ```
///
/// A manual implementation must list distinct values and return an index below
/// `VALUES.len()` (anything else is counted under the last value).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a label value: its values are not a finite set known at compile time",
    label = "an open type: an unbounded label",
    note = "derive it on the enum, `#[derive(instrument_metrics::LabelValue)]` (the values are the variant names), or implement `instrument_metrics::LabelValue`; a string label is capped at run time with `bounded(expr, N)` (at most N distinct strings, then `_OTHER`)"
)]
pub trait LabelValue {
    /// Every value, in index order; distinct.
    const VALUES: &'static [&'static str];
    /// The position of this value in [`VALUES`](LabelValue::VALUES).
    fn index(&self) -> usize;
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    const VALUES: &'static [&'static str] = T::VALUES;
    #[inline]
    fn index(&self) -> usize {
        (**self).index()
    }
}

/// `false`, `true`.
///
/// ```
/// use instrument_metrics::LabelValue;
/// assert_eq!(bool::VALUES, ["false", "true"]);
/// assert_eq!(true.index(), 1);
/// ```
impl LabelValue for bool {
    const VALUES: &'static [&'static str] = &["false", "true"];
    #[inline]
    fn index(&self) -> usize {
        usize::from(*self)
    }
}

/// Every kind stable as of Rust 1.87 by its `Debug` name, and `Uncategorized` for any other
/// (kinds added later, and the ones std keeps unstable).
///
/// ```
/// use instrument_metrics::LabelValue;
/// use std::io::ErrorKind;
/// assert_eq!(ErrorKind::VALUES[ErrorKind::NotFound.index()], "NotFound");
/// assert_eq!(ErrorKind::VALUES.last(), Some(&"Uncategorized"));
/// ```
impl LabelValue for std::io::ErrorKind {
    const VALUES: &'static [&'static str] = &[
        "NotFound",
        "PermissionDenied",
        "ConnectionRefused",
        "ConnectionReset",
        "HostUnreachable",
        "NetworkUnreachable",
        "ConnectionAborted",
        "NotConnected",
        "AddrInUse",
        "AddrNotAvailable",
        "NetworkDown",
        "BrokenPipe",
        "AlreadyExists",
        "WouldBlock",
        "NotADirectory",
        "IsADirectory",
        "DirectoryNotEmpty",
        "ReadOnlyFilesystem",
        "StaleNetworkFileHandle",
        "InvalidInput",
        "InvalidData",
        "TimedOut",
        "WriteZero",
        "StorageFull",
        "NotSeekable",
        "QuotaExceeded",
        "FileTooLarge",
        "ResourceBusy",
        "ExecutableFileBusy",
        "Deadlock",
        "CrossesDevices",
        "TooManyLinks",
        "InvalidFilename",
        "ArgumentListTooLong",
        "Interrupted",
        "Unsupported",
        "UnexpectedEof",
        "OutOfMemory",
        "Other",
        "Uncategorized",
    ];

    fn index(&self) -> usize {
        use std::io::ErrorKind as K;
        match self {
            K::NotFound => 0,
            K::PermissionDenied => 1,
            K::ConnectionRefused => 2,
            K::ConnectionReset => 3,
            K::HostUnreachable => 4,
            K::NetworkUnreachable => 5,
            K::ConnectionAborted => 6,
            K::NotConnected => 7,
            K::AddrInUse => 8,
            K::AddrNotAvailable => 9,
            K::NetworkDown => 10,
            K::BrokenPipe => 11,
            K::AlreadyExists => 12,
            K::WouldBlock => 13,
            K::NotADirectory => 14,
            K::IsADirectory => 15,
            K::DirectoryNotEmpty => 16,
            K::ReadOnlyFilesystem => 17,
            K::StaleNetworkFileHandle => 18,
            K::InvalidInput => 19,
            K::InvalidData => 20,
            K::TimedOut => 21,
            K::WriteZero => 22,
            K::StorageFull => 23,
            K::NotSeekable => 24,
            K::QuotaExceeded => 25,
            K::FileTooLarge => 26,
            K::ResourceBusy => 27,
            K::ExecutableFileBusy => 28,
            K::Deadlock => 29,
            K::CrossesDevices => 30,
            K::TooManyLinks => 31,
            K::InvalidFilename => 32,
            K::ArgumentListTooLong => 33,
            K::Interrupted => 34,
            K::Unsupported => 35,
            K::UnexpectedEof => 36,
            K::OutOfMemory => 37,
            K::Other => 38,
            _ => 39,
        }
    }
}

/// By its [`kind`](std::io::Error::kind), so `io::Result` fns get `error_kind="NotFound"`….
///
/// ```
/// use instrument_metrics::LabelValue;
/// let e = std::io::Error::from(std::io::ErrorKind::TimedOut);
/// assert_eq!(std::io::Error::VALUES[e.index()], "TimedOut");
/// ```
impl LabelValue for std::io::Error {
    const VALUES: &'static [&'static str] = <std::io::ErrorKind as LabelValue>::VALUES;
    #[inline]
    fn index(&self) -> usize {
        self.kind().index()
    }
}

/// A label value's index, with its type (so [`values_of`] can read the type's values).
#[doc(hidden)]
pub struct Typed<T: ?Sized>(usize, PhantomData<T>);

/// What a label function returns: an index, and the values it indexes.
#[doc(hidden)]
pub trait Indexed {
    /// The values of the label's type.
    const VALUES: &'static [&'static str];
    /// The index.
    fn get(&self) -> usize;
}

impl<T: LabelValue + ?Sized> Indexed for Typed<T> {
    const VALUES: &'static [&'static str] = T::VALUES;
    #[inline(always)]
    fn get(&self) -> usize {
        self.0
    }
}

/// The index of `value`, typed.
#[doc(hidden)]
#[inline(always)]
pub fn typed<T: LabelValue + ?Sized>(value: &T) -> Typed<T> {
    Typed(value.index(), PhantomData)
}

/// The values a label function indexes, at compile time: the function computes the label
/// from the arguments' declared types (and runs at each call), so both see one type.
#[doc(hidden)]
#[must_use]
pub const fn values_of<A, R: Indexed>(_label: fn(A) -> R) -> &'static [&'static str] {
    R::VALUES
}

/// The index of an argument label's value.
#[doc(hidden)]
#[inline(always)]
pub fn label_index<T: LabelValue + ?Sized>(value: &T) -> usize {
    value.index()
}

/// A result closure applied to `&value` (its parameter typed by the bound).
#[doc(hidden)]
#[inline(always)]
pub fn apply<R: ?Sized, T>(value: &R, closure: impl FnOnce(&R) -> T) -> T {
    closure(value)
}

/// A `bounded(expr, N)` value: anything that is a string.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`bounded(…)` takes a string (`&str`, `String`, anything `AsRef<str>`), not `{Self}`",
    label = "not a string",
    note = "for a finite set of values, derive `instrument_metrics::LabelValue` on an enum and write the label without `bounded`"
)]
pub trait BoundedValue {
    /// The string.
    fn label_str(&self) -> &str;
}

impl<S: AsRef<str> + ?Sized> BoundedValue for S {
    #[inline(always)]
    fn label_str(&self) -> &str {
        self.as_ref()
    }
}

/// The string of a `bounded` argument label.
#[doc(hidden)]
#[inline(always)]
pub fn bounded_str<S: BoundedValue + ?Sized>(value: &S) -> &str {
    value.label_str()
}

/// The largest N of `bounded(expr, N)`.
pub const MAX_BOUNDED: usize = 1000;

/// The largest product of the dynamic labels' value counts of one function.
pub const MAX_COMBINATIONS: usize = 1024;

/// The strings one `bounded(expr, N)` label has seen: the first N distinct ones get an index
/// each (0..N, in order of arrival, kept for the life of the process); every further one is
/// index N, [`OVERFLOW`], and counted in `instrument_metrics_label_overflow_total`.
///
/// A lookup hashes the string (FNV-1a) into an open-addressing table of at least 2N slots read
/// without locking; only the first sight of a new value, at most N times, takes a lock and
/// allocates (the value is copied once). The literal string `_OTHER` is counted as an
/// overflow too (without the self-metric), so it never makes a second `_OTHER` series.
#[doc(hidden)]
pub struct BoundedStrings {
    limit: usize,
    table: OnceLock<Table>,
    /// Values with an index; `by_index[..seen]` are set.
    seen: AtomicUsize,
    full: AtomicBool,
    overflowed: AtomicU64,
    insert: Mutex<()>,
}

struct Table {
    slots: Box<[AtomicPtr<Entry>]>,
    by_index: Box<[AtomicPtr<Entry>]>,
}

struct Entry {
    hash: u64,
    index: usize,
    value: Box<str>,
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl BoundedStrings {
    /// Room for `limit` distinct values (checked by the macro: 1..=[`MAX_BOUNDED`]).
    #[must_use]
    pub const fn new(limit: usize) -> Self {
        BoundedStrings {
            limit,
            table: OnceLock::new(),
            seen: AtomicUsize::new(0),
            full: AtomicBool::new(false),
            overflowed: AtomicU64::new(0),
            insert: Mutex::new(()),
        }
    }

    /// N.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.limit
    }

    fn table(&self) -> &Table {
        self.table.get_or_init(|| {
            let slots = (self.limit * 2).next_power_of_two().max(2);
            Table {
                slots: (0..slots)
                    .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                    .collect(),
                by_index: (0..self.limit)
                    .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                    .collect(),
            }
        })
    }

    /// Where `value` is in the table: its index, or the free slot it would go to.
    fn probe(table: &Table, hash: u64, value: &str) -> Result<usize, usize> {
        let mask = table.slots.len() - 1;
        #[allow(clippy::cast_possible_truncation)] // only the low bits are used
        let mut i = hash as usize & mask;
        loop {
            let entry = table.slots[i].load(Ordering::Acquire);
            if entry.is_null() {
                return Err(i);
            }
            // SAFETY: a published entry is never freed or changed.
            let entry = unsafe { &*entry };
            if entry.hash == hash && &*entry.value == value {
                return Ok(entry.index);
            }
            i = (i + 1) & mask;
        }
    }

    /// The index of `value`: 0..N for the first N distinct values, N for every other. The
    /// reserved values count as the overflow: a literal `_NONE` must not become a second row
    /// beside the `_NONE` of a call without a value.
    pub fn index(&self, value: &str) -> usize {
        if value == OVERFLOW || value == NONE {
            return self.limit;
        }
        let table = self.table();
        let hash = fnv1a(value);
        // At most N entries in at least 2N slots: a probe always ends at a free slot.
        if let Ok(index) = Self::probe(table, hash, value) {
            return index;
        }
        if !self.full.load(Ordering::Acquire) {
            let _lock = self.insert.lock().unwrap_or_else(PoisonError::into_inner);
            match Self::probe(table, hash, value) {
                Ok(index) => return index,
                Err(free) => {
                    let index = self.seen.load(Ordering::Relaxed);
                    if index < self.limit {
                        let entry = Box::into_raw(Box::new(Entry {
                            hash,
                            index,
                            value: value.into(),
                        }));
                        table.by_index[index].store(entry, Ordering::Release);
                        table.slots[free].store(entry, Ordering::Release);
                        self.seen.store(index + 1, Ordering::Release);
                        return index;
                    }
                    self.full.store(true, Ordering::Release);
                }
            }
        }
        self.overflowed.fetch_add(1, Ordering::Relaxed);
        self.limit
    }

    /// How many values have an index.
    pub(crate) fn seen(&self) -> usize {
        self.seen.load(Ordering::Acquire)
    }

    /// The value with index `i` (below [`seen`](Self::seen)), or [`OVERFLOW`].
    pub(crate) fn value(&self, i: usize) -> &str {
        if i >= self.seen() {
            return OVERFLOW;
        }
        let entry = self.table().by_index[i].load(Ordering::Acquire);
        // SAFETY: set before `seen` passed `i`, never freed.
        unsafe { &*entry }.value.as_ref()
    }

    /// How many lookups went to [`OVERFLOW`] because N values were taken.
    pub(crate) fn overflowed(&self) -> u64 {
        self.overflowed.load(Ordering::Relaxed)
    }
}

/// The `error_kind` values of a return type, at compile time: `Some(E::VALUES)` for a
/// `Result<T, E>` whose `E: LabelValue`, `None` otherwise (through the [`NoErrorKinds`]
/// fallback; an inherent associated constant wins over a trait's when its bounds hold).
#[doc(hidden)]
pub struct KindsOf<T: ?Sized>(PhantomData<T>);

impl<T, E: LabelValue> KindsOf<Result<T, E>> {
    /// The error's values.
    pub const KINDS: Option<&'static [&'static str]> = Some(E::VALUES);
}

/// The fallback of [`KindsOf`]: no error kinds.
#[doc(hidden)]
pub trait NoErrorKinds {
    /// None.
    const KINDS: Option<&'static [&'static str]> = None;
}

impl<T: ?Sized> NoErrorKinds for KindsOf<T> {}

/// A return type that can give its error's kind: `Result<T, E>` with `E: LabelValue`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`error_kind` needs a `Result` whose error type implements `LabelValue`; `{Self}` does not qualify",
    label = "not a `Result<_, E>` with `E: LabelValue`",
    note = "derive it on the error enum: `#[derive(instrument_metrics::LabelValue)]` (values are the variant names), or implement `instrument_metrics::LabelValue` for it by hand; or remove `error_kind`"
)]
pub trait ErrorKind {
    /// The kind index of an `Err`, `None` for `Ok`.
    fn error_kind(&self) -> Option<usize>;
}

impl<T, E: LabelValue> ErrorKind for Result<T, E> {
    #[inline]
    fn error_kind(&self) -> Option<usize> {
        match self {
            Ok(_) => None,
            Err(e) => Some(e.index()),
        }
    }
}

/// The kind of a returned value, for a fn that asked for `error_kind` itself.
#[doc(hidden)]
#[inline(always)]
pub fn error_kind_of<R: ErrorKind>(value: &R) -> Option<usize> {
    value.error_kind()
}

/// Autoref probe for methods of an impl block with `error_kind`: a `Result` whose error has
/// kinds gives its kind, anything else none (no error).
#[doc(hidden)]
pub mod probe {
    use super::LabelValue;

    /// Wraps the returned value.
    pub struct KindProbe<'a, T: ?Sized>(pub &'a T);

    /// A `Result` whose error has kinds.
    pub trait ViaKind {
        /// The kind index of an `Err`.
        fn __im_error_kind(&self) -> Option<usize>;
    }
    impl<T, E: LabelValue> ViaKind for &KindProbe<'_, Result<T, E>> {
        #[inline]
        fn __im_error_kind(&self) -> Option<usize> {
            match self.0 {
                Ok(_) => None,
                Err(e) => Some(e.index()),
            }
        }
    }

    /// Anything else.
    pub trait ViaNoKind {
        /// None.
        fn __im_error_kind(&self) -> Option<usize>;
    }
    impl<T: ?Sized> ViaNoKind for KindProbe<'_, T> {
        #[inline]
        fn __im_error_kind(&self) -> Option<usize> {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BoundedStrings, LabelValue, OVERFLOW};

    #[test]
    fn io_error_kinds_are_their_debug_names() {
        use std::io::ErrorKind as K;
        let kinds = [
            K::NotFound,
            K::PermissionDenied,
            K::ConnectionRefused,
            K::ConnectionReset,
            K::HostUnreachable,
            K::NetworkUnreachable,
            K::ConnectionAborted,
            K::NotConnected,
            K::AddrInUse,
            K::AddrNotAvailable,
            K::NetworkDown,
            K::BrokenPipe,
            K::AlreadyExists,
            K::WouldBlock,
            K::NotADirectory,
            K::IsADirectory,
            K::DirectoryNotEmpty,
            K::ReadOnlyFilesystem,
            K::StaleNetworkFileHandle,
            K::InvalidInput,
            K::InvalidData,
            K::TimedOut,
            K::WriteZero,
            K::StorageFull,
            K::NotSeekable,
            K::QuotaExceeded,
            K::FileTooLarge,
            K::ResourceBusy,
            K::ExecutableFileBusy,
            K::Deadlock,
            K::CrossesDevices,
            K::TooManyLinks,
            K::InvalidFilename,
            K::ArgumentListTooLong,
            K::Interrupted,
            K::Unsupported,
            K::UnexpectedEof,
            K::OutOfMemory,
            K::Other,
        ];
        assert_eq!(kinds.len() + 1, K::VALUES.len());
        for (i, k) in kinds.iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(format!("{k:?}"), K::VALUES[i]);
        }
        let values: std::collections::HashSet<_> = K::VALUES.iter().collect();
        assert_eq!(values.len(), K::VALUES.len());
    }

    #[test]
    fn bounded_strings_keep_the_first_n_and_overflow_the_rest() {
        let b = BoundedStrings::new(3);
        assert_eq!(b.index("a"), 0);
        assert_eq!(b.index("b"), 1);
        assert_eq!(b.index("a"), 0);
        assert_eq!(b.index("c"), 2);
        assert_eq!(b.index("d"), 3);
        assert_eq!(b.index("e"), 3);
        assert_eq!(b.index("b"), 1);
        assert_eq!(b.index(OVERFLOW), 3);
        assert_eq!(b.seen(), 3);
        assert_eq!([b.value(0), b.value(1), b.value(2)], ["a", "b", "c"]);
        assert_eq!(b.overflowed(), 2);
    }

    #[test]
    fn bounded_strings_under_contention_give_each_value_one_index() {
        static B: BoundedStrings = BoundedStrings::new(50);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || {
                    (0..100)
                        .map(|i| (i, B.index(&format!("v{}", (i * 7 + t) % 60))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(B.seen(), 50);
        let mut names: Vec<&str> = (0..50).map(|i| B.value(i)).collect();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(B.index(n), i);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 50);
    }
}
