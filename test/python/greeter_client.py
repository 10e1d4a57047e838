"""Classic Greeter client on Debian's python3-grpcio, with no generated code: generic unary calls
and hand-written protobuf encoding (HelloRequest and HelloReply are both a single string field 1).

usage: greeter_client.py PORT NAME...   prints one JSON line per call
"""
import json
import sys

import grpc


def encode_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def decode_varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def encode_string_field1(text):
    # Field 1, wire type 2 (length-delimited): key 0x0a, length, UTF-8 bytes.
    data = text.encode("utf-8")
    return b"\x0a" + encode_varint(len(data)) + data


def decode_string_field1(buf):
    pos, value = 0, ""
    while pos < len(buf):
        key, pos = decode_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            length, pos = decode_varint(buf, pos)
            if field == 1:
                value = buf[pos:pos + length].decode("utf-8")
            pos += length
        elif wire == 0:
            _, pos = decode_varint(buf, pos)
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return value


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
