// HPACK against a real peer: Node's HTTP/2 client (nghttp2) talks to a raw TCP server in this
// test. The server decodes nghttp2's request header blocks with our HpackDecoder and answers with
// blocks from our HpackEncoder, which nghttp2 decodes. Both sides advertise table sizes that force
// dynamic table size updates. (The framing here is a minimal test-only reader, not the codec's.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { HpackDecoder, HpackEncoder } from '../../src/http2/hpack/index.js';
import { prng, randInt } from './hpack-support.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

function settings(pairs: [number, number][]): Buffer {
  const p = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(4, 0, 0, p);
}

interface Seen {
  requests: string[][];
  errors: unknown[];
  /** Blocks that started with a dynamic table size update ('001xxxxx'), each way. */
  requestUpdates: number;
  responseUpdates: number;
}

/**
 * A raw server: our SETTINGS carry `ourTableSize`; the decoder switches to it when the client
 * acknowledges them; the encoder follows the client's SETTINGS_HEADER_TABLE_SIZE. Each request
 * is answered with `respond(requestHeaders)` encoded by our encoder, END_STREAM set.
 */
function rawServer(ourTableSize: number, respond: (req: string[]) => string[], seen: Seen): net.Server {
  return net.createServer((sock) => {
    const dec = new HpackDecoder(4096);
    const enc = new HpackEncoder(4096);
    let buf = Buffer.alloc(0);
    let prefaceDone = false;
    let block: Buffer[] = [];
    let blockStream = 0;
    sock.write(settings([[1, ourTableSize]]));
    sock.on('error', () => {});
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!prefaceDone) {
        if (buf.length < PREFACE.length) return;
        assert.ok(buf.subarray(0, PREFACE.length).equals(PREFACE));
        buf = buf.subarray(PREFACE.length);
        prefaceDone = true;
      }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) return;
        const type = buf[3]!;
        const flags = buf[4]!;
        const sid = buf.readUInt32BE(5) & 0x7fffffff;
        let payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === 4) {
          if (flags & 1) dec.setMaxTableSize(ourTableSize); // our SETTINGS acknowledged
          else {
            for (let i = 0; i + 6 <= payload.length; i += 6) {
              if (payload.readUInt16BE(i) === 1) enc.setMaxTableSize(payload.readUInt32BE(i + 2));
            }
            sock.write(frame(4, 1, 0, Buffer.alloc(0)));
          }
        } else if (type === 1 || type === 9) {
          if (type === 1) {
            if (flags & 0x08) payload = payload.subarray(1, payload.length - payload[0]!);
            if (flags & 0x20) payload = payload.subarray(5);
            block = [];
            blockStream = sid;
          }
          block.push(Buffer.from(payload));
          if (flags & 0x04) {
            try {
              const bytes = Buffer.concat(block);
              if ((bytes[0]! & 0xe0) === 0x20) seen.requestUpdates++;
              const headers = dec.decode(bytes);
              seen.requests.push(headers);
              const out = enc.encode(respond(headers));
              if ((out[0]! & 0xe0) === 0x20) seen.responseUpdates++;
              sock.write(frame(1, 0x04 | 0x01, blockStream, out));
            } catch (err) {
              seen.errors.push(err);
              sock.destroy();
            }
          }
        }
      }
    });
  });
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function request(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: true });
    let got: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h) => (got = h));
    req.on('error', reject);
    req.resume();
    req.on('close', () => (got ? resolve(got) : reject(new Error(`stream closed, rst code ${req.rstCode}`))));
  });
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'x'.repeat(90), 'Mixed Case ~!@#$%^&*()', ''];

async function session(ourTableSize: number, clientTableSize: number, seed: number): Promise<void> {
  const seen: Seen = { requests: [], errors: [], requestUpdates: 0, responseUpdates: 0 };
  // The response echoes the request's x- headers as x-echo-*, plus fixed gRPC-like headers.
  const respond = (req: string[]): string[] => {
    const out = [':status', '200', 'content-type', 'application/grpc'];
    for (let i = 0; i < req.length; i += 2) if (req[i]!.startsWith('x-')) out.push('x-echo-' + req[i]!.slice(2), req[i + 1]!);
    return out;
  };
  const server = rawServer(ourTableSize, respond, seen);
  const port = await listen(server);
  const client = http2.connect(`http://127.0.0.1:${port}`, { settings: { headerTableSize: clientTableSize } });
  client.on('error', () => {});
  try {
    const rand = prng(seed);
    for (let i = 0; i < 40; i++) {
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'POST',
        ':path': `/pkg.Service/Method${randInt(rand, 3)}`,
        'content-type': 'application/grpc',
        te: 'trailers',
      };
      const n = randInt(rand, 6);
      for (let k = 0; k < n; k++) headers[`x-h${randInt(rand, 8)}`] = WORDS[randInt(rand, WORDS.length)]! + randInt(rand, 4);
      if (rand() < 0.3) {
        headers['x-secret'] = 'token' + i;
        (headers as { [k: symbol]: unknown })[http2.sensitiveHeaders] = ['x-secret'];
      }
      const res = await request(client, headers);
      assert.deepEqual(seen.errors, []);
      // What our decoder saw is what the client sent.
      const got = seen.requests.at(-1)!;
      const sent = new Map<string, string>();
      for (const [k, v] of Object.entries(headers)) sent.set(k, String(v));
      const decoded = new Map<string, string>();
      for (let k = 0; k < got.length; k += 2) decoded.set(got[k]!, got[k + 1]!);
      for (const [k, v] of sent) assert.equal(decoded.get(k), v, `request ${i} header ${k}`);
      // What nghttp2 decoded from our encoder is what we sent.
      const expected = respond(got);
      for (let k = 0; k < expected.length; k += 2) {
        const name = expected[k]!;
        assert.equal(String(res[name]), expected[k + 1], `response ${i} header ${name}`);
      }
    }
    // The table size changes were signalled (and accepted by both decoders).
    if (ourTableSize < 4096) assert.ok(seen.requestUpdates > 0, 'nghttp2 sent a size update');
    if (clientTableSize !== 4096) assert.equal(seen.responseUpdates, 1, 'we sent one size update');
  } finally {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('HPACK interop with nghttp2 (node:http2 client)', () => {
  it('default 4096-octet tables both ways', () => session(4096, 4096, 1));
  it('we advertise 256, the client 100: both sides send size updates', () => session(256, 100, 2));
  it('we advertise 0 and the client 0: no dynamic table at all', () => session(0, 0, 3));
  it('we advertise 65536, the client 1024', () => session(65536, 1024, 4));
});
