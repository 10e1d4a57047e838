// The same server over TLS (ALPN "h2"): connection errors, floods and a peer that never reads
// behave as over plain TCP (a TLS socket buffers and closes differently), and an honest TLS
// client opened at the same time is served.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { ErrorCode } from '../../src/http2/errors.js';
import { FrameType, SettingId, MAX_WINDOW_SIZE } from '../../src/http2/frame/constants.js';
import { H2Client, GET_HEADERS, POST_HEADERS, honestRequests, rawFrame, u32 } from '../support/h2-client.js';
import { fromRoot } from '../support/paths.js';
import { echoFixture } from '../support/echo-fixture.js';

const ca = readFileSync(fromRoot('test/grpc/fixtures/ca.pem'));
const key = readFileSync(fromRoot('test/grpc/fixtures/server.key'));
const cert = readFileSync(fromRoot('test/grpc/fixtures/server.pem'));

const LIMITS = { maxResetsPerWindow: 20, maxPingsPerWindow: 20, floodWindowMs: 60_000, maxOutboundBufferBytes: 65536, maxConcurrentStreams: 16 };
const HONEST = 20;

const echo = echoFixture({ tls: { key, cert }, http2: LIMITS });
const { serverConn } = echo;

const connect = (opts: Parameters<typeof H2Client.connect>[1] = {}) => H2Client.connect(echo.port, { ...opts, tlsCa: ca });

describe('HTTP/2 over TLS', () => {
  test('ALPN selects h2 and a request is answered', async () => {
    const c = await connect({ settings: [SettingId.INITIAL_WINDOW_SIZE, 1 << 20] });
    try {
      c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(1 << 20)));
      assert.equal((c.socket as tls.TLSSocket).alpnProtocol, 'h2');
      assert.equal(serverConn(c).peer.secure, true);
      await c.expectAlive(1);
      c.post(3, Buffer.alloc(100000, 'q'));
      const r = await c.expectResponse(3);
      assert.equal(r.body.length, 100000);
    } finally {
      c.close();
    }
  });

  test('a connection error is a GOAWAY, then the TLS connection closes', async () => {
    const c = await connect();
    try {
      await c.expectAlive(1);
      c.send(rawFrame(FrameType.PING, 0, 1, Buffer.alloc(8)));
      const g = await c.expectConnectionError(ErrorCode.PROTOCOL_ERROR);
      assert.equal(g.lastStreamId, 1);
    } finally {
      c.close();
    }
  });

  test('a malformed request is a stream error; the TLS connection goes on', async () => {
    const c = await connect();
    try {
      c.send(c.headersFrame(1, [...GET_HEADERS, 'connection', 'close'], { endStream: true }));
      await c.expectStreamError(1, ErrorCode.PROTOCOL_ERROR, 3);
    } finally {
      c.close();
    }
  });

  test('rapid reset over TLS -> ENHANCE_YOUR_CALM; an honest TLS client is served meanwhile', async () => {
    const c = await connect();
    try {
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) {
        frames.push(c.headersFrame(1 + 2 * i, POST_HEADERS, { endStream: false }), rawFrame(FrameType.RST_STREAM, 0, 1 + 2 * i, u32(ErrorCode.CANCEL)));
      }
      c.send(Buffer.concat(frames));
      const [, answered] = await Promise.all([c.expectConnectionError(ErrorCode.ENHANCE_YOUR_CALM), honestRequests(echo.port, HONEST, 4, '/', ca)]);
      assert.equal(answered, HONEST);
    } finally {
      c.close();
    }
  });

  test('a peer that never reads: bounded buffering over TLS, then every response arrives', async () => {
    const c = await connect({ settings: [SettingId.INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE] });
    const conn = serverConn(c);
    try {
      c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(MAX_WINDOW_SIZE - 65535)));
      c.socket.pause();
      const SIZE = 1 << 20;
      const h = GET_HEADERS.slice();
      h[5] = `/bytes?n=${SIZE}`;
      const frames: Buffer[] = [];
      for (let i = 0; i < 8; i++) frames.push(c.headersFrame(1 + 2 * i, h, { endStream: true }));
      c.send(Buffer.concat(frames));
      const honest = honestRequests(echo.port, HONEST, 4, '/', ca);
      for (let i = 0; i < 300; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(await honest, HONEST);
      const bound = LIMITS.maxOutboundBufferBytes + 256 * 1024;
      assert.ok(conn.stats.maxOutboundBytes <= bound, `${conn.stats.maxOutboundBytes} octets queued for the socket (bound ${bound})`);
      c.socket.resume();
      for (let i = 0; i < 8; i++) {
        const r = await c.expectResponse(1 + 2 * i, 15000);
        assert.equal(r.body.length, SIZE);
      }
    } finally {
      c.close();
    }
  });
});
