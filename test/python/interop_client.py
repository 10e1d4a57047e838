"""Interop test cases driven by Debian's python3-grpcio (gRPC C-core, a second independent client
stack besides grpc-js) against our interop server. No generated code: generic calls and protobuf
encoded by hand with the field numbers of grpc/testing/messages.proto.

usage: interop_client.py PORT   prints one JSON line per case: {"case", "ok", "detail"}
"""
import json
import queue
import sys

import grpc

sys.dont_write_bytecode = True  # no __pycache__ left in test/python
from pbwire import f_bytes, f_varint, identity, parse, queued  # noqa: E402  (next to this script)

# ---- messages of grpc/testing/messages.proto ----


def payload(size):
    return f_bytes(2, bytes(size))  # Payload.body = 2


def bool_value(v):
    return f_varint(1, 1 if v else 0)


def response_status(code, message):
    """Field response_status = 7 (SimpleRequest, StreamingOutputCallRequest): EchoStatus {code = 1, message = 2}."""
    return f_bytes(7, f_varint(1, code) + f_bytes(2, message.encode("utf-8")))


def simple_request(response_size=0, body=0, response_compressed=None, expect_compressed=None, status=None):
    out = b""
    if response_size:
        out += f_varint(2, response_size)
    if body:
        out += f_bytes(3, payload(body))
    if response_compressed is not None:
        out += f_bytes(6, bool_value(response_compressed))
    if status is not None:
        out += response_status(*status)
    if expect_compressed is not None:
        out += f_bytes(8, bool_value(expect_compressed))
    return out


def streaming_output_request(sizes=(), body=0, status=None):
    out = b"".join(f_bytes(2, f_varint(1, s)) for s in sizes)
    if body:
        out += f_bytes(3, payload(body))
    if status is not None:
        out += response_status(*status)
    return out


def body_size(response):
    """Size of payload.body in a SimpleResponse / StreamingOutputCallResponse (payload = 1)."""
    p = parse(response).get(1, [b""])[0]
    return len(parse(p).get(2, [b""])[0])


# ---- the cases ----


