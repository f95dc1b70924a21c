#!/usr/bin/env python3
"""A gRPC client nobody here wrote (grpcio, with stubs generated now by grpcio-tools from
examples/routeguide/proto/route_guide.proto) calling the `grpc` example: one call of each kind,
an error and a method the server does not have. Prints what it got as one JSON object.

Run by tests/e2e/e2e.py under a Python that imports grpc and grpc_tools (Debian's packages
python3-grpcio and python3-grpc-tools put them in /usr/bin/python3's path).

Usage: grpc_client.py HOST:PORT PROTO_DIR
"""

import json
import os
import sys
import tempfile

import grpc
from grpc_tools import protoc


def stubs(proto_dir, out):
    """Generates route_guide_pb2 and route_guide_pb2_grpc into `out` and imports them."""
    rc = protoc.main(["grpc_tools.protoc", f"-I{proto_dir}", f"--python_out={out}", f"--grpc_python_out={out}",
                      os.path.join(proto_dir, "route_guide.proto")])
    if rc != 0:
        raise SystemExit(f"grpc_tools.protoc failed ({rc})")
    sys.path.insert(0, out)
    import route_guide_pb2
    import route_guide_pb2_grpc
    return route_guide_pb2, route_guide_pb2_grpc


def main():
    target, proto_dir = sys.argv[1], sys.argv[2]
    got = {}
    with tempfile.TemporaryDirectory(prefix="routeguide-stubs-") as out:
        pb, pb_grpc = stubs(proto_dir, out)
        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            guide = pb_grpc.RouteGuideStub(channel)
            point = lambda lat, lon: pb.Point(latitude=lat, longitude=lon)

            feature = guide.GetFeature(point(10, 10), timeout=10)
            got["unary"] = {"code": "OK", "name": feature.name}

            features = list(guide.ListFeatures(pb.Rectangle(lo=point(1, 7), hi=point(3, 7)), timeout=10))
            got["server_stream"] = {"code": "OK", "messages": [f.name for f in features]}

            summary = guide.RecordRoute(iter([point(2, 2), point(3, 3), point(4, 4), point(5, 5)]), timeout=10)
            got["client_stream"] = {"code": "OK", "point_count": summary.point_count}

            notes = [pb.RouteNote(location=point(5, 5), message=m) for m in ("hello", "again")]
            echoes = list(guide.RouteChat(iter(notes), timeout=10))
            got["bidi_stream"] = {"code": "OK", "messages": [n.message for n in echoes]}

            try:
                guide.GetFeature(point(0, 0), timeout=10)
                got["error"] = {"code": "OK"}
            except grpc.RpcError as e:
                got["error"] = {"code": e.code().name}

            # A method the server does not have: what a scanner or a stale client sends.
            nope = channel.unary_unary("/routeguide.RouteGuide/NoSuchMethod",
                                       request_serializer=pb.Point.SerializeToString,
                                       response_deserializer=pb.Feature.FromString)
            try:
                nope(point(1, 2), timeout=10)
                got["unknown_method"] = {"code": "OK"}
            except grpc.RpcError as e:
                got["unknown_method"] = {"code": e.code().name}
    got["grpcio"] = grpc.__version__
    print(json.dumps(got))


if __name__ == "__main__":
    main()
