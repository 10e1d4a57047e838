// Http2ServerConnection behaviour seen from a raw client: flow control (peer window changes
// mid-stream), a peer that never reads (bounded output), limits and their counters, graceful
// shutdown, idle and handshake timeouts, oversized header lists.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startEchoServer, type EchoServer } from '../../examples/h2-echo/server.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { Flag, FrameType, SettingId, MAX_WINDOW_SIZE } from '../../src/http2/frame/constants.js';
import type { Http2Options } from '../../src/http2/api.js';
import type { Http2ServerConnection } from '../../src/http2/connection.js';
import { H2Client, GET_HEADERS, POST_HEADERS, rawFrame, u32, settingsPayload } from '../support/h2-client.js';

async function withServer(http2: Http2Options, fn: (s: EchoServer) => Promise<void>): Promise<void> {
  const s = await startEchoServer({ port: 0, host: '127.0.0.1', http2 });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

function onlyConnection(s: EchoServer): Http2ServerConnection {
  const all = [...s.connections];
  assert.equal(all.length, 1);
  return all[0]!;
}

/** Poll (not a timed assertion: the test's own timeout is the only clock) until cond() holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

const data = (id: number, payload: Buffer | string, end = false) =>
  rawFrame(FrameType.DATA, end ? Flag.END_STREAM : 0, id, Buffer.from(payload));
const windowUpdate = (id: number, n: number) => rawFrame(FrameType.WINDOW_UPDATE, 0, id, u32(n));
const settings = (pairs: number[]) => rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload(pairs));
const rst = (id: number, code: number) => rawFrame(FrameType.RST_STREAM, 0, id, u32(code));

const MAX_STREAM_ID = 0x7fffffff;

/** Answer the server's PING (the round trip that ends the first step of a graceful shutdown). */
async function answerPing(c: H2Client): Promise<void> {
  const p = await c.expectFrame(FrameType.PING, (f) => !f.ack);
  c.ping(Buffer.from(p.data), true);
}

function dataOn(c: H2Client, id: number): number {
  let n = 0;
  for (const f of c.frames) if (f.type === FrameType.DATA && f.streamId === id) n += f.data.length;
  return n;
}

describe('flow control', () => {
  test('the server never sends past the stream window; SETTINGS_INITIAL_WINDOW_SIZE changes mid-stream apply (even below zero)', () =>
    withServer({}, async (s) => {
      const c = await H2Client.connect(s.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, 1000] });
      try {
        c.send(windowUpdate(0, 1 << 20));
        c.get(1, '/bytes?n=100000');
        await c.waitUntil(() => dataOn(c, 1) === 1000, '1000 octets');
        await c.expectNoFrameBeforePingAck(FrameType.DATA, (f) => f.streamId === 1 && f.data.length > 0 && dataOn(c, 1) > 1000);
        assert.equal(dataOn(c, 1), 1000);
        // window 0 -> -500: a WINDOW_UPDATE of 600 opens only 100 octets.
        c.send(settings([SettingId.INITIAL_WINDOW_SIZE, 500]));
        await c.expectFrame(FrameType.SETTINGS, (f) => f.ack);
        c.send(windowUpdate(1, 600));
        await c.waitUntil(() => dataOn(c, 1) === 1100, '1100 octets');
        await c.expectNoFrameBeforePingAck(FrameType.DATA, () => dataOn(c, 1) > 1100);
        // 100 -> 100 + (200000 - 500): the rest flows.
        c.send(settings([SettingId.INITIAL_WINDOW_SIZE, 200000]));
        const r = await c.waitUntil(
          () => c.frames.some((f) => f.type === FrameType.DATA && f.streamId === 1 && f.endStream),
          'END_STREAM',
        );
        assert.ok(r);
        assert.equal(dataOn(c, 1), 100000);
        const conn = onlyConnection(s);
        assert.equal(conn.stats.goawayCode, null);
      } finally {
        c.close();
      }
    }));

  test('the connection window bounds all streams together', () =>
    withServer({}, async (s) => {
      const c = await H2Client.connect(s.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, 100000] });
      try {
        c.get(1, '/bytes?n=50000');
        c.get(3, '/bytes?n=50000');
        await c.waitUntil(() => dataOn(c, 1) + dataOn(c, 3) === 65535, 'the default connection window');
        await c.expectNoFrameBeforePingAck(FrameType.DATA, () => dataOn(c, 1) + dataOn(c, 3) > 65535);
        c.send(windowUpdate(0, 100000));
        await c.waitUntil(() => dataOn(c, 1) + dataOn(c, 3) === 100000, 'everything');
      } finally {
        c.close();
      }
    }));

  test('a WINDOW_UPDATE past 2^31-1 on a stream: RST_STREAM(FLOW_CONTROL_ERROR), connection lives', () =>
    withServer({}, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
        c.send(windowUpdate(1, MAX_WINDOW_SIZE));
        await c.expectRst(1, ErrorCode.FLOW_CONTROL_ERROR);
        await c.expectAlive(3);
      } finally {
        c.close();
      }
    }));

  test('the server hands the stream window back as the echo consumes it (1 MiB through a 64 KiB window)', () =>
    withServer({ initialWindowSize: 65535 }, async (s) => {
      const c = await H2Client.connect(s.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE] });
      try {
        c.send(windowUpdate(0, MAX_WINDOW_SIZE - 65535));
        c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
        const chunk = Buffer.alloc(16384, 7);
        let sent = 0;
        let granted = 65535;
        const grants = () => {
          let g = 65535;
          for (const f of c.frames) if (f.type === FrameType.WINDOW_UPDATE && f.streamId === 1) g += f.increment;
          return g;
        };
        while (sent < 1 << 20) {
          await c.waitUntil(() => (granted = grants()) > sent, 'stream window');
          const n = Math.min(chunk.length, granted - sent, (1 << 20) - sent);
          sent += n;
          c.send(data(1, chunk.subarray(0, n), sent === 1 << 20));
        }
        await c.waitUntil(() => c.frames.some((f) => f.type === FrameType.DATA && f.streamId === 1 && f.endStream), 'echo end');
        assert.equal(dataOn(c, 1), 1 << 20);
      } finally {
        c.close();
      }
    }));
});

