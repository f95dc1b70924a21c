//! `crate = path` for crates that re-export the runtime: here a module stands for the
//! re-exporting crate.
#![deny(warnings)]
#![deny(clippy::pedantic)]

mod reexport {
    pub use instrument_metrics;
}

mod deeper {
    pub mod metrics {
        pub use instrument_metrics::*;
    }
}

use reexport::instrument_metrics::instrument_metrics as measured;

#[measured(crate = reexport::instrument_metrics)]
fn via_module() -> Result<u8, String> {
    Ok(1)
}

#[reexport::instrument_metrics::instrument_metrics(crate = crate::reexport::instrument_metrics)]
async fn via_crate_path() -> u8 {
    2
}

#[deeper::metrics::instrument_metrics(crate = self::deeper::metrics, in_flight)]
fn via_glob() -> u8 {
    3
}

pub struct S;

#[measured(crate = reexport::instrument_metrics)]
impl S {
    fn method(&self) -> u8 {
        let _ = self;
        4
    }

    #[measured(name = "S::other")]
    fn other() -> u8 {
        5
    }
}

mod inner {
    #[super::measured(crate = super::reexport::instrument_metrics)]
    pub fn relative() -> u8 {
        6
    }
}

fn main() {
    assert_eq!(via_module(), Ok(1));
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(via_crate_path()), 2);
    assert_eq!(via_glob(), 3);
    assert_eq!(S.method(), 4);
    assert_eq!(S::other(), 5);
    assert_eq!(inner::relative(), 6);
    let text = reexport::instrument_metrics::render();
    assert!(text.contains("function=\"via_module\""));
    assert!(text.contains("function=\"S::method\""));
    assert!(text.contains("function=\"S::other\""));
    assert!(text.contains("function=\"relative\""));
}
