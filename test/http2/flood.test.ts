// Abuse limits (RFC 9113 section 10.5, "An endpoint MAY treat activity that is suspicious as a
// connection error of type ENHANCE_YOUR_CALM"): for each flood the offending connection gets
// GOAWAY(ENHANCE_YOUR_CALM) (or the error the RFC names) and is closed, while a second, honest
// node:http2 connection opened at the same time has all its requests answered. Limits are made
// small through Http2Options so every flood stays small; the flood window is long (60 s) so that
// counting never depends on timing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { Http2ServerConnection } from '../../src/http2/connection.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { Flag, FrameType } from '../../src/http2/frame/constants.js';
import {
  H2Client,
  GET_HEADERS,
  POST_HEADERS,
  headersWithBlock,
  honestRequests,
  hpackInt,
  literalBlock,
  rawFrame,
  settingsPayload,
  u32,
} from '../support/h2-client.js';
import { echoFixture } from '../support/echo-fixture.js';

const { ENHANCE_YOUR_CALM, REFUSED_STREAM, PROTOCOL_ERROR, CANCEL } = ErrorCode;

const LIMITS = {
  maxResetsPerWindow: 20,
  maxPingsPerWindow: 20,
  maxSettingsPerWindow: 20,
  maxEmptyDataPerWindow: 20,
  floodWindowMs: 60_000,
  maxConcurrentStreams: 8,
  maxHeaderListSize: 4096,
  maxContinuationFrames: 8,
};
const HONEST = 20;

const echo = echoFixture({ http2: LIMITS });
const { serverConn } = echo;

/** Run `attack` on a raw connection while an honest client makes HONEST requests. */
async function flood(attack: (c: H2Client, conn: Http2ServerConnection) => Promise<void>): Promise<void> {
  const c = await H2Client.connect(echo.port);
  const conn = serverConn(c);
  try {
    const [, answered] = await Promise.all([attack(c, conn), honestRequests(echo.port, HONEST)]);
    assert.equal(answered, HONEST);
  } finally {
    c.close();
  }
}

/**
 * An honest node:http2 client that cancels half of its requests: `n` rounds of a POST /echo that
 * is cancelled (RST_STREAM(CANCEL), as grpc-js does on a cancel or a deadline) once its first
 * echoed octets arrive, then a GET / that completes; `parallel` rounds at a time. Resolves with
 * the server's side of the connection's stats once every round is done.
 */
async function cancellingClient(n: number, parallel: number): Promise<{ completed: number; resetsReceived: number }> {
  const session = http2.connect(`http://127.0.0.1:${echo.port}`);
  const failed = new Promise<never>((_, reject) => {
    session.once('error', reject);
    session.once('goaway', (code) => reject(new Error(`GOAWAY(${code}) after ${completed} completed requests`)));
  });
  failed.catch(() => {});
  let completed = 0;
  const cancelled = () =>
    new Promise<void>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/echo' });
      req.once('data', () => {
        req.close(http2.constants.NGHTTP2_CANCEL);
      });
      req.on('close', () => (req.rstCode === http2.constants.NGHTTP2_CANCEL ? resolve() : reject(new Error(`cancelled POST closed with ${req.rstCode}`))));
      req.on('error', () => {});
      req.write('x');
    });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      const req = session.request({ ':method': 'GET', ':path': '/' });
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', () => {});
      req.on('end', () => {
        if (status === 200) {
          completed++;
          resolve();
        } else reject(new Error(`GET /: status ${status}`));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    const conn = [...echo.server.connections].find((x) => x.peer.remotePort === session.socket.localPort);
    assert.ok(conn, 'server connection not found');
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        await Promise.race([cancelled(), failed]);
        await Promise.race([get(), failed]);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    assert.equal(conn.stats.goawayCode, null);
    return { completed, resetsReceived: conn.stats.resetsReceived };
  } finally {
    session.destroy();
  }
}

