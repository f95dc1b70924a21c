//! The HTTP recording, table to exchange.

use std::sync::atomic::Ordering;

use super::vocabulary::{
    method_index, method_index_str, OTHER_METHOD, OVERFLOW_ROUTE, UNMATCHED_ROUTE,
};
use super::*;

fn fresh(labels: &[(&str, &str)], limit: usize) -> &'static Table {
    table(
        labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        vec![0.1, 1.0],
        vec![10, 100],
        limit,
        None,
        None,
    )
    .unwrap_or_else(|(_, why)| panic!("{why}"))
}

#[test]
fn methods_outside_the_standard_set_are_other() {
    assert_eq!(
        METHODS[usize::from(method_index(&http::Method::GET))],
        "GET"
    );
    assert_eq!(
        METHODS[usize::from(method_index(&http::Method::PATCH))],
        "PATCH"
    );
    let odd = http::Method::from_bytes(b"BREW").unwrap();
    assert_eq!(METHODS[usize::from(method_index(&odd))], "_OTHER");
}

#[test]
fn methods_by_name_agree_with_methods_by_type() {
    for name in METHODS.iter().take(usize::from(OTHER_METHOD)) {
        let typed = http::Method::from_bytes(name.as_bytes()).unwrap();
        assert_eq!(method_index_str(name), method_index(&typed), "{name}");
        assert_eq!(METHODS[usize::from(method_index_str(name))], *name);
    }
    for odd in ["BREW", "get", "PROPFIND", ""] {
        assert_eq!(method_index_str(odd), OTHER_METHOD, "{odd:?}");
    }
}

#[test]
fn a_series_is_found_again_by_its_labels() {
    let t = fresh(&[("unit", "series")], 10);
    let r = t.route("/a", false);
    for status in [200, 404, 200, 500, 200] {
        let mut x = t.begin(0, r, Some(5));
        x.responded(status);
        x.sent(50);
        x.finish(Ending::Complete);
    }
    let all = r.all_series();
    assert_eq!(all.len(), 3);
    let ok = all
        .iter()
        .find(|s| s.labels() == (0, 200, Ending::Complete))
        .unwrap();
    let (buckets, sum) = ok.response_bytes.read();
    assert_eq!((buckets, sum), (vec![0, 3, 0], 150));
    let (req, req_sum) = ok.request_bytes.read();
    assert_eq!((req, req_sum), (vec![3, 0, 0], 15));
    assert_eq!(t.active(), vec![(0, 0)]);
}

#[test]
fn a_dropped_exchange_is_cancelled_and_keeps_its_status() {
    let t = fresh(&[("unit", "drop")], 10);
    let r = t.route("/b", false);
    let mut x = t.begin(2, r, None);
    x.responded(200);
    drop(x);
    let all = r.all_series();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].labels(), (2, 200, Ending::Cancelled));
    assert_eq!(all[0].request_bytes.read().0, vec![0, 0, 0]);
}

#[test]
fn a_rerouted_exchange_is_recorded_on_its_new_route_and_an_abandoned_one_not_at_all() {
    let t = fresh(&[("unit", "reroute")], 10);
    let (first, second) = (t.unmatched(), t.route("/d", false));
    let mut x = t.begin(0, first, None);
    x.reroute(second);
    x.responded(200);
    x.finish(Ending::Complete);
    assert!(first.all_series().is_empty());
    assert_eq!(second.all_series().len(), 1);
    let x = t.begin(0, first, None);
    assert_eq!(t.active(), vec![(0, 1)]);
    x.abandon();
    assert_eq!(t.active(), vec![(0, 0)]);
    assert!(first.all_series().is_empty());
    assert_eq!(second.all_series().len(), 1);
}

#[test]
fn routes_past_the_limit_share_one_value() {
    let t = fresh(&[("unit", "limit")], 3);
    let names: Vec<String> = (0..10).map(|i| format!("/r{i}")).collect();
    let routes: Vec<&str> = names.iter().map(|n| &*t.route(n, false).name).collect();
    assert_eq!(routes[..3], ["/r0", "/r1", "/r2"]);
    assert!(routes[3..].iter().all(|r| *r == OVERFLOW_ROUTE));
    assert_eq!(t.route_overflows.load(Ordering::Relaxed), 7);
    assert_eq!(&*t.unmatched().name, UNMATCHED_ROUTE);
    assert_eq!(&*t.route("/r1", true).name, "/r1");
}