def run(port):
    results = []

    def case(name):
        def wrap(fn):
            try:
                detail = fn()
                results.append({"case": name, "ok": True, "detail": detail})
            except Exception as err:  # report, keep going
                results.append({"case": name, "ok": False, "detail": "%s: %s" % (type(err).__name__, err)})
            return fn
        return wrap

    def check(cond, what):
        if not cond:
            raise AssertionError(what)

    with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
        svc = "/grpc.testing.TestService/"
        uu = lambda m: ch.unary_unary(svc + m, request_serializer=identity, response_deserializer=identity)  # noqa: E731
        us = lambda m: ch.unary_stream(svc + m, request_serializer=identity, response_deserializer=identity)  # noqa: E731
        su = lambda m: ch.stream_unary(svc + m, request_serializer=identity, response_deserializer=identity)  # noqa: E731
        ss = lambda m: ch.stream_stream(svc + m, request_serializer=identity, response_deserializer=identity)  # noqa: E731

        @case("empty_unary")
        def _():
            check(uu("EmptyCall")(b"", timeout=20) == b"", "non-empty response")

        @case("large_unary")
        def _():
            r = uu("UnaryCall")(simple_request(314159, 271828), timeout=20)
            check(body_size(r) == 314159, "size %d" % body_size(r))

        @case("client_compressed_unary")
        def _():
            try:
                uu("UnaryCall")(simple_request(314159, 271828, expect_compressed=True), timeout=20)
                raise AssertionError("probe succeeded")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, "probe %s" % e.code())
            r = uu("UnaryCall")(simple_request(314159, 271828, expect_compressed=True), timeout=20,
                                compression=grpc.Compression.Gzip)
            check(body_size(r) == 314159, "compressed size")
            r = uu("UnaryCall")(simple_request(314159, 271828, expect_compressed=False), timeout=20)
            check(body_size(r) == 314159, "uncompressed size")

        @case("server_compressed_unary")
        def _():
            for v in (True, False):
                r = uu("UnaryCall")(simple_request(314159, 271828, response_compressed=v), timeout=20)
                check(body_size(r) == 314159, "size")

        @case("client_streaming")
        def _():
            reqs = [f_bytes(1, payload(n)) for n in (27182, 8, 1828, 45904)]
            r = su("StreamingInputCall")(iter(reqs), timeout=20)
            total = parse(r).get(1, [0])[0]
            check(total == 74922, "aggregated %d" % total)

        @case("server_streaming")
        def _():
            sizes = [body_size(m) for m in us("StreamingOutputCall")(
                streaming_output_request((31415, 9, 2653, 58979)), timeout=20)]
            check(sizes == [31415, 9, 2653, 58979], str(sizes))

        @case("ping_pong")
        def _():
            q = queue.Queue()
            steps = [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)]

            call = ss("FullDuplexCall")(queued(q), timeout=20)
            got = []
            for size, body in steps:
                q.put(streaming_output_request((size,), body))
                got.append(body_size(next(call)))
            q.put(None)
            rest = list(call)
            check(got == [s for s, _ in steps] and rest == [], str(got))
            check(call.code() == grpc.StatusCode.OK, str(call.code()))

        @case("empty_stream")
        def _():
            check(list(ss("FullDuplexCall")(iter([]), timeout=20)) == [], "responses")

        @case("custom_metadata")
        def _():
            md = (("x-grpc-test-echo-initial", "test_initial_metadata_value"),
                  ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"))
            _, call = uu("UnaryCall").with_call(simple_request(314159, 271828), metadata=md, timeout=20)
            check(("x-grpc-test-echo-initial", "test_initial_metadata_value") in call.initial_metadata(), "initial")
            check(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in call.trailing_metadata(), "trailing")
            call = ss("FullDuplexCall")(iter([streaming_output_request((314159,), 271828)]), metadata=md, timeout=20)
            check(len(list(call)) == 1, "one response")
            check(("x-grpc-test-echo-initial", "test_initial_metadata_value") in call.initial_metadata(), "bidi initial")
            check(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in call.trailing_metadata(), "bidi trailing")

        @case("status_code_and_message")
        def _():
            try:
                uu("UnaryCall")(simple_request(status=(2, "test status message")), timeout=20)
                raise AssertionError("succeeded")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.UNKNOWN and e.details() == "test status message",
                      "%s %r" % (e.code(), e.details()))
            call = ss("FullDuplexCall")(iter([streaming_output_request(status=(2, "test status message"))]), timeout=20)
            try:
                list(call)
                raise AssertionError("bidi succeeded")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.UNKNOWN and e.details() == "test status message", "bidi")

        @case("special_status_message")
        def _():
            msg = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
            try:
                uu("UnaryCall")(simple_request(status=(2, msg)), timeout=20)
                raise AssertionError("succeeded")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.UNKNOWN and e.details() == msg, repr(e.details()))

        @case("unimplemented_method")
        def _():
            try:
                uu("UnimplementedCall")(b"", timeout=20)
                raise AssertionError("succeeded")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.UNIMPLEMENTED, str(e.code()))

        @case("unimplemented_service")
        def _():
            call = ch.unary_unary("/grpc.testing.UnimplementedService/UnimplementedCall",
                                  request_serializer=identity, response_deserializer=identity)
            try:
                call(b"", timeout=20)
                raise AssertionError("succeeded")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.UNIMPLEMENTED, str(e.code()))

        @case("cancel_after_first_response")
        def _():
            q = queue.Queue()

            call = ss("FullDuplexCall")(queued(q), timeout=20)
            q.put(streaming_output_request((31415,), 27182))
            check(body_size(next(call)) == 31415, "first response")
            call.cancel()
            q.put(None)
            check(call.code() == grpc.StatusCode.CANCELLED, str(call.code()))

        @case("timeout_on_sleeping_server")
        def _():
            q = queue.Queue()

            def requests():
                yield streaming_output_request(body=27182)
                q.get()  # never: the client keeps its side open until the deadline

            call = ss("FullDuplexCall")(requests(), timeout=0.001)
            try:
                list(call)
                raise AssertionError("succeeded")
            except grpc.RpcError as e:
                check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, str(e.code()))
            finally:
                q.put(None)

    return results


if __name__ == "__main__":
    for r in run(int(sys.argv[1])):
        print(json.dumps(r))
