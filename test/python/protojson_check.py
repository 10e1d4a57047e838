"""Google's own ProtoJSON implementation (Debian's python3-protobuf, google.protobuf.json_format) as a
peer of src/web/json.ts: each case is a message as grpc-edge printed it in JSON and the same message
in binary (as protobuf-es wrote it).

usage: protojson_check.py <FileDescriptorSet (buf build output)> <message type> < cases
Each stdin line: {"json": "<grpc-edge's JSON>", "binary": "<base64>"}. Prints one JSON line per
case: {"same": <json_format's reading of the JSON equals the binary's, as MessageToDict sees
them>, "python": "<json_format's own JSON of the binary message>", "error": "..."}.
"""
import base64
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format

try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # python3-protobuf before 4.x
    from google.protobuf import message_factory

    def GetMessageClass(desc):
        return message_factory.MessageFactory().GetPrototype(desc)


def load(image, type_name):
    """A descriptor pool of a FileDescriptorSet file, and the message class of `type_name` in it."""
    pool = descriptor_pool.DescriptorPool()
    for f in descriptor_pb2.FileDescriptorSet.FromString(open(image, 'rb').read()).file:
        pool.Add(f)
    return pool, GetMessageClass(pool.FindMessageTypeByName(type_name))


def main():
    pool, cls = load(sys.argv[1], sys.argv[2])
    for line in sys.stdin:
        case = json.loads(line)
        out = {}
        try:
            from_json = cls()
            json_format.Parse(case['json'], from_json, descriptor_pool=pool)
            from_binary = cls()
            from_binary.ParseFromString(base64.b64decode(case['binary']))
            a = json_format.MessageToDict(from_json, descriptor_pool=pool)
            b = json_format.MessageToDict(from_binary, descriptor_pool=pool)
            out['same'] = a == b
            if a != b:
                out['python_of_json'] = a
                out['python_of_binary'] = b
            out['python'] = json_format.MessageToJson(from_binary, descriptor_pool=pool, indent=None)
        except Exception as e:  # reported per case, the test names it
            out['error'] = '%s: %s' % (type(e).__name__, e)
        print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
