//! Dynamic labels as the macro describes them (keys, where their values come from, error
//! kinds), and what a labelled site shows the scraper: a description both the labelled call
//! sites and the catalog read, below both.

use crate::record::labels::{BoundedStrings, NONE, OVERFLOW};
use crate::record::reading::ReadingSlot;

/// Where a dynamic label's values come from.
#[derive(Clone, Copy)]
pub enum Values {
    /// A `LabelValue` computed from the arguments.
    Fixed(&'static [&'static str]),
    /// A `LabelValue` computed from the result; `_NONE` when there is none.
    Result(&'static [&'static str]),
    /// `bounded(expr, N)` from the arguments: N seen values, then `_OTHER`.
    Bounded(&'static BoundedStrings, usize),
    /// `bounded(|r| …, N)`: N seen values, `_OTHER`, and `_NONE` when there is no result.
    BoundedResult(&'static BoundedStrings, usize),
}

impl Values {
    /// How many indices the label takes.
    #[must_use]
    pub const fn card(&self) -> usize {
        match self {
            Values::Fixed(v) => v.len(),
            Values::Result(v) => v.len() + 1,
            Values::Bounded(_, n) => *n + 1,
            Values::BoundedResult(_, n) => *n + 2,
        }
    }

    const fn reads_result(&self) -> bool {
        matches!(self, Values::Result(_) | Values::BoundedResult(..))
    }

    pub(crate) fn bounded(&self) -> Option<&'static BoundedStrings> {
        match self {
            Values::Bounded(b, _) | Values::BoundedResult(b, _) => Some(b),
            _ => None,
        }
    }

    /// The value of index `i`; `None` for a bounded value not seen yet. The second field says
    /// whether it is a bounded label's `_OTHER`/`_NONE`, shown only once counted.
    pub(crate) fn name(&self, i: usize) -> Option<(&'static str, bool)> {
        match self {
            Values::Fixed(v) => v.get(i).map(|s| (*s, false)),
            Values::Result(v) => Some(v.get(i).map_or((NONE, false), |s| (*s, false))),
            Values::Bounded(b, n) | Values::BoundedResult(b, n) => {
                if i < b.seen() {
                    Some((b.value(i), false))
                } else if i == *n {
                    Some((OVERFLOW, true))
                } else if i == *n + 1 {
                    Some((NONE, true))
                } else {
                    None
                }
            }
        }
    }

    fn same_as(&self, other: &Values) -> bool {
        match (self, other) {
            (Values::Fixed(a), Values::Fixed(b)) | (Values::Result(a), Values::Result(b)) => a == b,
            (Values::Bounded(a, _), Values::Bounded(b, _))
            | (Values::BoundedResult(a, _), Values::BoundedResult(b, _)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

/// One dynamic label: its key and values.
#[derive(Clone, Copy)]
pub struct DynLabel {
    /// The label name.
    pub key: &'static str,
    /// Its values.
    pub values: Values,
}

/// What the macro knows about a labelled site beyond [`SiteMeta`](crate::record::site::SiteMeta).
pub struct DynMeta {
    /// In declaration order (the exposition's order, after the constant labels).
    pub labels: &'static [DynLabel],
    /// The error type's values, with `error_kind`.
    pub kinds: Option<&'static [&'static str]>,
}

impl DynMeta {
    /// The product of the labels' value counts.
    #[must_use]
    pub const fn combinations(labels: &[DynLabel]) -> usize {
        let mut product = 1;
        let mut i = 0;
        while i < labels.len() {
            product *= labels[i].values.card();
            i += 1;
        }
        product
    }

    /// Same keys, same values, same kinds: two sites whose series can be merged.
    pub(crate) fn same_as(&self, other: &DynMeta) -> bool {
        self.labels.len() == other.labels.len()
            && self
                .labels
                .iter()
                .zip(other.labels)
                .all(|(a, b)| a.key == b.key && a.values.same_as(&b.values))
            && self.kinds == other.kinds
    }

    /// The label values of combination `combo`, in declaration order (a bounded value not
    /// seen yet reads `_OTHER`).
    pub(crate) fn values_of(&self, combo: usize) -> Vec<(&'static str, &'static str)> {
        let mut rest = combo;
        let mut values = vec![("", ""); self.labels.len()];
        for (label, slot) in self.labels.iter().zip(values.iter_mut()).rev() {
            let card = label.values.card();
            let name = label
                .values
                .name(rest % card)
                .map_or(OVERFLOW, |(name, _)| name);
            *slot = (label.key, name);
            rest /= card;
        }
        values
    }

    /// The combination index of the labels of one side (arguments or result), each index
    /// clamped to its label's range; `none` puts the result labels at `_NONE`.
    #[inline]
    pub(crate) fn part(&self, indices: &[usize], from_result: bool, none: bool) -> usize {
        let mut stride = 1;
        let mut sum = 0;
        let mut next = indices.len();
        for label in self.labels.iter().rev() {
            let card = label.values.card();
            if label.values.reads_result() == from_result {
                // A result label's last slot is `_NONE`: an index out of range counts under
                // its last value, as for every other label, not there.
                let last = if from_result {
                    card.saturating_sub(2)
                } else {
                    card - 1
                };
                let i = if none {
                    card - 1
                } else {
                    next = next.saturating_sub(1);
                    indices.get(next).copied().unwrap_or(0).min(last)
                };
                sum += i * stride;
            }
            stride *= card;
        }
        sum
    }
}

/// A labelled site seen from the scraper.
pub trait Labelled: Sync {
    /// Its dynamic labels and kinds.
    fn dynamic(&self) -> &DynMeta;
    /// How many combinations.
    fn combinations(&self) -> usize;
    /// Adds combination `combo`'s counters into `into` and `kinds` (which has room for every
    /// kind and `_NONE`); false if it was never called.
    #[doc(hidden)]
    fn add_combo(&self, combo: usize, into: &mut ReadingSlot<'_>, kinds: &mut [u64]) -> bool;
    /// Calls in flight, all combinations.
    fn in_flight(&self) -> i64;
}
