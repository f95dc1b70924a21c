//! Dynamic labels and `error_kind` on each fn kind, with exact counts per combination: the
//! label functions and site statics the attribute emits compile and count alike in every
//! edition.

use std::collections::BTreeMap;

use instrument_metrics::{instrument_metrics, LabelValue};

use crate::support::block_on;

#[derive(LabelValue, Clone, Copy, Debug)]
pub enum Tier {
    Free,
    Pro,
}

#[derive(LabelValue, Debug)]
#[allow(dead_code)] // variants may carry data; only their names are labels
pub enum Failure {
    Missing,
    Busy { retry: u32 },
}

/// `function_calls_total` of `function` in this module: the labels other than
/// `function`/`module` (sorted), and the value.
fn calls(function: &str) -> BTreeMap<String, u64> {
    let module = module_path!();
    instrument_metrics_tests::parse(&instrument_metrics::render())
        .into_iter()
        .filter(|s| {
            s.name == "function_calls_total"
                && s.labels.get("function").map(String::as_str) == Some(function)
                && s.labels.get("module").map(String::as_str) == Some(module)
        })
        .map(|s| {
            let key: Vec<String> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "function" && *k != "module")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            (key.join(","), s.value as u64)
        })
        .collect()
}

fn nonzero(m: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    m.iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| (k.as_str(), *v))
        .collect()
}

#[instrument_metrics(labels(tier = tier, tenant = bounded(tenant, 1)), error_kind)]
fn free(tier: Tier, tenant: &str) -> Result<u8, Failure> {
    match tier {
        Tier::Free => Err(Failure::Missing),
        Tier::Pro => Ok(tenant.len() as u8),
    }
}

#[instrument_metrics(labels(tier = tier, hit = |r| r.is_ok()), error_kind)]
async fn async_fn(tier: Tier) -> std::io::Result<u8> {
    match tier {
        Tier::Free => Err(std::io::ErrorKind::NotFound.into()),
        Tier::Pro => Ok(1),
    }
}

#[allow(clippy::manual_async_fn)]
#[instrument_metrics(labels(tier = tier))]
fn impl_future(tier: Tier) -> impl std::future::Future<Output = Result<u8, Failure>> {
    async move {
        match tier {
            Tier::Free => Err(Failure::Busy { retry: 1 }),
            Tier::Pro => Ok(2),
        }
    }
}

pub struct S {
    tier: Tier,
}

#[instrument_metrics(error_kind)]
impl S {
    #[instrument_metrics(labels(tier: Tier = self.tier))]
    fn by_ref(&self) -> Result<(), Failure> {
        Err(Failure::Missing)
    }

    fn plain(&self) -> usize {
        7
    }
}

#[test]
fn dynamic_labels_and_error_kinds() {
    assert!(free(Tier::Free, "a").is_err());
    assert_eq!(free(Tier::Pro, "a").ok(), Some(1));
    assert_eq!(free(Tier::Pro, "bb").ok(), Some(2));
    let got = calls("free");
    assert_eq!(
        nonzero(&got),
        [
            ("error_kind=Missing,result=error,tenant=a,tier=Free", 1),
            ("result=ok,tenant=_OTHER,tier=Pro", 1),
            ("result=ok,tenant=a,tier=Pro", 1),
        ]
    );
    assert_eq!(got["result=ok,tenant=a,tier=Free"], 0);

    block_on(async {
        assert!(async_fn(Tier::Free).await.is_err());
        assert!(async_fn(Tier::Pro).await.is_ok());
        assert!(impl_future(Tier::Free).await.is_err());
    });
    assert_eq!(
        nonzero(&calls("async_fn")),
        [
            ("error_kind=NotFound,hit=false,result=error,tier=Free", 1),
            ("hit=true,result=ok,tier=Pro", 1),
        ]
    );
    assert_eq!(
        nonzero(&calls("impl_future")),
        [("result=error,tier=Free", 1)]
    );

    let s = S { tier: Tier::Pro };
    assert!(s.by_ref().is_err());
    assert_eq!(s.plain(), 7);
    assert_eq!(
        nonzero(&calls("S::by_ref")),
        [("error_kind=Missing,result=error,tier=Pro", 1)]
    );
    assert_eq!(nonzero(&calls("S::plain")), [("result=ok", 1)]);
    assert_eq!(calls("S::plain").len(), 4);
}