describe('a peer that never reads', () => {
  test('output stays bounded: reading stops, queued octets stay under the limit, all is delivered later', () => {
    const limit = 16384;
    return withServer({ maxOutboundBufferBytes: limit }, async (s) => {
      const c = await H2Client.connect(s.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE] });
      try {
        c.send(windowUpdate(0, MAX_WINDOW_SIZE - 65535));
        const big = 32 << 20;
        c.get(1, `/bytes?n=${big}`);
        await c.waitUntil(() => c.frames.some((f) => f.type === FrameType.HEADERS && f.streamId === 1), 'response headers');
        c.socket.pause(); // never read again (until the end of the test)
        const conn = onlyConnection(s);
        // Many HEAD requests (headers-only answers) and PINGs: each answer adds to the output the
        // server cannot write.
        const head = GET_HEADERS.slice();
        head[1] = 'HEAD';
        const reqs: Buffer[] = [];
        for (let i = 0; i < 3000; i++) reqs.push(c.headersFrame(3 + 2 * i, head, { endStream: true }));
        for (let i = 0; i < 50; i++) reqs.push(rawFrame(FrameType.PING, 0, 0, Buffer.alloc(8, i)));
        c.send(Buffer.concat(reqs));
        await until(() => conn.readingPaused);
        assert.ok(conn.stats.readPauses >= 1);
        // Bounded: the limit, plus what one flush may add (half the limit of DATA, the socket's
        // own high-water mark) and one frame's answer; far below the 32 MiB asked for.
        assert.ok(conn.stats.maxOutboundBytes <= 2 * limit + 65536, `queued ${conn.stats.maxOutboundBytes}`);
        assert.ok(conn.outboundBytes <= 2 * limit + 65536, `queued now ${conn.outboundBytes}`);
        // Now read everything: the big body, 3000 answers and 50 PING ACKs all arrive.
        c.socket.resume();
        await c.waitUntil(() => c.frames.filter((f) => f.type === FrameType.PING && f.ack).length === 50, 'PING ACKs', 30000);
        await c.waitUntil(
          () => c.frames.some((f) => f.type === FrameType.DATA && f.streamId === 1 && f.endStream),
          'end of the big body',
          30000,
        );
        assert.equal(dataOn(c, 1), big);
        await c.waitUntil(
          () => c.frames.filter((f) => f.type === FrameType.HEADERS && f.streamId > 1 && f.endStream).length === 3000,
          '3000 responses',
          30000,
        );
        assert.ok(conn.stats.maxOutboundBytes <= 2 * limit + 65536, `queued ${conn.stats.maxOutboundBytes}`);
        assert.equal(conn.stats.goawayCode, null);
      } finally {
        c.close();
      }
    });
  });
});

