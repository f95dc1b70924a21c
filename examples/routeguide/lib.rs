//! gRPC's RouteGuide, instrumented: every handler wears `#[instrument_metrics(error_kind)]`
//! (its `tonic::Status` gives the result and the code), the server the gRPC layer, the client
//! the client layer. It behaves so that every outcome can be provoked:
//!
//! - `GetFeature`: `(0,0)` is `NOT_FOUND`, `latitude > 900000000` `INVALID_ARGUMENT`, `(1,1)`
//!   `INTERNAL`; `longitude == 2` sleeps `latitude` milliseconds first; anything else is a
//!   feature named `f{lat},{lon}`;
//! - `ListFeatures`: one feature per latitude from `lo` to `hi` inclusive (at most 1,000),
//!   `INVALID_ARGUMENT` if `lo.latitude > hi.latitude`;
//! - `RecordRoute`: counts the points; `INTERNAL` at the end if one was `(1,1)`;
//! - `RouteChat`: echoes each note; a note saying `boom` ends the stream with `INTERNAL`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use instrument_metrics::instrument_metrics;
use tokio_stream::{Stream, StreamExt as _};
use tonic::{Request, Response, Status, Streaming};

/// The generated messages, server and client, and the encoded descriptor set.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod pb {
    tonic::include_proto!("routeguide");

    /// The encoded `FileDescriptorSet` of `route_guide.proto`: for
    /// `instrument_metrics::grpc::register_descriptors` and tonic-reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/route_guide_descriptor.bin"));
}

use pb::route_guide_client::RouteGuideClient;
use pb::route_guide_server::{RouteGuide, RouteGuideServer};
use pb::{Feature, Point, Rectangle, RouteNote, RouteSummary};

/// The most features one `ListFeatures` answers with.
pub const MAX_FEATURES: i32 = 1_000;

type Answers<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The RouteGuide service.
#[derive(Clone, Copy, Debug, Default)]
pub struct Guide;

fn feature(lat: i32, lon: i32) -> Feature {
    Feature {
        name: format!("f{lat},{lon}"),
        location: Some(Point {
            latitude: lat,
            longitude: lon,
        }),
    }
}

#[instrument_metrics(error_kind)]
#[tonic::async_trait]
impl RouteGuide for Guide {
    async fn get_feature(&self, request: Request<Point>) -> Result<Response<Feature>, Status> {
        let p = request.into_inner();
        match (p.latitude, p.longitude) {
            (0, 0) => return Err(Status::not_found("no feature at (0,0)")),
            (lat, _) if lat > 900_000_000 => {
                return Err(Status::invalid_argument("latitude above 900000000"))
            }
            (1, 1) => return Err(Status::internal("(1,1) always fails")),
            (lat, 2) => {
                tokio::time::sleep(Duration::from_millis(u64::try_from(lat).unwrap_or(0))).await;
            }
            // Blocks its worker thread for `lat` ms (what a handler must not do, and what the
            // layers' `polls` show as slow polls); not part of the `load` rounds.
            (lat, 3) => {
                std::thread::sleep(Duration::from_millis(u64::try_from(lat).unwrap_or(0)));
            }
            _ => {}
        }
        Ok(Response::new(feature(p.latitude, p.longitude)))
    }

    type ListFeaturesStream = Answers<Feature>;

    async fn list_features(
        &self,
        request: Request<Rectangle>,
    ) -> Result<Response<Self::ListFeaturesStream>, Status> {
        let r = request.into_inner();
        let lo = r.lo.unwrap_or_default();
        let hi = r.hi.unwrap_or_default();
        if lo.latitude > hi.latitude {
            return Err(Status::invalid_argument("lo.latitude > hi.latitude"));
        }
        let last = hi
            .latitude
            .min(lo.latitude.saturating_add(MAX_FEATURES - 1));
        let lon = lo.longitude;
        let features = tokio_stream::iter(lo.latitude..=last).map(move |lat| Ok(feature(lat, lon)));
        Ok(Response::new(Box::pin(features)))
    }

