//! The outbound recording, table to call.

use std::sync::atomic::Ordering;

use super::vocabulary::OVERFLOW_ADDRESS;
use super::*;

fn fresh(labels: &[(&str, &str)], limit: usize) -> &'static ClientTable {
    client_table(
        labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        vec![0.1, 1.0],
        vec![10, 100],
        limit,
        None,
    )
    .unwrap_or_else(|(_, why)| panic!("{why}"))
}

#[test]
fn a_series_is_found_again_by_its_labels() {
    let t = fresh(&[("unit", "series")], 10);
    let e = t.endpoint("api.example", 443);
    for status in [200, 404, 200, 500, 200] {
        let mut c = t.begin(0, e, Some(5));
        c.responded(status);
        c.received(50);
        c.finish(CallEnd::Complete);
    }
    let all = e.all_series();
    assert_eq!(all.len(), 3);
    let ok = all
        .iter()
        .find(|s| s.labels() == (0, 200, CallEnd::Complete))
        .unwrap();
    assert_eq!(ok.response_bytes.read(), (vec![0, 3, 0], 150));
    assert_eq!(ok.request_bytes.read(), (vec![3, 0, 0], 15));
    assert_eq!(e.active(), vec![(0, 0)]);
    assert_eq!(&*e.address, "api.example");
    assert_eq!(e.port_label.as_deref(), Some("443"));
}

#[test]
fn a_dropped_call_is_cancelled_and_keeps_its_status() {
    let t = fresh(&[("unit", "drop")], 10);
    let e = t.endpoint("a", 80);
    let mut c = t.begin(2, e, None);
    assert_eq!(e.active(), vec![(2, 1)]);
    c.responded(200);
    c.received(7);
    drop(c);
    let all = e.all_series();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].labels(), (2, 200, CallEnd::Cancelled));
    assert_eq!(all[0].request_bytes.read().0, vec![0, 0, 0]);
    assert_eq!(all[0].response_bytes.read(), (vec![1, 0, 0], 7));
    assert_eq!(e.active(), vec![(2, 0)]);
}

#[test]
fn a_call_without_a_response_has_no_response_size() {
    let t = fresh(&[("unit", "no_response")], 10);
    let e = t.endpoint("a", 80);
    t.begin(0, e, Some(0)).finish(CallEnd::Connect);
    let s = e.all_series()[0];
    assert_eq!(s.labels(), (0, 0, CallEnd::Connect));
    assert_eq!(s.response_bytes.read().0, vec![0, 0, 0]);
    assert_eq!(s.request_bytes.read().0, vec![1, 0, 0]);
    assert_eq!(s.duration_nanos.read().0.iter().sum::<u64>(), 1);
}

#[test]
fn every_ending_keeps_its_code() {
    let t = fresh(&[("unit", "endings")], 10);
    let e = t.endpoint("a", 80);
    for end in CallEnd::ALL {
        let mut c = t.begin(9, e, None);
        c.responded(599);
        c.finish(end);
    }
    let seen: Vec<_> = e.all_series().iter().map(|s| s.labels()).collect();
    let want: Vec<_> = CallEnd::ALL.iter().map(|end| (9, 599, *end)).collect();
    assert_eq!(seen, want);
}

#[test]
fn endpoints_past_the_limit_share_one() {
    let t = fresh(&[("unit", "limit")], 3);
    let names: Vec<String> = (0..10).map(|i| format!("h{i}")).collect();
    let got: Vec<&str> = names.iter().map(|n| &*t.endpoint(n, 80).address).collect();
    assert_eq!(got[..3], ["h0", "h1", "h2"]);
    assert!(got[3..].iter().all(|a| *a == OVERFLOW_ADDRESS));
    assert_eq!(t.address_overflows.load(Ordering::Relaxed), 7);
    // Known ones are still found; a new port of a known address is a new endpoint.
    assert_eq!(&*t.endpoint("h1", 80).address, "h1");
    assert!(std::ptr::eq(t.endpoint("h1", 81), t.overflow));
    assert_eq!(t.overflow.port_label.as_deref(), Some(OVERFLOW_ADDRESS));
    assert_eq!(t.all_endpoints().len(), 4);
}

#[test]
fn addresses_are_normalised() {
    let t = fresh(&[("unit", "normalise")], 10);
    let lower = t.endpoint("api.example", 443);
    assert!(std::ptr::eq(t.endpoint("API.Example", 443), lower));
    let v6 = t.endpoint("[::1]", 8080);
    assert_eq!(&*v6.address, "::1");
    assert!(std::ptr::eq(t.endpoint("::1", 8080), v6));
    assert!(!std::ptr::eq(t.endpoint("api.example", 80), lower));
    assert_eq!(t.endpoint("x", 0).port_label, None);
}

#[test]
fn same_labels_other_buckets_is_an_error() {
    let _ = fresh(&[("unit", "clash")], 10);
    let other = client_table(
        vec![("unit".into(), "clash".into())],
        vec![2.0],
        vec![10, 100],
        10,
        None,
    );
    assert!(other.is_err_and(|(t, _)| t.duration_bounds_seconds == [0.1, 1.0]));
}

#[test]
fn many_threads_count_exactly() {
    let t = fresh(&[("unit", "threads")], 10);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for i in 0..1000u16 {
                    let mut c = t.begin(0, t.endpoint("c", 80), None);
                    c.responded(200 + (i % 3));
                    c.finish(CallEnd::Complete);
                }
            });
        }
    });
    let all = t.endpoint("c", 80).all_series();
    assert_eq!(all.len(), 3);
    let total: u64 = all
        .iter()
        .map(|s| s.duration_nanos.read().0.iter().sum::<u64>())
        .sum();
    assert_eq!(total, 4000);
}
