"""Protobuf wire format by hand, shared by the python3-grpcio test clients next to this file (they
use no generated code): varints, tagged fields, a top-level field parser, plus the pass-through
serializer and a queue-fed request iterator for streaming calls.
"""


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


def read_varint(buf, pos):
    """The varint at buf[pos:] and the position after it."""
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def f_varint(num, value):
    """Field `num`, wire type 0 (varint)."""
    return varint(num << 3) + varint(value)


def f_bytes(num, data):
    """Field `num`, wire type 2 (length-delimited): key, length, bytes."""
    return varint((num << 3) | 2) + varint(len(data)) + data


def parse(buf):
    """Top-level fields as {number: [value, ...]} (varints as ints, length-delimited as bytes)."""
    fields, pos = {}, 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value = bytes(buf[pos:pos + length])
            pos += length
        else:
            raise ValueError("wire type %d" % wire)
        fields.setdefault(num, []).append(value)
    return fields


def identity(b):
    """Serializer for messages already encoded as bytes."""
    return b


def queued(q):
    """Requests taken from queue `q` as they are put, until a None."""
    while True:
        item = q.get()
        if item is None:
            return
        yield item