    async fn record_route(
        &self,
        request: Request<Streaming<Point>>,
    ) -> Result<Response<RouteSummary>, Status> {
        let start = Instant::now();
        let mut points = request.into_inner();
        let (mut count, mut poisoned) = (0i32, false);
        while let Some(p) = points.next().await {
            let p = p?;
            count = count.saturating_add(1);
            poisoned |= p.latitude == 1 && p.longitude == 1;
        }
        if poisoned {
            return Err(Status::internal("the route passed (1,1)"));
        }
        Ok(Response::new(RouteSummary {
            point_count: count,
            feature_count: count,
            distance: 0,
            elapsed_time: i32::try_from(start.elapsed().as_secs()).unwrap_or(i32::MAX),
        }))
    }

    type RouteChatStream = Answers<RouteNote>;

    async fn route_chat(
        &self,
        request: Request<Streaming<RouteNote>>,
    ) -> Result<Response<Self::RouteChatStream>, Status> {
        let notes = request.into_inner();
        // Echo each note; a `boom` ends the stream with its error, and nothing after it.
        let echoes = notes
            .map(|note| match note {
                Ok(n) if n.message == "boom" => Err(Status::internal("boom")),
                other => other,
            })
            .take_while_inclusive(Result::is_ok);
        Ok(Response::new(Box::pin(echoes)))
    }
}

trait TakeWhileInclusive: Stream + Sized {
    /// Items while `keep` holds, and the first one for which it does not.
    fn take_while_inclusive(
        self,
        keep: fn(&Self::Item) -> bool,
    ) -> impl Stream<Item = Self::Item> + Send
    where
        Self: Send + 'static,
        Self::Item: Send,
    {
        let mut done = false;
        self.take_while(move |item| {
            if done {
                return false;
            }
            done = !keep(item);
            true
        })
    }
}

impl<S: Stream> TakeWhileInclusive for S {}

/// The RouteGuide service as a tonic server, for `Server::builder().add_service(…)`.
#[must_use]
pub fn service() -> RouteGuideServer<Guide> {
    RouteGuideServer::new(Guide)
}

/// Declares RouteGuide's and reflection's methods to the metrics (exact `grpc_type`, series
/// at 0). Call it before the first call, client or server: a call made before is counted
/// under `grpc_type="unknown"` for good.
///
/// # Errors
/// When the descriptors are refused.
pub fn declare() -> Result<(), instrument_metrics::Error> {
    instrument_metrics::grpc::register_descriptors(pb::FILE_DESCRIPTOR_SET)?;
    instrument_metrics::grpc::register_descriptors(tonic_reflection_descriptors())
}

/// Serves RouteGuide and gRPC reflection on `listener` (h2c) with the metrics layer, after
/// [`declare`]-ing both descriptor sets, until `shutdown` completes.
///
/// # Errors
/// When the descriptors are refused or the server fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    declare()?;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    tonic::transport::Server::builder()
        .layer(instrument_metrics::grpc::layer())
        .add_service(service())
        .add_service(reflection)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown,
        )
        .await?;
    Ok(())
}

fn tonic_reflection_descriptors() -> &'static [u8] {
    tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET
}

/// A RouteGuide client whose calls go through the metrics client layer.
pub type Client =
    RouteGuideClient<instrument_metrics::grpc::ClientMetrics<tonic::transport::Channel>>;

/// A client of `addr` whose calls go through the metrics client layer.
///
/// # Errors
/// When the address is not one a channel can be made for.
pub fn client(addr: SocketAddr) -> Result<Client, tonic::transport::Error> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?.connect_lazy();
    let channel = tower::ServiceBuilder::new()
        .layer(instrument_metrics::grpc::client_layer())
        .service(channel);
    Ok(RouteGuideClient::new(channel))
}

fn point(latitude: i32, longitude: i32) -> Point {
    Point {
        latitude,
        longitude,
    }
}

fn note(message: &str) -> RouteNote {
    RouteNote {
        location: Some(point(5, 5)),
        message: message.to_owned(),
    }
}

