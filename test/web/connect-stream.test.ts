// The Connect protocol's streaming side on the wire (application/connect+proto and +json): the
// envelopes, the end-stream message with the status and trailing metadata, compression per
// connect-content-encoding / connect-accept-encoding, and the error paths, with Node's http client
// as the peer; then connect-node with gzip both ways as a real client.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import * as node from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import { PROBE_PROTO, cleanupImages, descService, probeRoot, startWebServer } from './helpers.js';

after(cleanupImages);

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
function post(url: string, headers: Record<string, string>, body: Buffer): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const envelope = (payload: Buffer, flags = 0): Buffer => {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = flags;
  b.writeUInt32BE(payload.length, 1);
  payload.copy(b, 5);
  return b;
};
function envelopes(body: Buffer): { flags: number; payload: Buffer }[] {
  const out: { flags: number; payload: Buffer }[] = [];
  for (let at = 0; at < body.length; ) {
    const len = body.readUInt32BE(at + 1);
    out.push({ flags: body[at]!, payload: body.subarray(at + 5, at + 5 + len) });
    at += 5 + len;
  }
  return out;
}

test('Connect streaming JSON: envelopes, then the end-stream message; errors go there with HTTP 200', async () => {
  const s = await startWebServer();
  try {
    const url = `${s.url}/webtest.Probe/Count`;
    const ct = { 'content-type': 'application/connect+json' };
    const r = await post(url, ct, envelope(Buffer.from('{"count":2}')));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/connect+json');
    const e = envelopes(r.body);
    assert.deepEqual(e.map((x) => x.flags), [0, 0, 2]);
    assert.deepEqual(JSON.parse(e[0]!.payload.toString()), { message: 'reply 0' });
    assert.deepEqual(JSON.parse(e[1]!.payload.toString()), { message: 'reply 1', index: 1 });
    assert.deepEqual(JSON.parse(e[2]!.payload.toString()), { metadata: {} });

    for (const [body, code, why] of [
      [envelope(Buffer.from('{"count":')), 'invalid_argument', /malformed JSON/],
      [envelope(Buffer.from('{"cnt":1}')), 'invalid_argument', /unknown field "cnt"/],
      [Buffer.concat([envelope(Buffer.from('{}')), envelope(Buffer.from('{}'))]), 'internal', /more than one request message/],
      [Buffer.from([0, 0, 0]), 'internal', /ended in the middle of a message/],
    ] as const) {
      const b = await post(url, ct, body);
      assert.equal(b.status, 200);
      const end = envelopes(b.body).at(-1)!;
      assert.equal(end.flags, 2);
      const j = JSON.parse(end.payload.toString());
      assert.equal(j.error.code, code);
      assert.match(j.error.message, why);
    }
    const unknown = await post(`${s.url}/webtest.Probe/Nope`, ct, envelope(Buffer.from('{}')));
    assert.equal(JSON.parse(envelopes(unknown.body)[0]!.payload.toString()).error.code, 'unimplemented');
    // A Connect unary content-type on a streaming method: 415 (connect-go does the same).
    const wrong = await post(url, { 'content-type': 'application/json' }, Buffer.from('{}'));
    assert.equal(wrong.status, 415);
  } finally {
    await s.close();
  }
});

test('Connect streaming binary with gzip: connect-content-encoding in, compressed envelopes out', async () => {
  const s = await startWebServer({ compression: 'gzip' });
  try {
    const root = probeRoot();
    const Req = root.lookupType('webtest.CountRequest');
    const Reply = root.lookupType('webtest.CountReply');
    const req = gzipSync(Req.encode({ count: 3 }).finish());
    const r = await post(`${s.url}/webtest.Probe/Count`, {
      'content-type': 'application/connect+proto',
      'connect-content-encoding': 'gzip',
      'connect-accept-encoding': 'gzip',
    }, envelope(req, 1));
    assert.equal(r.headers['connect-content-encoding'], 'gzip');
    const e = envelopes(r.body);
    assert.deepEqual(e.map((x) => x.flags), [1, 1, 1, 2]);
    assert.deepEqual(e.slice(0, 3).map((x) => (Reply.decode(gunzipSync(x.payload)) as any).message), ['reply 0', 'reply 1', 'reply 2']);
    // Without connect-accept-encoding the replies go uncompressed.
    const plain = await post(`${s.url}/webtest.Probe/Count`, { 'content-type': 'application/connect+proto' }, envelope(Buffer.from(Req.encode({ count: 1 }).finish())));
    assert.deepEqual(envelopes(plain.body).map((x) => x.flags), [0, 2]);
  } finally {
    await s.close();
  }
});

test('connect-node with gzip both ways (Connect over HTTP/2 and HTTP/1.1, gRPC-Web over HTTP/2)', async () => {
  const s = await startWebServer({ compression: 'gzip' });
  const Probe = descService(PROBE_PROTO, 'webtest.Probe') as DescService;
  try {
    const gzip = { sendCompression: node.compressionGzip, acceptCompression: [node.compressionGzip], compressMinBytes: 0 };
    for (const transport of [
      node.createConnectTransport({ baseUrl: s.url, httpVersion: '2', ...gzip }),
      node.createConnectTransport({ baseUrl: s.url, httpVersion: '1.1', useBinaryFormat: false, ...gzip }),
      node.createGrpcWebTransport({ baseUrl: s.url, httpVersion: '2', ...gzip }),
    ]) {
      const probe: any = createClient(Probe, transport);
      assert.equal((await probe.echo({ name: 'z'.repeat(300) })).echoed.name, 'z'.repeat(300));
      const got: string[] = [];
      for await (const m of probe.count({ count: 3 })) got.push(m.message);
      assert.deepEqual(got, ['reply 0', 'reply 1', 'reply 2']);
      async function* reqs() {
        yield { count: 4 };
        yield { count: 5 };
      }
      assert.equal((await probe.sum(reqs())).message, 'sum 9');
      try {
        await probe.sleep({ ms: 5000 }, { timeoutMs: 50 });
        assert.fail('no deadline');
      } catch (e) {
        assert.equal(ConnectError.from(e).code, Code.DeadlineExceeded);
      }
    }
  } finally {
    await s.close();
  }
});