describe('limits and counters', () => {
  test('streams past maxConcurrentStreams get RST_STREAM(REFUSED_STREAM) and are counted', () =>
    withServer({ maxConcurrentStreams: 2 }, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        assert.equal(c.serverSetting(SettingId.MAX_CONCURRENT_STREAMS), 2);
        c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
        c.send(c.headersFrame(3, POST_HEADERS, { endStream: false }));
        c.send(c.headersFrame(5, POST_HEADERS, { endStream: false }));
        await c.expectRst(5, ErrorCode.REFUSED_STREAM);
        const conn = onlyConnection(s);
        assert.equal(conn.stats.streamsRefused, 1);
        assert.equal(conn.stats.streamsOpened, 2);
        assert.equal(conn.openStreams, 2);
        c.send(data(1, 'x', true));
        const r = await c.expectResponse(1);
        assert.equal(r.body.toString(), 'x');
        await c.expectAlive(7); // a slot is free again
      } finally {
        c.close();
      }
    }));

  test('rapid reset: past maxResetsPerWindow RST_STREAMs the server sends GOAWAY(ENHANCE_YOUR_CALM)', () =>
    withServer({ maxResetsPerWindow: 10 }, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        const conn = onlyConnection(s);
        const frames: Buffer[] = [];
        for (let i = 0; i < 11; i++) {
          const id = 1 + 2 * i;
          frames.push(c.headersFrame(id, POST_HEADERS, { endStream: false }), rst(id, ErrorCode.CANCEL));
        }
        c.send(Buffer.concat(frames));
        const g = await c.expectGoaway(ErrorCode.ENHANCE_YOUR_CALM);
        assert.equal(g.lastStreamId, 21);
        assert.equal(conn.stats.resetsReceived, 11);
        assert.equal(conn.stats.goawayCode, ErrorCode.ENHANCE_YOUR_CALM);
        await c.expectClosed();
      } finally {
        c.close();
      }
    }));

  test('a header list above maxHeaderListSize gets a 431 and the connection goes on', () =>
    withServer({ maxHeaderListSize: 1000 }, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        assert.equal(c.serverSetting(SettingId.MAX_HEADER_LIST_SIZE), 1000);
        c.send(c.headersFrame(1, [...GET_HEADERS, 'x-big', 'v'.repeat(2000)], { endStream: true }));
        const r = await c.expectResponse(1);
        assert.equal(r.status, '431');
        await c.expectAlive(3);
        // the HPACK tables stayed in sync: the big field was indexed by our encoder
        await c.expectAlive(5);
      } finally {
        c.close();
      }
    }));

  test('idle timeout: GOAWAY(NO_ERROR) and close', () =>
    withServer({ maxConnectionIdleMs: 30 }, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        await c.expectAlive(1);
        // graceful, in two steps (RFC 9113 6.8): GOAWAY(2^31-1) + PING, then GOAWAY(last id)
        const first = await c.expectGoaway(ErrorCode.NO_ERROR);
        assert.equal(first.lastStreamId, MAX_STREAM_ID);
        await answerPing(c);
        const g = await c.expectGoaway(ErrorCode.NO_ERROR);
        assert.equal(g.lastStreamId, 1);
        await c.expectClosed();
      } finally {
        c.close();
      }
    }));

  test('handshake timeout: a client that sends nothing is disconnected', () =>
    withServer({ handshakeTimeoutMs: 30 }, async (s) => {
      const sock = net.connect(s.port, '127.0.0.1');
      sock.on('data', () => {});
      await new Promise<void>((resolve) => sock.on('close', () => resolve()));
      await until(() => s.connections.size === 0); // and the server side is gone too
    }));

  test('SETTINGS never acknowledged: GOAWAY(SETTINGS_TIMEOUT)', () =>
    withServer({ handshakeTimeoutMs: 30 }, async (s) => {
      const c = await H2Client.connect(s.port, { autoAck: false });
      try {
        await c.expectAlive(1); // the connection works meanwhile
        await c.expectGoaway(ErrorCode.SETTINGS_TIMEOUT);
        await c.expectClosed();
      } finally {
        c.close();
      }
    }));

  test('the first frame must be SETTINGS', () =>
    withServer({}, async (s) => {
      const c = await H2Client.connect(s.port, { preface: false });
      try {
        c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), rawFrame(FrameType.PING, 0, 0, Buffer.alloc(8)));
        await c.expectGoaway(ErrorCode.PROTOCOL_ERROR);
        await c.expectClosed();
      } finally {
        c.close();
      }
    }));
});

