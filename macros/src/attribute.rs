//! Telling our own attribute apart from the others on an item or its methods.

use syn::{Attribute, ImplItem, ItemImpl};

/// Is this attribute ours (`instrument_metrics` or `…::instrument_metrics`)?
pub(crate) fn is_ours(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "instrument_metrics")
}

/// Removes the methods' own attributes, so an impl emitted untouched adds no second error.
pub(crate) fn strip_inner_attributes(block: &mut ItemImpl) {
    for item in &mut block.items {
        if let ImplItem::Fn(f) = item {
            f.attrs.retain(|a| !is_ours(a));
        }
    }
}