#[test]
fn the_unmatched_route_takes_no_place_under_the_limit() {
    let t = fresh(&[("unit", "limit_unmatched")], 2);
    assert_eq!(&*t.unmatched().name, UNMATCHED_ROUTE);
    assert_eq!(&*t.route("/a", false).name, "/a");
    assert_eq!(&*t.route("/b", false).name, "/b");
    assert_eq!(&*t.route("/c", false).name, OVERFLOW_ROUTE);
    assert_eq!(t.route_overflows.load(Ordering::Relaxed), 1);
}

#[test]
fn a_remembered_address_is_checked_by_content() {
    let t = fresh(&[("unit", "remember")], 10);
    let mut buf = String::from("/first");
    assert_eq!(&*t.route(&buf, true).name, "/first");
    // Same address, same length, other text: as if a router was dropped and its memory reused.
    buf.replace_range(.., "/other");
    assert_eq!(&*t.route(&buf, true).name, "/other");
    assert_eq!(&*t.route(&buf, true).name, "/other");
}

#[test]
fn same_labels_other_buckets_is_an_error() {
    let _ = fresh(&[("unit", "clash")], 10);
    let other = table(
        vec![("unit".into(), "clash".into())],
        vec![2.0],
        vec![10, 100],
        10,
        None,
        None,
    );
    assert!(other.is_err_and(|(t, _)| t.duration_bounds_seconds == [0.1, 1.0]));
    let same = table(
        vec![("unit".into(), "clash".into())],
        vec![0.1, 1.0],
        vec![10, 100],
        10,
        None,
        None,
    );
    assert!(same.is_ok());
}

#[test]
fn many_threads_count_exactly() {
    let t = fresh(&[("unit", "threads")], 10);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let r = t.route("/c", false);
                for i in 0..1000u16 {
                    let mut x = t.begin(0, r, None);
                    x.responded(200 + (i % 3));
                    x.finish(Ending::Complete);
                }
            });
        }
    });
    let all = t.route("/c", false).all_series();
    assert_eq!(all.len(), 3);
    let total: u64 = all
        .iter()
        .map(|s| s.duration_nanos.read().0.iter().sum::<u64>())
        .sum();
    assert_eq!(total, 4000);
}

#[test]
fn threads_past_the_owned_shards_and_exchanges_that_change_threads_count_exactly() {
    let t = fresh(&[("unit", "shared_shards")], 10);
    let r = t.route("/s", false);
    // More threads live at once than there are owned shards: some write the shared ones.
    let threads = 2 * crate::record::slots::layout().total();
    let barrier = std::sync::Barrier::new(threads);
    // Begun on this thread, finished on another: in flight goes up in one shard, down in another.
    let begun: Vec<Exchange> = (0..threads).map(|_| t.begin(2, r, Some(7))).collect();
    assert_eq!(t.active(), vec![(2, i64::try_from(threads).unwrap())]);
    std::thread::scope(|s| {
        for mut x in begun {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                x.responded(201);
                x.sent(3);
                x.finish(Ending::Complete);
                for _ in 0..100 {
                    let mut y = t.begin(2, r, None);
                    y.responded(201);
                    y.finish(Ending::Complete);
                }
            });
        }
    });
    let n = threads as u64;
    let all = r.all_series();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].duration_nanos.read().0.iter().sum::<u64>(), n * 101);
    assert_eq!(all[0].request_bytes.read(), (vec![n, 0, 0], 7 * n));
    assert_eq!(all[0].response_bytes.read(), (vec![n * 101, 0, 0], 3 * n));
    assert_eq!(t.active(), vec![(2, 0)]);
}

#[test]
fn a_kept_route_string_is_known_again_by_its_address_and_kept_once() {
    use std::sync::Arc;
    let t = fresh(&[("unit", "kept")], 10);
    let template: Arc<str> = Arc::from("/kept/{id}");
    let kept = {
        let template = Arc::clone(&template);
        move || -> table::Keep { Box::new(template) }
    };
    let first = t.route_kept(&template, kept);
    assert_eq!(&*first.name, "/kept/{id}");
    // The remembered entry owns a clone: that text stays at that address.
    assert_eq!(Arc::strong_count(&template), 2);
    let again = t.route_kept(&template, || unreachable!("known by its address"));
    assert!(std::ptr::eq(first, again));
    // The same text elsewhere is the same route, found by content.
    let other: Arc<str> = Arc::from("/kept/{id}");
    assert!(std::ptr::eq(
        t.route_kept(&other, || Box::new(Arc::clone(&other))),
        first
    ));
}
