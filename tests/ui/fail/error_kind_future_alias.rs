use std::future::Future;
use std::pin::Pin;

use instrument_metrics::{instrument_metrics, LabelValue};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, LabelValue)]
enum LoadError {
    Missing,
}

// The measured future's output is hidden behind the alias: error_kind has nothing to read.
#[instrument_metrics(error_kind)]
fn load(id: u32) -> BoxFuture<'static, Result<u32, LoadError>> {
    Box::pin(async move {
        if id == 0 {
            return Err(LoadError::Missing);
        }
        Ok(id)
    })
}

fn main() {
    drop(load(1));
}
