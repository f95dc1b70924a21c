//! `tonic::Code` and `tonic::Status` as outcomes and label values (feature `tonic`): the
//! codes that say the server failed are `error`, the others (a caller's mistake, like a 4xx)
//! `ok`; the label value is the code's Go name, as `grpc_code` spells it.
//!
//! ```
//! use instrument_metrics::{instrument_metrics, ClassifyOutcome, LabelValue, Outcome};
//! use tonic::{Code, Status};
//!
//! assert_eq!(Status::internal("disk on fire").outcome(), Outcome::Error);
//! assert_eq!(Status::not_found("no such feature").outcome(), Outcome::Ok);
//! assert_eq!(Code::VALUES[Code::NotFound.index()], "NotFound");
//!
//! #[instrument_metrics(error_kind)]
//! fn feature(id: u32) -> Result<String, Status> {
//!     match id {
//!         0 => Err(Status::not_found("none")),
//!         1 => Err(Status::unavailable("store down")),
//!         _ => Ok(format!("feature {id}")),
//!     }
//! }
//!
//! for id in 0..3 {
//!     let _ = feature(id);
//! }
//! let text = instrument_metrics::render();
//! assert!(text.contains(r#"function_calls_total{function="feature",module="rust_out",result="error",error_kind="Unavailable"} 1"#));
//! ```

use tonic::{Code, Status};

use crate::record::grpc::CODES;
use crate::record::labels::LabelValue;
use crate::record::outcome::{ClassifyOutcome, Outcome};

/// `error` for the codes that say the server failed (`Unknown`, `DeadlineExceeded`,
/// `Unimplemented`, `Internal`, `Unavailable`, `DataLoss`), `ok` for every other one.
///
/// ```
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// assert_eq!(tonic::Code::DeadlineExceeded.outcome(), Outcome::Error);
/// assert_eq!(tonic::Code::InvalidArgument.outcome(), Outcome::Ok);
/// ```
impl ClassifyOutcome for Code {
    fn outcome(&self) -> Outcome {
        match self {
            Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss => Outcome::Error,
            _ => Outcome::Ok,
        }
    }
}

/// By its code.
///
/// ```
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// assert_eq!(tonic::Status::data_loss("torn write").outcome(), Outcome::Error);
/// ```
impl ClassifyOutcome for Status {
    fn outcome(&self) -> Outcome {
        self.code().outcome()
    }
}

/// The code's Go name (`NotFound`), as `grpc_code` spells it.
///
/// ```
/// use instrument_metrics::LabelValue;
/// assert_eq!(tonic::Code::VALUES.len(), 17);
/// assert_eq!(tonic::Code::VALUES[tonic::Code::Cancelled.index()], "Canceled");
/// ```
impl LabelValue for Code {
    const VALUES: &'static [&'static str] = &CODES;
    fn index(&self) -> usize {
        // `Code` is 0..=16 in gRPC's numbering; anything else would be `Unknown`.
        let i = *self as usize;
        if i < CODES.len() {
            i
        } else {
            2
        }
    }
}

/// By its code.
///
/// ```
/// use instrument_metrics::LabelValue;
/// assert_eq!(tonic::Status::VALUES[tonic::Status::aborted("retry").index()], "Aborted");
/// ```
impl LabelValue for Status {
    const VALUES: &'static [&'static str] = &CODES;
    fn index(&self) -> usize {
        self.code().index()
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use crate::record::grpc::CODES;
    use crate::record::labels::LabelValue;
    use crate::record::outcome::{ClassifyOutcome, Outcome};

    #[test]
    fn every_code_has_its_go_name_and_outcome() {
        let errors = [2, 4, 12, 13, 14, 15];
        for i in 0..17 {
            let code = Code::from_i32(i);
            let i = usize::try_from(i).unwrap();
            assert_eq!(code.index(), i);
            assert_eq!(CODES[code.index()].len() > 1, true);
            let want = if errors.contains(&i) {
                Outcome::Error
            } else {
                Outcome::Ok
            };
            assert_eq!(code.outcome(), want, "{code:?}");
        }
        assert_eq!(CODES[Code::Ok.index()], "OK");
        assert_eq!(CODES[Code::Unauthenticated.index()], "Unauthenticated");
    }
}
