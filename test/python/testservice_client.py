"""python3-grpcio (gRPC C core) client for test/python/testservice.test.ts: a second, independent
client implementation for statuses, grpc-message decoding, metadata, deadlines and compression,
against the edge.test.TestService of the gRPC tests (test/grpc/helpers.ts).
No generated code: edge.test.Msg { string text = 1; int32 count = 2; bytes data = 3; } by hand.

usage: testservice_client.py PORT   prints one JSON object
"""
import base64
import json
import sys

import grpc

sys.dont_write_bytecode = True  # no __pycache__ left in test/python
from pbwire import f_bytes, f_varint, parse  # noqa: E402  (next to this script)


def encode(msg):
    out = b""
    text = msg.get("text", "").encode("utf-8")
    if text:
        out += f_bytes(1, text)
    if msg.get("count"):
        out += f_varint(2, msg["count"])
    data = msg.get("data", b"")
    if data:
        out += f_bytes(3, data)
    return out


def last(fields, num, kind, default):
    """The last value of field `num` of the expected wire kind (int: varint, bytes: length-delimited)."""
    values = [v for v in fields.get(num, []) if isinstance(v, kind)]
    return values[-1] if values else default


def decode(buf):
    fields = parse(buf)
    return {
        "text": last(fields, 1, bytes, b"").decode("utf-8"),
        "count": last(fields, 2, int, 0),
        "data": last(fields, 3, bytes, b""),
    }


def md_json(md):
    """Metadata as [key, value] pairs; -bin values as base64 (padded) so JSON carries them."""
    out = []
    for k, v in md or ():
        out.append([k, base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v])
    return out


def error_json(e):
    return {"code": e.code().name, "details": e.details(), "trailing": md_json(e.trailing_metadata())}


def main():
    port = sys.argv[1]
    out = {}
    with grpc.insecure_channel("127.0.0.1:%s" % port) as ch:
        def method(name, kind="unary_unary"):
            return getattr(ch, kind)("/edge.test.TestService/" + name, request_serializer=encode, response_deserializer=decode)

        unary = method("Unary")
        # An error whose message needs percent-encoding; status details and metadata on it.
        try:
            unary({"text": "odd"}, timeout=20)
            out["odd"] = "no error"
        except grpc.RpcError as e:
            out["odd"] = error_json(e)
        # Metadata both ways: ASCII, -bin with several values.
        md = (("x-token", "abc"), ("x-data-bin", b"\xde\xad\xbe\xef"), ("x-data-bin", b"\x00\x01"))
        reply, call = unary.with_call({"text": "metadata"}, timeout=20, metadata=md)
        out["metadata"] = {
            "reply": reply["text"],
            "initial": md_json(call.initial_metadata()),
            "trailing": md_json(call.trailing_metadata()),
        }
        # The server's deadline: a handler that waits for its signal.
        try:
            unary({"text": "wait"}, timeout=0.5)
            out["deadline"] = "no error"
        except grpc.RpcError as e:
            out["deadline"] = e.code().name
        # Unknown method.
        try:
            ch.unary_unary("/edge.test.TestService/Nope")(b"", timeout=20)
            out["unknown"] = "no error"
        except grpc.RpcError as e:
            out["unknown"] = [e.code().name, e.details()]
        # gzip request (the server answers with gzip when asked to, see the test).
        reply = unary({"text": "zip", "data": b"z" * 50000}, timeout=20, compression=grpc.Compression.Gzip)
        out["gzip"] = [reply["text"], len(reply["data"])]
        # Server streaming, then an error after the messages.
        stream = method("ServerStream", "unary_stream")({"text": "s", "count": 3}, timeout=20)
        got = []
        try:
            for m in stream:
                got.append(m["count"])
            out["stream"] = [got, "OK"]
        except grpc.RpcError as e:
            out["stream"] = [got, e.code().name, e.details()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
