"""Classic Greeter client on Debian's python3-grpcio, with no generated code: generic unary calls
and hand-written protobuf encoding (HelloRequest and HelloReply are both a single string field 1).

usage: greeter_client.py PORT NAME...   prints one JSON line per call
"""
import json
import sys

import grpc

sys.dont_write_bytecode = True  # no __pycache__ left in test/python
from pbwire import f_bytes, parse  # noqa: E402  (next to this script)


def encode_string_field1(text):
    # Field 1, wire type 2 (length-delimited): key 0x0a, length, UTF-8 bytes.
    return f_bytes(1, text.encode("utf-8"))


def decode_string_field1(buf):
    # The last length-delimited field 1 (a varint field is skipped), "" if there is none.
    strings = [v for v in parse(buf).get(1, []) if isinstance(v, bytes)]
    return strings[-1].decode("utf-8") if strings else ""


def main():
    port = sys.argv[1]
    names = sys.argv[2:]
    with grpc.insecure_channel("127.0.0.1:%s" % port) as channel:
        calls = {
            m: channel.unary_unary(
                "/helloworld.Greeter/" + m,
                request_serializer=encode_string_field1,
                response_deserializer=decode_string_field1,
            )
            for m in ("SayHello", "SayHelloAgain", "SayGoodbye")
        }
        for name in names:
            for method in ("SayHello", "SayHelloAgain"):
                reply, call = calls[method].with_call(name, timeout=20, metadata=(("x-client", "python"),))
                print(json.dumps({"method": method, "message": reply, "code": call.code().name}))
        try:
            calls["SayGoodbye"](names[0] if names else "", timeout=20)
            print(json.dumps({"method": "SayGoodbye", "code": "OK"}))
        except grpc.RpcError as err:
            print(json.dumps({"method": "SayGoodbye", "code": err.code().name}))


if __name__ == "__main__":
    main()
