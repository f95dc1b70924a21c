//! `#[instrument_metrics]` on an impl block: every method, `skip` opts one out, a method's
//! own attribute refines the block's options, non-fn items and `const fn` are left alone.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use instrument_metrics::instrument_metrics;

pub struct Service {
    hits: u32,
}

#[instrument_metrics(labels(layer = "service"), buckets = [0.001, 0.01, 0.1])]
impl Service {
    pub const LIMIT: u32 = 10;

    #[must_use]
    pub fn new() -> Self {
        Self { hits: 0 }
    }

    /// Documented method.
    pub fn hit(&mut self) -> u32 {
        self.hits += 1;
        self.hits
    }

    pub async fn load(&self) -> Result<u32, String> {
        if self.hits > Self::LIMIT {
            return Err("too many".to_owned());
        }
        Ok(self.hits)
    }

    #[instrument_metrics(skip)]
    #[must_use]
    pub fn helper(&self) -> u32 {
        self.hits * 2
    }

    #[instrument_metrics(name = "custom")]
    pub fn renamed(&self) -> u32 {
        self.hits
    }

    #[instrument_metrics(in_flight, labels(tier = "1"), buckets = linear(0.5, 0.5, 4))]
    pub fn refined(&self) -> u32 {
        self.hits
    }

    #[instrument_metrics(error_if = |v: &u32| *v == 0)]
    pub fn checked(&self) -> u32 {
        self.hits
    }

    #[must_use]
    pub const fn limit() -> u32 {
        Self::LIMIT
    }

    pub(crate) unsafe fn raw(&self) -> u32 {
        self.hits
    }
}

impl Default for Service {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Empty;

#[instrument_metrics]
impl Empty {}

pub struct NotSync(*const u8);

#[instrument_metrics]
unsafe impl Sync for NotSync {}

fn main() {
    let mut s = Service::default();
    assert_eq!(s.hit(), 1);
    assert_eq!(s.helper(), 2);
    assert_eq!(s.renamed(), 1);
    assert_eq!(s.refined(), 1);
    assert_eq!(s.checked(), 1);
    assert_eq!(Service::limit(), 10);
    assert_eq!(unsafe { s.raw() }, 1);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(s.load()), Ok(1));
    let _ = NotSync(std::ptr::null()).0;

    let text = instrument_metrics::render();
    assert!(text.contains("function=\"Service::hit\""));
    assert!(text.contains("function=\"Service::load\""));
    assert!(text.contains("function=\"custom\""));
    assert!(text.contains("function_calls_in_flight{function=\"Service::refined\""));
    assert!(!text.contains("function=\"Service::helper\""));
    assert!(!text.contains("function=\"Service::limit\""));
    assert!(text.contains("layer=\"service\""));
    assert!(text.contains("tier=\"1\""));
}
