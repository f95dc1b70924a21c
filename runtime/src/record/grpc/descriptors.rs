//! The methods an encoded `FileDescriptorSet` declares (what `tonic-build`/`prost-build` write
//! with `file_descriptor_set_path`, and `tonic-reflection` serves): only the fields we read,
//! every other one skipped by the decoder.

use prost::Message;

use crate::record::grpc::vocabulary::MethodType;

#[derive(Clone, PartialEq, Message)]
struct FileDescriptorSet {
    #[prost(message, repeated, tag = "1")]
    file: Vec<FileDescriptorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct FileDescriptorProto {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(string, optional, tag = "2")]
    package: Option<String>,
    #[prost(message, repeated, tag = "6")]
    service: Vec<ServiceDescriptorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct ServiceDescriptorProto {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(message, repeated, tag = "2")]
    method: Vec<MethodDescriptorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct MethodDescriptorProto {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(bool, optional, tag = "5")]
    client_streaming: Option<bool>,
    #[prost(bool, optional, tag = "6")]
    server_streaming: Option<bool>,
}

/// One method a descriptor declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Declared {
    /// The full service name, `package.Service`.
    pub service: String,
    pub method: String,
    pub kind: MethodType,
}

/// Every method of every service in an encoded `FileDescriptorSet`. `Err` says why the bytes
/// are not one (not protobuf, or a set declaring no service).
pub(crate) fn methods(encoded: &[u8]) -> Result<Vec<Declared>, String> {
    let set = FileDescriptorSet::decode(encoded)
        .map_err(|e| format!("not an encoded FileDescriptorSet: {e}"))?;
    let mut out = Vec::new();
    for file in &set.file {
        let package = file.package.as_deref().unwrap_or("");
        for service in &file.service {
            let name = service.name.as_deref().unwrap_or("");
            if name.is_empty() {
                return Err(format!(
                    "a service without a name in {}",
                    file.name.as_deref().unwrap_or("a file without a name")
                ));
            }
            let service_name = if package.is_empty() {
                name.to_owned()
            } else {
                format!("{package}.{name}")
            };
            for m in &service.method {
                let method = m.name.clone().unwrap_or_default();
                if method.is_empty() {
                    return Err(format!("a method without a name in {service_name}"));
                }
                out.push(Declared {
                    service: service_name.clone(),
                    method,
                    kind: MethodType::new(
                        m.client_streaming.unwrap_or(false),
                        m.server_streaming.unwrap_or(false),
                    ),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(
            "the FileDescriptorSet declares no service: give the set of the files that define your services"
                .to_owned(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::{
        methods, Declared, FileDescriptorProto, FileDescriptorSet, MethodDescriptorProto,
        ServiceDescriptorProto,
    };
    use crate::record::grpc::vocabulary::MethodType;

    fn method(name: &str, client: bool, server: bool) -> MethodDescriptorProto {
        MethodDescriptorProto {
            name: Some(name.into()),
            client_streaming: Some(client),
            server_streaming: Some(server),
        }
    }

    #[test]
    fn every_kind_of_method_is_read() {
        let set = FileDescriptorSet {
            file: vec![FileDescriptorProto {
                name: Some("route_guide.proto".into()),
                package: Some("routeguide".into()),
                service: vec![ServiceDescriptorProto {
                    name: Some("RouteGuide".into()),
                    method: vec![
                        method("GetFeature", false, false),
                        method("ListFeatures", false, true),
                        method("RecordRoute", true, false),
                        method("RouteChat", true, true),
                    ],
                }],
            }],
        };
        let got = methods(&set.encode_to_vec()).unwrap();
        let kinds: Vec<(&str, MethodType)> =
            got.iter().map(|d| (d.method.as_str(), d.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("GetFeature", MethodType::Unary),
                ("ListFeatures", MethodType::ServerStream),
                ("RecordRoute", MethodType::ClientStream),
                ("RouteChat", MethodType::BidiStream),
            ]
        );
        assert!(got
            .iter()
            .all(|d: &Declared| d.service == "routeguide.RouteGuide"));
    }

    #[test]
    fn bad_bytes_and_empty_sets_are_errors() {
        assert!(methods(b"\xff\xff\xff")
            .unwrap_err()
            .contains("FileDescriptorSet"));
        let empty = FileDescriptorSet { file: vec![] }.encode_to_vec();
        assert!(methods(&empty).unwrap_err().contains("declares no service"));
    }
}
