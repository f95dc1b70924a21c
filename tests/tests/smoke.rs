use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::{calls, histogram};

#[instrument_metrics]
fn parse_num(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

#[test]
fn smoke() {
    assert_eq!(calls("parse_num"), [0, 0, 0, 0]);
    parse_num("1").unwrap();
    parse_num("x").unwrap_err();
    assert_eq!(calls("parse_num"), [1, 1, 0, 0]);
    let (c, inf, _) = histogram("parse_num");
    assert_eq!((c, inf), (2, 2));
    println!("{}", instrument_metrics::render());
}