describe('graceful shutdown and trailers', () => {
  test('shutdown(): GOAWAY(NO_ERROR, 2^31-1), then GOAWAY(NO_ERROR, last id), new streams refused, open ones finish, then close', () =>
    withServer({}, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'abc'));
        await c.waitUntil(() => dataOn(c, 1) === 3, 'echo of the first bytes');
        const conn = onlyConnection(s);
        conn.shutdown();
        const first = await c.expectGoaway(ErrorCode.NO_ERROR);
        assert.equal(first.lastStreamId, MAX_STREAM_ID);
        await answerPing(c);
        const g = await c.expectGoaway(ErrorCode.NO_ERROR);
        assert.equal(g.lastStreamId, 1);
        c.send(c.headersFrame(3, GET_HEADERS, { endStream: true }));
        await c.expectRst(3, ErrorCode.REFUSED_STREAM);
        c.send(data(1, 'def'), c.headersFrame(1, ['x-sum', '6'], { endStream: true }));
        const r = await c.expectResponse(1);
        assert.equal(r.body.toString(), 'abcdef');
        assert.deepEqual(r.trailers, ['x-sum', '6']);
        await c.expectClosed();
      } finally {
        c.close();
      }
    }));

  test('a peer GOAWAY: existing streams finish, then the server closes', () =>
    withServer({}, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
        c.send(rawFrame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(ErrorCode.NO_ERROR)])));
        c.send(data(1, 'still here', true));
        const r = await c.expectResponse(1);
        assert.equal(r.body.toString(), 'still here');
        await c.expectClosed();
        await until(() => s.connections.size === 0);
      } finally {
        c.close();
      }
    }));
});

describe('output batching', () => {
  // Small frames are staged and joined, large DATA payloads are queued by reference: the order of
  // frames must survive every cut between the two, and every octet must arrive.
  test('300 responses in one batch, small and large bodies mixed, arrive whole and in order', () =>
    withServer({ maxConcurrentStreams: 1000 }, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        c.send(windowUpdate(0, 1 << 24));
        const frames: Buffer[] = [];
        const sizes: number[] = [];
        for (let i = 0; i < 300; i++) {
          const n = i % 3 === 0 ? 3000 + i : 1 + (i % 7); // 1000+ octets go by reference, the rest is staged
          sizes.push(n);
          const h = GET_HEADERS.slice();
          h[5] = `/bytes?n=${n}`;
          frames.push(c.headersFrame(1 + 2 * i, h, { endStream: true }));
        }
        c.send(Buffer.concat(frames));
        for (let i = 0; i < 300; i++) {
          const r = await c.expectResponse(1 + 2 * i);
          assert.equal(r.status, '200');
          assert.equal(r.body.length, sizes[i]);
          assert.ok(r.body.every((b) => b === 0x61), `stream ${1 + 2 * i}: body octets`);
        }
      } finally {
        c.close();
      }
    }));

  test('a trailer block larger than the peer MAX_FRAME_SIZE goes out as HEADERS + CONTINUATION', () =>
    withServer({ maxHeaderListSize: 1 << 17 }, async (s) => {
      const c = await H2Client.connect(s.port);
      try {
        // incompressible printable text: no Huffman gain, so the echoed block is > 16384 octets
        let big = '';
        for (let i = 0; i < 30000; i++) big += String.fromCharCode(0x21 + ((i * 7919) % 90));
        const block = c.encoder.encode(['x-big', big]);
        c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'body'));
        c.send(
          rawFrame(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 16000)),
          rawFrame(FrameType.CONTINUATION, 0, 1, block.subarray(16000, 32000)),
          rawFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(32000)),
        );
        const r = await c.expectResponse(1);
        assert.equal(r.body.toString(), 'body');
        assert.deepEqual(r.trailers, ['x-big', big]);
        await c.expectAlive(3);
      } finally {
        c.close();
      }
    }));
});