const post = (c: H2Client, id: number) => c.headersFrame(id, POST_HEADERS, { endStream: false });
const rst = (id: number) => rawFrame(FrameType.RST_STREAM, 0, id, u32(CANCEL));

describe('floods', () => {
  test('rapid reset (CVE-2023-44487): HEADERS + RST_STREAM repeated -> ENHANCE_YOUR_CALM', () =>
    flood(async (c, conn) => {
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) frames.push(post(c, 1 + 2 * i), rst(1 + 2 * i));
      c.send(Buffer.concat(frames));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
      assert.ok(conn.stats.streamsOpened <= LIMITS.maxResetsPerWindow + 1, `${conn.stats.streamsOpened} streams opened`);
    }));

  test('rapid reset with GET requests -> ENHANCE_YOUR_CALM', () =>
    flood(async (c) => {
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) frames.push(c.headersFrame(1 + 2 * i, GET_HEADERS, { endStream: true }), rst(1 + 2 * i));
      c.send(Buffer.concat(frames));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
    }));

  // The rapid-reset limit must not cut honest clients that cancel a lot (grpc-js resets a stream on
  // every cancel and deadline): 2000 cancelled requests, 100 times the reset budget, interleaved
  // with as many completed ones, and the connection stays up.
  test('an honest client cancelling 2000 streams while completing 2000 others stays connected', async () => {
    const { completed, resetsReceived } = await cancellingClient(2000, 8);
    assert.equal(completed, 2000);
    assert.ok(resetsReceived >= 2000, `${resetsReceived} RST_STREAM received`);
  });

  // Completed streams earn resets back only up to the budget: a long honest history does not buy a
  // later rapid-reset burst.
  test('rapid reset after 100 completed requests is still cut after about maxResetsPerWindow resets', () =>
    flood(async (c, conn) => {
      for (let i = 0; i < 100; i++) await c.expectAlive(1 + 2 * i);
      const frames: Buffer[] = [];
      for (let i = 100; i < 300; i++) frames.push(post(c, 1 + 2 * i), rst(1 + 2 * i));
      c.send(Buffer.concat(frames));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
      const reset = conn.stats.streamsOpened - 100;
      assert.ok(reset <= LIMITS.maxResetsPerWindow + 1, `${reset} streams opened and reset`);
    }));

  test('PING flood -> ENHANCE_YOUR_CALM', () =>
    flood(async (c) => {
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) frames.push(rawFrame(FrameType.PING, 0, 0, Buffer.alloc(8, i)));
      c.send(Buffer.concat(frames));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
      const acks = c.frames.filter((f) => f.type === FrameType.PING).length;
      assert.ok(acks <= LIMITS.maxPingsPerWindow, `${acks} PING ACKs sent`);
    }));

  test('SETTINGS flood -> ENHANCE_YOUR_CALM', () =>
    flood(async (c) => {
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) frames.push(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([0x3, 100])));
      c.send(Buffer.concat(frames));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
    }));

  test('empty DATA frames flood -> ENHANCE_YOUR_CALM', () =>
    flood(async (c) => {
      const frames: Buffer[] = [post(c, 1)];
      for (let i = 0; i < 200; i++) frames.push(rawFrame(FrameType.DATA, 0, 1));
      c.send(Buffer.concat(frames));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
    }));

  test('exactly maxContinuationFrames CONTINUATION frames are still accepted', () =>
    flood(async (c) => {
      const block = c.encoder.encode([...GET_HEADERS, 'x-pieces', 'p'.repeat(200)]);
      const n = LIMITS.maxContinuationFrames;
      const size = Math.ceil(block.length / (n + 1));
      const frames = [headersWithBlock(1, block.subarray(0, size), { endStream: true, endHeaders: false })];
      for (let i = 1; i <= n; i++) {
        frames.push(rawFrame(FrameType.CONTINUATION, i === n ? Flag.END_HEADERS : 0, 1, block.subarray(i * size, (i + 1) * size)));
      }
      c.send(Buffer.concat(frames));
      const r = await c.expectResponse(1);
      assert.equal(r.status, '200');
    }));

  test('CONTINUATION flood (empty fragments, never END_HEADERS) -> connection error', () =>
    flood(async (c) => {
      const block = c.encoder.encode(POST_HEADERS);
      c.send(headersWithBlock(1, block.subarray(0, 2), { endStream: false, endHeaders: false }));
      const batch = Buffer.concat(Array.from({ length: 100 }, () => rawFrame(FrameType.CONTINUATION, 0, 1)));
      for (let i = 0; i < 1000 && !c.closed; i++) await c.sendAndFlush(batch);
      await c.expectConnectionError([ENHANCE_YOUR_CALM, PROTOCOL_ERROR]);
    }));

  test('CONTINUATION flood (large fragments) -> connection error before the block grows without bound', () =>
    flood(async (c) => {
      c.send(headersWithBlock(1, c.encoder.encode(POST_HEADERS), { endStream: false, endHeaders: false }));
      // literal header fields, 16000 octets of fragment per frame
      const frag = Buffer.alloc(16000, 0x61);
      const one = rawFrame(FrameType.CONTINUATION, 0, 1, frag);
      for (let i = 0; i < 1000 && !c.closed; i++) await c.sendAndFlush(one);
      await c.expectConnectionError([ENHANCE_YOUR_CALM, PROTOCOL_ERROR, ErrorCode.COMPRESSION_ERROR, ErrorCode.FRAME_SIZE_ERROR]);
    }));

  test('streams past SETTINGS_MAX_CONCURRENT_STREAMS are refused; a flood of them -> ENHANCE_YOUR_CALM', () =>
    flood(async (c, conn) => {
      const max = LIMITS.maxConcurrentStreams;
      const frames: Buffer[] = [];
      for (let i = 0; i < max + 5; i++) frames.push(post(c, 1 + 2 * i));
      c.send(Buffer.concat(frames));
      for (let i = max; i < max + 5; i++) await c.expectRst(1 + 2 * i, [REFUSED_STREAM, PROTOCOL_ERROR]);
      assert.equal(conn.openStreams, max);
      // the open streams still work
      c.send(rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from('ok')));
      assert.equal((await c.expectResponse(1)).body.toString(), 'ok');
      const more: Buffer[] = [];
      for (let i = max + 5; i < max + 205; i++) more.push(post(c, 1 + 2 * i));
      c.send(Buffer.concat(more));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
      assert.ok(conn.stats.streamsOpened <= max + 1, `${conn.stats.streamsOpened} streams opened`);
    }));

  // "A server that receives a larger field block than it is willing to handle can send an HTTP 431
  // (Request Header Fields Too Large) status code" (10.5.1)
  test('a header list past SETTINGS_MAX_HEADER_LIST_SIZE is refused; the connection goes on', () =>
    flood(async (c) => {
      c.send(c.headersFrame(1, [...GET_HEADERS, 'x-big', 'v'.repeat(LIMITS.maxHeaderListSize)], { endStream: true }));
      const refused = await c.expectStatusOrRst(1);
      assert.ok(refused === '431' || refused.startsWith('RST'), `stream 1: ${refused}`);
      await c.expectAlive(3);
    }));

  // CVE-2016-6581 (HPACK bomb): one large dynamic-table entry, then blocks that repeat its index
  // (one octet each) decode to far more than they weigh; the header-list limit must stop it.
  test('HPACK bomb: indexed references to a large table entry are refused; the connection goes on', () =>
    flood(async (c) => {
      const value = 'b'.repeat(3800);
      // literal with incremental indexing, new name: the entry lands at dynamic index 62
      const insert = Buffer.concat([Buffer.from([0x40, 0x06]), Buffer.from('x-bomb'), Buffer.from(hpackInt(value.length, 7)), Buffer.from(value)]);
      c.send(headersWithBlock(1, Buffer.concat([literalBlock(GET_HEADERS), insert]), { endStream: true }));
      assert.equal(await c.expectStatusOrRst(1), '200');
      const bomb = Buffer.concat([literalBlock(GET_HEADERS), Buffer.alloc(2000, 0x80 | 62)]);
      c.send(headersWithBlock(3, bomb, { endStream: true }));
      const refused = await c.expectStatusOrRst(3);
      assert.ok(refused === '431' || refused.startsWith('RST'), `stream 3: ${refused}`);
      await c.expectAlive(5);
    }));

  // Repeated bombs end the connection after a few (3 refused per flood window), not after a reset
  // budget's worth of 431 answers; the honest connection beside it is not touched.
  test('a flood of HPACK bombs -> ENHANCE_YOUR_CALM at the 4th bomb', () =>
    flood(async (c, conn) => {
      const value = 'b'.repeat(3800);
      const insert = Buffer.concat([Buffer.from([0x40, 0x06]), Buffer.from('x-bomb'), Buffer.from(hpackInt(value.length, 7)), Buffer.from(value)]);
      const frames = [headersWithBlock(1, Buffer.concat([literalBlock(GET_HEADERS), insert]), { endStream: true })];
      const bomb = Buffer.concat([literalBlock(GET_HEADERS), Buffer.alloc(16000, 0x80 | 62)]);
      for (let i = 1; i < 100; i++) frames.push(headersWithBlock(1 + 2 * i, bomb, { endStream: true }));
      c.send(Buffer.concat(frames));
      const g = await c.expectConnectionError(ENHANCE_YOUR_CALM);
      assert.equal(conn.stats.headersTooLarge, 4);
      const refused = c.frames.filter((f) => f.type === FrameType.HEADERS && f.headerList?.[1] === '431').length;
      assert.equal(refused, 3);
      assert.equal(g.lastStreamId, 9, 'the 4th bomb (stream 9) was the last stream processed');
    }));

  // CVE-2019-9514 (reset flood): requests the server must refuse, each answered by RST_STREAM
  test('a flood of malformed requests (each a stream error) -> ENHANCE_YOUR_CALM', () =>
    flood(async (c, conn) => {
      const bad = literalBlock([...GET_HEADERS, 'X-Upper', 'v']);
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) frames.push(headersWithBlock(1 + 2 * i, bad, { endStream: true }));
      c.send(Buffer.concat(frames));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
      assert.ok(conn.stats.resetsSent <= LIMITS.maxResetsPerWindow + 1, `${conn.stats.resetsSent} RST_STREAM sent`);
    }));

  test('a trailer section past SETTINGS_MAX_HEADER_LIST_SIZE resets the stream; the connection goes on', () =>
    flood(async (c) => {
      c.send(post(c, 1), rawFrame(FrameType.DATA, 0, 1, Buffer.from('abc')));
      c.send(c.headersFrame(1, ['x-big-trailer', 'v'.repeat(LIMITS.maxHeaderListSize)], { endStream: true }));
      const r = await c.expectStatusOrRst(1); // the response HEADERS of the echo come first
      assert.equal(r, '200');
      const rstOrEnd = await c.expectStatusOrRst(1).catch((e: Error) => e.message);
      assert.match(rstOrEnd, /^RST_STREAM/, `stream 1 after oversized trailers: ${rstOrEnd}`);
      await c.expectAlive(3);
    }));

  test('a flood of too-large header lists -> ENHANCE_YOUR_CALM', () =>
    flood(async (c) => {
      const big = 'v'.repeat(LIMITS.maxHeaderListSize);
      const frames: Buffer[] = [];
      // never-indexed, so each block really carries the octets
      for (let i = 0; i < 100; i++) {
        frames.push(headersWithBlock(1 + 2 * i, c.encoder.encode([...GET_HEADERS, 'x-big', big], (n) => n === 'x-big'), { endStream: true }));
      }
      c.send(Buffer.concat(frames));
      await c.expectConnectionError(ENHANCE_YOUR_CALM);
    }));
});
