"""Google's json_format (Debian's python3-protobuf) parsing JSON bodies, for test/web/json-strict.test.ts.

usage: protojson_parse.py <FileDescriptorSet (buf build output)> <message type> < cases
Each stdin line is a JSON string holding one body. Prints one JSON line per case: {"binary": "<base64 of
the message json_format read>"} or {"error": "<what json_format said>"}.
"""
import base64
import json
import sys

from google.protobuf import json_format

from protojson_check import load


def main():
    pool, cls = load(sys.argv[1], sys.argv[2])
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
