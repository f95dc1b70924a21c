//! The catalog: every family this crate owns, in groups, as rows read once per scrape.
//!
//! - `functions`: the function families, from the call sites (merged by labels);
//! - `http`: the HTTP server families, from the tower layer's and actix middleware's tables;
//! - `http_client`: the HTTP client families, from the client layer's and reqwest
//!   middleware's tables;
//! - `grpc`: the gRPC server and client families, from every declared or seen method;
//! - `process`: CPU, memory, fds, threads, start time, from `/proc`;
//! - `heap`: live heap bytes and allocations, from the counting allocator's shards;
//! - `scrapes`: the metrics endpoint's own scrape counts;
//! - `tokio`: the registered tokio runtimes' statistics, read from tokio at scrape time;
//! - `build_info`: `app_build_info`.

pub(crate) mod build_info;
pub(crate) mod functions;
#[cfg(feature = "tonic")]
pub(crate) mod grpc;
pub(crate) mod heap;
#[cfg(feature = "http")]
pub(crate) mod http;
#[cfg(feature = "tower")]
pub(crate) mod http_client;
pub(crate) mod process;
pub(crate) mod scrapes;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;

pub(crate) use functions::{catalog, in_flight, rows, Series};

use crate::expose::families::{
    Describe, BUILD_INFO, FUNCTION_FAMILIES, GRPC_FAMILIES, HEAP_FAMILIES, HTTP_CLIENT_FAMILIES,
    HTTP_FAMILIES, PROCESS_FAMILIES, SCRAPES, SCRAPES_IN_FLIGHT, TOKIO_FAMILIES,
};
use crate::expose::snapshot::{Created, Family};

/// A group of our families, registered in the registry together (so that a user's family of
/// the same name keeps its place, and ours step aside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    Functions,
    Http,
    HttpClient,
    Process,
    Scrapes,
    BuildInfo,
    Grpc,
    Tokio,
    Heap,
}

impl Group {
    /// In exposition order.
    pub(crate) const ALL: [Group; 9] = [
        Group::Functions,
        Group::Http,
        Group::HttpClient,
        Group::Grpc,
        Group::Tokio,
        Group::Scrapes,
        Group::Process,
        Group::Heap,
        Group::BuildInfo,
    ];

    pub(crate) fn bit(self) -> u16 {
        1 << self as u16
    }

    /// The families the group's collector describes.
    pub(crate) fn families(self) -> &'static [Describe] {
        match self {
            Group::Functions => &FUNCTION_FAMILIES,
            Group::Http => &HTTP_FAMILIES,
            Group::HttpClient => &HTTP_CLIENT_FAMILIES,
            Group::Process => &PROCESS_FAMILIES,
            Group::Scrapes => &[SCRAPES, SCRAPES_IN_FLIGHT],
            Group::BuildInfo => &[BUILD_INFO],
            Group::Grpc => &GRPC_FAMILIES,
            Group::Tokio => TOKIO_FAMILIES,
            Group::Heap => &HEAP_FAMILIES,
        }
    }
}

/// A set of groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Groups(pub u16);

impl Groups {
    pub(crate) fn only(group: Group) -> Groups {
        Groups(group.bit())
    }

    pub(crate) fn contains(self, group: Group) -> bool {
        self.0 & group.bit() != 0
    }
}

/// One reading of every family of `groups`, in exposition order.
pub(crate) fn read(groups: Groups, created: Option<Created>) -> Vec<Family> {
    // The heap first, before this reading allocates anything: a scrape's own buffers are not
    // in the figure it reports, and two scrapes at rest report the same live bytes.
    let heap = groups.contains(Group::Heap).then(heap::read).flatten();
    let mut out = Vec::new();
    for group in Group::ALL {
        if !groups.contains(group) {
            continue;
        }
        match group {
            Group::Functions => functions::families(created, &mut out),
            #[cfg(feature = "http")]
            Group::Http => http::families(&mut out),
            #[cfg(not(feature = "http"))]
            Group::Http => {}
            #[cfg(feature = "tower")]
            Group::HttpClient => http_client::families(&mut out),
            #[cfg(not(feature = "tower"))]
            Group::HttpClient => {}
            Group::Process => process::families(&mut out),
            Group::Scrapes => scrapes::families(&mut out),
            Group::BuildInfo => build_info::families(&mut out),
            #[cfg(feature = "tonic")]
            Group::Grpc => grpc::families(&mut out),
            #[cfg(not(feature = "tonic"))]
            Group::Grpc => {}
            #[cfg(feature = "tokio")]
            Group::Tokio => tokio::families(&mut out),
            #[cfg(not(feature = "tokio"))]
            Group::Tokio => {}
            Group::Heap => heap::families(heap, &mut out),
        }
    }
    out
}
