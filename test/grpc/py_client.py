"""python3-grpcio (gRPC C core) client for test/grpc/python.test.ts: a second, independent client
implementation for statuses, grpc-message decoding, metadata, deadlines and compression.
No generated code: edge.test.Msg { string text = 1; int32 count = 2; bytes data = 3; } by hand.

usage: py_client.py PORT   prints one JSON object
"""
import base64
import json
import sys

import grpc


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode(msg):
    out = b""
    text = msg.get("text", "").encode("utf-8")
    if text:
        out += b"\x0a" + varint(len(text)) + text
    if msg.get("count"):
        out += b"\x10" + varint(msg["count"])
    data = msg.get("data", b"")
    if data:
        out += b"\x1a" + varint(len(data)) + data
    return out


def decode(buf):
    msg = {"text": "", "count": 0, "data": b""}
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, pos = read_varint(buf, pos)
            if field == 2:
                msg["count"] = v
        elif wire == 2:
            n, pos = read_varint(buf, pos)
            v = buf[pos:pos + n]
            pos += n
            if field == 1:
                msg["text"] = v.decode("utf-8")
            elif field == 3:
                msg["data"] = v
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return msg


def read_varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


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
    sys.dont_write_bytecode = True
    main()
