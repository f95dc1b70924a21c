//! Generates the RouteGuide messages, server and client from `proto/route_guide.proto`, parsed
//! by protox (no system `protoc`), and writes the encoded descriptor set beside them: what
//! `instrument_metrics::grpc::register_descriptors` and tonic-reflection read.

use std::path::PathBuf;

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/route_guide.proto");
    let descriptors = protox::compile(["route_guide.proto"], ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("route_guide_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
