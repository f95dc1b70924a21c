//! `#[async_trait]` with `#[instrument_metrics]` on a method, and on the impl block in
//! either order.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use async_trait::async_trait;
use instrument_metrics::instrument_metrics;

#[async_trait]
trait Repo {
    async fn get(&self, id: u32) -> Result<u32, String>;
    async fn put(&mut self, id: u32);

    #[instrument_metrics]
    async fn get_or_zero(&self, id: u32) -> u32 {
        self.get(id).await.unwrap_or(0)
    }
}

struct MethodLevel(u32);

#[async_trait]
impl Repo for MethodLevel {
    #[instrument_metrics]
    async fn get(&self, id: u32) -> Result<u32, String> {
        if id == 0 {
            return Err("zero".to_owned());
        }
        Ok(self.0 + id)
    }

    #[instrument_metrics(name = "method_level_put")]
    async fn put(&mut self, id: u32) {
        self.0 = id;
    }
}

struct OuterInstrument(u32);

#[instrument_metrics]
#[async_trait]
impl Repo for OuterInstrument {
    async fn get(&self, id: u32) -> Result<u32, String> {
        let n: u32 = id.to_string().parse().map_err(|_| String::new())?;
        Ok(self.0 + n)
    }

    async fn put(&mut self, id: u32) {
        self.0 = id;
    }
}

struct InnerInstrument(u32);

#[async_trait]
#[instrument_metrics]
impl Repo for InnerInstrument {
    async fn get(&self, id: u32) -> Result<u32, String> {
        Ok(self.0 + id)
    }

    async fn put(&mut self, id: u32) {
        self.0 = id;
    }
}

#[async_trait(?Send)]
trait Local {
    async fn run(&self) -> u32;
}

#[async_trait(?Send)]
impl Local for InnerInstrument {
    #[instrument_metrics]
    async fn run(&self) -> u32 {
        self.0
    }
}

async fn exercise(repo: &mut (dyn Repo + Send + Sync)) -> u32 {
    repo.put(1).await;
    let _ = repo.get(0).await;
    repo.get(1).await.unwrap() + repo.get_or_zero(1).await
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        assert_eq!(exercise(&mut MethodLevel(0)).await, 4);
        assert_eq!(exercise(&mut OuterInstrument(0)).await, 4);
        assert_eq!(exercise(&mut InnerInstrument(0)).await, 4);
        assert_eq!(InnerInstrument(7).run().await, 7);
        let spawned = tokio::spawn(async { MethodLevel(1).get(1).await });
        assert_eq!(spawned.await.unwrap(), Ok(2));
    });

    let text = instrument_metrics::render();
    assert!(text.contains("function=\"OuterInstrument::get\""));
    assert!(text.contains("function=\"InnerInstrument::put\""));
    assert!(text.contains("function=\"method_level_put\""));
    assert!(text.contains("function=\"get_or_zero\""));
}
