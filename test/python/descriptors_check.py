"""Checks the FileDescriptorProtos that `npm run proto` makes for server reflection with Python's
google.protobuf (Debian's python3-protobuf): each must equal what buf's compiler makes of the same
.proto file, and together they must load into a DescriptorPool and make working message classes.

usage: descriptors_check.py <ours.json: {name: base64}> <buf build output: a FileDescriptorSet>
Prints one JSON object: {"compared": [...], "differences": {name: text diff}, "missing": [...],
"pool": [...], "roundtrip": {...}}.
"""
import base64
import difflib
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, text_format

try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # python3-protobuf before 4.x
    from google.protobuf import message_factory

    def GetMessageClass(desc):
        return message_factory.MessageFactory().GetPrototype(desc)


def default_json_name(name):
    out, upper = '', False
    for c in name:
        if c == '_':
            upper = True
        else:
            out += c.upper() if upper else c
            upper = False
    return out


def normalized(fd):
    """Without what buf adds of its own (unknown fields, source info), without json_name where it is
    the derived one (which protoc and buf write on every field, and we leave out), nested types
    sorted by name (protoc orders map entries among nested messages by declaration)."""
    fd = descriptor_pb2.FileDescriptorProto.FromString(fd.SerializeToString())
    fd.DiscardUnknownFields()
    fd.ClearField('source_code_info')

    def fields(msg):
        yield from msg.field
        yield from msg.extension
        for m in msg.nested_type:
            yield from fields(m)

    for f in [*fd.extension, *(f for m in fd.message_type for f in fields(m))]:
        if f.json_name == default_json_name(f.name):
            f.ClearField('json_name')

    def sort(msg):
        nested = sorted(msg.nested_type, key=lambda m: m.name)
        del msg.nested_type[:]
        msg.nested_type.extend(nested)
        for m in msg.nested_type:
            sort(m)

    for m in fd.message_type:
        sort(m)
    return fd


def main():
    ours = {}
    for name, b64 in json.load(open(sys.argv[1])).items():
        ours[name] = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(b64))
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[2], 'rb').read())
    theirs = {f.name: f for f in fds.file}
    out = {'compared': [], 'differences': {}, 'missing': [], 'pool': [], 'roundtrip': {}}
    for name, fd in ours.items():
        if name not in theirs:
            out['missing'].append(name)
            continue
        a = text_format.MessageToString(normalized(fd)).splitlines()
        b = text_format.MessageToString(normalized(theirs[name])).splitlines()
        out['compared'].append(name)
        if a != b:
            out['differences'][name] = '\n'.join(difflib.unified_diff(a, b, 'ours', 'buf', lineterm='', n=1))

    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(name):
        if name in added:
            return
        added.add(name)
        for dep in ours[name].dependency:
            add(dep)
        pool.Add(ours[name])
        out['pool'].append(name)

    for name in ours:
        add(name)

    # Message classes made from our descriptors alone encode and decode.
    if 'edge/testing/sensors.proto' in ours:
        Reading = GetMessageClass(pool.FindMessageTypeByName('edge.testing.Reading'))
        r = Reading(sensor_id='t1', bus=2, note='n', raw_counts=[-1, 2])
        r.channel_units['a'] = 2
        s = r.samples.add()
        s.quantity.value = 21.5
        s.quantity.unit = 1
        s.quality = 1
        s.position.index = 3
        r.taken_at.seconds = 1700000000
        back = Reading.FromString(r.SerializeToString())
        out['roundtrip'] = {
            'equal': back == r,
            'source': back.WhichOneof('source'),
            'has_note': back.HasField('note'),
            'map': dict(back.channel_units),
            'quality': pool.FindEnumTypeByName('edge.testing.Reading.Sample.Quality').values_by_number[back.samples[0].quality].name,
            'annotated_extensions': sorted(
                e.number for e in pool.FindAllExtensions(pool.FindMessageTypeByName('edge.testing.ext.Annotated'))
            ),
            'required': [f.name for f in pool.FindMessageTypeByName('edge.testing.ext.Annotated').fields if f.label == f.LABEL_REQUIRED],
            'default_level': pool.FindMessageTypeByName('edge.testing.ext.Annotated').fields_by_name['level'].default_value,
        }
    print(json.dumps(out))


main()
