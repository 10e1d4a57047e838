"""Google's json_format (Debian's python3-protobuf) parsing JSON bodies, for test/web/json-strict.test.ts.

usage: protojson_parse.py <FileDescriptorSet (buf build output)> <message type> < cases
Each stdin line is a JSON string holding one body. Prints one JSON line per case: {"binary": "<base64 of
the message json_format read>"} or {"error": "<what json_format said>"}.
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


def main():
    image, type_name = sys.argv[1], sys.argv[2]
    pool = descriptor_pool.DescriptorPool()
    for f in descriptor_pb2.FileDescriptorSet.FromString(open(image, 'rb').read()).file:
        pool.Add(f)
    cls = GetMessageClass(pool.FindMessageTypeByName(type_name))
    for line in sys.stdin:
        body = json.loads(line)
        try:
            m = cls()
            json_format.Parse(body, m, descriptor_pool=pool)
            out = {'binary': base64.b64encode(m.SerializeToString(deterministic=True)).decode()}
        except Exception as e:  # reported per case, the test names it
            out = {'error': '%s: %s' % (type(e).__name__, e)}
        print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