/// The calls of one round of `--load`, and the code each ends with (see [`load`]).
pub const ROUND: [(&str, &str); 12] = [
    ("GetFeature", "OK"),
    ("GetFeature", "NotFound"),
    ("GetFeature", "InvalidArgument"),
    ("GetFeature", "Internal"),
    ("GetFeature", "DeadlineExceeded"),
    ("ListFeatures", "OK"),
    ("ListFeatures", "InvalidArgument"),
    ("RecordRoute", "OK"),
    ("RecordRoute", "Internal"),
    ("RouteChat", "OK"),
    ("RouteChat", "Internal"),
    ("RouteChat", "OK"),
];

/// Drives `rounds` rounds of [`ROUND`] through `client`, one call at a time. Per round, as
/// both sides count them:
///
/// | method | calls | messages to the server | messages to the client |
/// |---|---|---|---|
/// | `GetFeature` | 5 (`OK`, `NotFound`, `InvalidArgument`, `Internal`, `DeadlineExceeded`) | 5 | 1 |
/// | `ListFeatures` | 2 (`OK` with 5 features, `InvalidArgument`) | 2 | 5 |
/// | `RecordRoute` | 2 (`OK` with 3 points, `Internal` with 2) | 5 | 1 |
/// | `RouteChat` | 3 (`OK` echoing 3, `Internal` after 1 echo, `OK` with none) | 5 | 4 |
///
/// # Errors
/// When a call ends with another code than [`ROUND`] says (the service misbehaves).
pub async fn load(
    client: &mut RouteGuideClient<
        instrument_metrics::grpc::ClientMetrics<tonic::transport::Channel>,
    >,
    rounds: u32,
) -> Result<(), String> {
    for _ in 0..rounds {
        let mut got: Vec<(&str, tonic::Code)> = Vec::new();
        for p in [
            point(10, 10),
            point(0, 0),
            point(900_000_001, 0),
            point(1, 1),
        ] {
            got.push(("GetFeature", code(client.get_feature(p).await)));
        }
        // A deadline of 50 ms on a call that sleeps 400: the server gives up first.
        let mut late = Request::new(point(400, 2));
        late.set_timeout(Duration::from_millis(50));
        got.push(("GetFeature", code(client.get_feature(late).await)));
        for (lo, hi) in [(1, 5), (9, 3)] {
            let r = Rectangle {
                lo: Some(point(lo, 7)),
                hi: Some(point(hi, 7)),
            };
            let c = match client.list_features(r).await {
                Ok(s) => drain(s.into_inner()).await,
                Err(s) => s.code(),
            };
            got.push(("ListFeatures", c));
        }
        for points in [
            vec![point(2, 2), point(3, 3), point(4, 4)],
            vec![point(5, 5), point(1, 1)],
        ] {
            got.push((
                "RecordRoute",
                code(client.record_route(tokio_stream::iter(points)).await),
            ));
        }
        for notes in [
            vec![note("a"), note("b"), note("c")],
            vec![note("a"), note("boom")],
            vec![],
        ] {
            let c = match client.route_chat(tokio_stream::iter(notes)).await {
                Ok(s) => drain(s.into_inner()).await,
                Err(s) => s.code(),
            };
            got.push(("RouteChat", c));
        }
        for ((method, want), (m, c)) in ROUND.iter().zip(&got) {
            let name = instrument_metrics::LabelValue::index(c);
            let name = <tonic::Code as instrument_metrics::LabelValue>::VALUES[name];
            // tonic's server answers an expired deadline with `Cancelled`; the metrics of both
            // sides say `DeadlineExceeded`, as gRPC's spec does.
            let name = if *want == "DeadlineExceeded" && name == "Canceled" {
                "DeadlineExceeded"
            } else {
                name
            };
            if method != m || *want != name {
                return Err(format!("{m} ended {name}, expected {want}"));
            }
        }
    }
    Ok(())
}

fn code<T>(r: Result<Response<T>, Status>) -> tonic::Code {
    r.map_or_else(|s| s.code(), |_| tonic::Code::Ok)
}

async fn drain<T>(mut s: Streaming<T>) -> tonic::Code {
    loop {
        match s.message().await {
            Ok(Some(_)) => {}
            Ok(None) => return tonic::Code::Ok,
            Err(e) => return e.code(),
        }
    }
}
