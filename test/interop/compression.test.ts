// The interop compression cases at the message-flag level, which grpc-js cannot show: a small raw
// gRPC client on node:http2 (tests only; src/ never uses node:http2) sets and reads the
// Compressed-Flag of every message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { gzipSync, gunzipSync } from 'node:zlib';
import { startInteropServer } from '../../examples/interop/server.js';
import type { InteropServer } from '../../examples/interop/server.js';
import { descriptor } from '../../examples/interop/generated/test.js';
import { lookupType } from '../../src/proto/load.js';

const SimpleRequest = lookupType(descriptor, 'grpc.testing.SimpleRequest');
const SimpleResponse = lookupType(descriptor, 'grpc.testing.SimpleResponse');
const StreamingInputCallRequest = lookupType(descriptor, 'grpc.testing.StreamingInputCallRequest');
const StreamingInputCallResponse = lookupType(descriptor, 'grpc.testing.StreamingInputCallResponse');
const StreamingOutputCallRequest = lookupType(descriptor, 'grpc.testing.StreamingOutputCallRequest');
const StreamingOutputCallResponse = lookupType(descriptor, 'grpc.testing.StreamingOutputCallResponse');

type PbType = ReturnType<typeof lookupType>;
const enc = (t: PbType, v: object): Buffer => Buffer.from(t.encode(t.fromObject(v)).finish());
const dec = (t: PbType, b: Buffer): any => t.toObject(t.decode(b), { defaults: true });

interface RawMessage {
  compressed: boolean;
  body: Buffer;
}
interface RawResult {
  headers: http2.IncomingHttpHeaders;
  status: number;
  message: string;
  messages: RawMessage[];
}

let srv: InteropServer;
let session: http2.ClientHttp2Session;

before(async () => {
  srv = await startInteropServer({ host: '127.0.0.1', port: 0 });
  session = http2.connect(`http://127.0.0.1:${srv.port}`);
  session.on('error', () => {});
});

after(async () => {
  session?.close();
  srv?.server.forceShutdown();
  await srv?.server.terminated;
});

function frame(body: Buffer, compress: boolean): Buffer {
  const payload = compress ? gzipSync(body) : body;
  const prefix = Buffer.alloc(5);
  prefix[0] = compress ? 1 : 0;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

function call(path: string, messages: { body: Buffer; compress: boolean }[]): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-encoding': 'gzip',
      'grpc-accept-encoding': 'identity,gzip',
    });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const data = Buffer.concat(chunks);
      const out: RawMessage[] = [];
      for (let pos = 0; pos < data.length; ) {
        const compressed = data[pos] === 1;
        const len = data.readUInt32BE(pos + 1);
        const payload = data.subarray(pos + 5, pos + 5 + len);
        pos += 5 + len;
        out.push({ compressed, body: compressed ? gunzipSync(payload) : payload });
      }
      // Trailers-Only responses carry the status in the headers.
      const st = trailers['grpc-status'] ?? headers['grpc-status'];
      const msg = trailers['grpc-message'] ?? headers['grpc-message'] ?? '';
      resolve({ headers, status: Number(st), message: decodeURIComponent(String(msg)), messages: out });
    });
    for (const m of messages) req.write(frame(m.body, m.compress));
    req.end();
  });
}

const big = { response_size: 314159, payload: { body: Buffer.alloc(271828) } };

test('server_compressed_unary: response_compressed true sets the flag, false leaves it clear', async () => {
  const on = await call('/grpc.testing.TestService/UnaryCall', [
    { body: enc(SimpleRequest, { ...big, response_compressed: { value: true } }), compress: false },
  ]);
  assert.equal(on.status, 0, on.message);
  assert.equal(on.headers['grpc-encoding'], 'gzip');
  assert.equal(on.messages.length, 1);
  assert.equal(on.messages[0]!.compressed, true);
  assert.equal(dec(SimpleResponse, on.messages[0]!.body).payload.body.length, 314159);

  const off = await call('/grpc.testing.TestService/UnaryCall', [
    { body: enc(SimpleRequest, { ...big, response_compressed: { value: false } }), compress: false },
  ]);
  assert.equal(off.status, 0, off.message);
  assert.equal(off.messages.length, 1);
  assert.equal(off.messages[0]!.compressed, false);
  assert.equal(dec(SimpleResponse, off.messages[0]!.body).payload.body.length, 314159);
});

test('server_compressed_streaming: first message compressed, second not', async () => {
  const r = await call('/grpc.testing.TestService/StreamingOutputCall', [
    {
      body: enc(StreamingOutputCallRequest, {
        response_parameters: [
          { compressed: { value: true }, size: 31415 },
          { compressed: { value: false }, size: 92653 },
        ],
      }),
      compress: false,
    },
  ]);
  assert.equal(r.status, 0, r.message);
  assert.deepEqual(
    r.messages.map((m) => m.compressed),
    [true, false],
  );
  assert.deepEqual(
    r.messages.map((m) => dec(StreamingOutputCallResponse, m.body).payload.body.length),
    [31415, 92653],
  );
});

test('client_compressed_unary: expect_compressed is checked against the message flag', async () => {
  const req = (expect: boolean) => enc(SimpleRequest, { ...big, expect_compressed: { value: expect } });
  const probe = await call('/grpc.testing.TestService/UnaryCall', [{ body: req(true), compress: false }]);
  assert.equal(probe.status, 3); // INVALID_ARGUMENT
  const compressed = await call('/grpc.testing.TestService/UnaryCall', [{ body: req(true), compress: true }]);
  assert.equal(compressed.status, 0, compressed.message);
  assert.equal(dec(SimpleResponse, compressed.messages[0]!.body).payload.body.length, 314159);
  const plain = await call('/grpc.testing.TestService/UnaryCall', [{ body: req(false), compress: false }]);
  assert.equal(plain.status, 0, plain.message);
});

test('client_compressed_streaming: a compressed then an uncompressed message in one call', async () => {
  const probe = await call('/grpc.testing.TestService/StreamingInputCall', [
    { body: enc(StreamingInputCallRequest, { expect_compressed: { value: true }, payload: { body: Buffer.alloc(27182) } }), compress: false },
  ]);
  assert.equal(probe.status, 3);
  const r = await call('/grpc.testing.TestService/StreamingInputCall', [
    { body: enc(StreamingInputCallRequest, { expect_compressed: { value: true }, payload: { body: Buffer.alloc(27182) } }), compress: true },
    { body: enc(StreamingInputCallRequest, { expect_compressed: { value: false }, payload: { body: Buffer.alloc(45904) } }), compress: false },
  ]);
  assert.equal(r.status, 0, r.message);
  assert.equal(dec(StreamingInputCallResponse, r.messages[0]!.body).aggregated_payload_size, 73086);
});
