#![deny(warnings)]
#![deny(clippy::pedantic)]

//! Options whose values arrive through `macro_rules!` fragments (wrapped in invisible groups),
//! and items in scope whose names match the macro's own bindings.

use instrument_metrics::instrument_metrics;

macro_rules! timed {
    ($name:ident, $low:literal, $count:expr, $check:expr) => {
        #[instrument_metrics(buckets = [$low, 1.0])]
        fn $name() -> u32 {
            7
        }

        #[instrument_metrics(buckets = linear($low, $low, $count), ok_if = $check)]
        fn checked() -> u32 {
            8
        }
    };
}

timed!(generated, 0.001, 4, |v: &u32| *v > 1);

#[allow(non_upper_case_globals, dead_code)]
const value: u8 = 0;
#[allow(non_camel_case_types, dead_code)]
struct guard;

#[instrument_metrics]
fn shadows_nothing() -> u8 {
    1
}

trait Named {
    fn name(&self) -> usize;
}

#[instrument_metrics]
impl Named for &str {
    fn name(&self) -> usize {
        self.len()
    }
}

fn main() {
    assert_eq!(generated() + checked(), 15);
    assert_eq!(shadows_nothing(), 1);
    assert_eq!("abc".name(), 3);
    let text = instrument_metrics::render();
    assert!(text.contains("function=\"&str::name\""));
}
