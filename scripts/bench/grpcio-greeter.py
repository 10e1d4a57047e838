#!/usr/bin/python3
"""helloworld.Greeter (and, with --stream, bench.Streamer) on Python grpcio: an optional third column
for scripts/bench.mjs. Protobuf is encoded by hand (grpcio-tools may be missing): the messages are
one or two scalar fields.

    /usr/bin/python3 scripts/bench/grpcio-greeter.py <port> [--stream]     prints "listening <port>"
"""
import signal
import sys
from concurrent import futures

import grpc


def read_varint(buf, i):
    shift = 0
    value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def decode_request(buf):
    """HelloRequest{name=1} / StreamRequest{name=1, count=2}: returns (name, count)."""
    name, count, i = "", 0, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 2:
            n, i = read_varint(buf, i)
            if field == 1:
                name = buf[i:i + n].decode("utf-8")
            i += n
        elif wire == 0:
            v, i = read_varint(buf, i)
            if field == 2:
                count = v
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
    return name, count


def encode_varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_reply(message):
    """HelloReply{message=1} / StreamReply{message=1}."""
    data = message.encode("utf-8")
    return b"\x0a" + encode_varint(len(data)) + data if data else b""


def say_hello(request, context):
    return "hello " + request[0]


def stream(request, context):
    reply = "hello " + request[0]
    for _ in range(request[1]):
        yield reply


def main():
    port = sys.argv[1] if len(sys.argv) > 1 else "0"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    if "--stream" in sys.argv[2:]:
        handlers = {
            "Stream": grpc.unary_stream_rpc_method_handler(
                stream, request_deserializer=decode_request, response_serializer=encode_reply
            )
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Streamer", handlers),))
    else:
        unary = grpc.unary_unary_rpc_method_handler(
            say_hello, request_deserializer=decode_request, response_serializer=encode_reply
        )
        handlers = {"SayHello": unary, "SayHelloAgain": unary}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("helloworld.Greeter", handlers),))
    bound = server.add_insecure_port("127.0.0.1:" + port)
    server.start()
    print("listening %d" % bound, flush=True)

    def stop(*_):
        server.stop(1)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
