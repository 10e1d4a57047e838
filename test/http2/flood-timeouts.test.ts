// Peers that hold resources without flooding: one that never reads its responses, one that never
// completes the handshake, one that stays idle. Each time the offending connection is paused or
// closed with bounded memory, while a second, honest node:http2 connection opened at the same time
// has all its requests answered. Limits are small through Http2Options.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Http2ServerConnection } from '../../src/http2/connection.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { CLIENT_PREFACE, Flag, FrameType, SettingId, MAX_WINDOW_SIZE } from '../../src/http2/frame/constants.js';
import { H2Client, GET_HEADERS, POST_HEADERS, honestRequests, rawFrame, u32 } from '../support/h2-client.js';
import { echoFixture } from '../support/echo-fixture.js';

const LIMITS = {
  handshakeTimeoutMs: 300,
  maxConnectionIdleMs: 400,
  maxOutboundBufferBytes: 65536,
  maxConcurrentStreams: 16,
};
const HONEST = 20;

const echo = echoFixture({ http2: LIMITS });
const { serverConn } = echo;

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Octets the server holds for `conn`: queued for the socket plus DATA waiting in its streams. */
function held(conn: Http2ServerConnection): number {
  let pending = 0;
  for (const s of conn.streams.values()) pending += s.pending;
  return conn.outboundBytes + pending;
}

// What the server may hold for one connection: the outbound limit plus one flush of DATA, and per
// stream its write mark (64 KiB) plus one chunk of the handler's.
const SOCKET_BOUND = LIMITS.maxOutboundBufferBytes + 256 * 1024;
const HELD_BOUND = SOCKET_BOUND + LIMITS.maxConcurrentStreams * 128 * 1024;

describe('a peer that never reads', () => {
  test('large responses: the server stops writing at its outbound limit, then resumes', async () => {
    const c = await H2Client.connect(echo.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE] });
    const conn = serverConn(c);
    try {
      c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(MAX_WINDOW_SIZE - 65535)));
      c.socket.pause();
      // 16 MiB of responses with every flow-control window open: only the socket holds them back
      const SIZE = 1 << 20;
      const h = GET_HEADERS.slice();
      h[5] = `/bytes?n=${SIZE}`;
      const frames: Buffer[] = [];
      for (let i = 0; i < LIMITS.maxConcurrentStreams; i++) frames.push(c.headersFrame(1 + 2 * i, h, { endStream: true }));
      c.send(Buffer.concat(frames));
      const honest = honestRequests(echo.port, HONEST);
      let maxHeld = 0;
      for (let i = 0; i < 300; i++) {
        await tick();
        maxHeld = Math.max(maxHeld, held(conn));
      }
      assert.equal(await honest, HONEST);
      assert.ok(conn.stats.maxOutboundBytes <= SOCKET_BOUND, `${conn.stats.maxOutboundBytes} octets queued for the socket (bound ${SOCKET_BOUND})`);
      assert.ok(maxHeld <= HELD_BOUND, `${maxHeld} octets held for the connection (bound ${HELD_BOUND})`);
      // paused, not broken: once the peer reads, every response arrives whole
      c.socket.resume();
      for (let i = 0; i < LIMITS.maxConcurrentStreams; i++) {
        const r = await c.expectResponse(1 + 2 * i, 15000);
        assert.equal(r.body.length, SIZE);
      }
    } finally {
      c.close();
    }
  });

  test('many requests: the server stops reading or ends the connection; memory stays bounded', async () => {
    // The client opens every flow-control window as wide as it goes, so only the socket limits
    // what the server may queue, then never reads another byte.
    const c = await H2Client.connect(echo.port, { settings: [SettingId.INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE] });
    const conn = serverConn(c);
    try {
      c.send(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(MAX_WINDOW_SIZE - 65535)));
      c.socket.pause();
      const RESPONSE = 32768;
      const h = GET_HEADERS.slice();
      h[5] = `/bytes?n=${RESPONSE}`;
      let id = 1;
      let maxQueued = 0;
      const honest = honestRequests(echo.port, HONEST);
      // 1000 requests in batches of 8: 32 MB of responses if the server buffered them all
      for (let batch = 0; batch < 125 && !c.closed; batch++) {
        const frames: Buffer[] = [];
        for (let i = 0; i < 8; i++, id += 2) frames.push(c.headersFrame(id, h, { endStream: true }));
        c.send(Buffer.concat(frames));
        await tick();
        maxQueued = Math.max(maxQueued, held(conn));
      }
      assert.equal(await honest, HONEST);
      // either it stopped reading from the peer, or it ended the connection (GOAWAY, e.g. once
      // the peer's requests past the concurrency limit count as provoked resets)
      assert.ok(
        conn.stats.readPauses > 0 || conn.stats.goawayCode !== null,
        `the server neither stopped reading nor ended the connection: ${JSON.stringify(conn.stats)}`,
      );
      assert.ok(conn.stats.maxOutboundBytes <= SOCKET_BOUND, `${conn.stats.maxOutboundBytes} octets queued for the socket (bound ${SOCKET_BOUND})`);
      assert.ok(maxQueued <= HELD_BOUND, `${maxQueued} octets held for the connection (bound ${HELD_BOUND})`);
      // once the peer reads again, the connection either was cut or works again
      c.socket.resume();
      if (!c.closed) {
        c.ping(Buffer.from('resumed!'));
        await c.expectFrame(FrameType.PING, (f) => f.ack && f.data.toString() === 'resumed!', 10000).catch((e: unknown) => {
          if (!c.closed) throw e; // cut by the server: fine too
        });
      }
    } finally {
      c.close();
    }
  });
});

describe('handshake timeout', () => {
  // A server of its own without an idle timeout, so only the handshake timer can close these.
  const hs = echoFixture({ http2: { handshakeTimeoutMs: LIMITS.handshakeTimeoutMs, maxConnectionIdleMs: 0 } });

  const closedWithoutHandshake = (bytes: Buffer | null) => async () => {
    const c = await H2Client.connect(hs.port, { preface: false });
    try {
      if (bytes) c.send(bytes);
      const [, answered] = await Promise.all([c.expectClosed(3000), honestRequests(hs.port, HONEST)]);
      assert.equal(answered, HONEST);
    } finally {
      c.close();
    }
  };

  test('a connection that sends nothing is closed', closedWithoutHandshake(null));
  test('a connection that sends half the preface is closed', closedWithoutHandshake(CLIENT_PREFACE.subarray(0, 10)));
  test('a connection that sends the preface but no SETTINGS is closed', closedWithoutHandshake(CLIENT_PREFACE));

  // "If the sender of a SETTINGS frame does not receive an acknowledgment within a reasonable
  // amount of time, it MAY issue a connection error (Section 5.4.1) of type SETTINGS_TIMEOUT." (6.5.3)
  test('a client that never acknowledges the server SETTINGS gets SETTINGS_TIMEOUT', async () => {
    const c = await H2Client.connect(hs.port, { autoAck: false, handshake: false });
    try {
      const [, answered] = await Promise.all([c.expectGoaway(ErrorCode.SETTINGS_TIMEOUT, 3000), honestRequests(hs.port, HONEST)]);
      assert.equal(answered, HONEST);
      await c.expectClosed(3000);
    } finally {
      c.close();
    }
  });

  test('a connection that completed its handshake is not closed by the handshake timer', async () => {
    const c = await H2Client.connect(hs.port);
    try {
      await delay(3 * LIMITS.handshakeTimeoutMs);
      await c.expectNoFrameBeforePingAck(FrameType.GOAWAY);
      await c.expectAlive(1);
    } finally {
      c.close();
    }
  });
});

describe('idle timeout', () => {
  // "A server that is attempting to gracefully shut down a connection SHOULD send an initial
  // GOAWAY frame with the last stream identifier set to 2^31-1 and a NO_ERROR code." (6.8): an
  // idle close is graceful, GOAWAY(NO_ERROR, 2^31-1) with a PING, then after the PING ACK
  // GOAWAY(NO_ERROR) naming the last stream we processed.
  test('a connection with no open stream is closed with GOAWAY(NO_ERROR) after maxConnectionIdleMs', async () => {
    const c = await H2Client.connect(echo.port);
    try {
      await c.expectAlive(1);
      const [first, answered] = await Promise.all([c.expectGoaway(ErrorCode.NO_ERROR, 5000), honestRequests(echo.port, HONEST)]);
      assert.equal(answered, HONEST);
      assert.equal(first.lastStreamId, 0x7fffffff);
      const p = await c.expectFrame(FrameType.PING, (f) => !f.ack);
      c.ping(Buffer.from(p.data), true);
      const g = await c.expectGoaway(ErrorCode.NO_ERROR);
      assert.equal(g.lastStreamId, 1);
      await c.expectClosed(5000);
    } finally {
      c.close();
    }
  });

  test('a connection with an open stream is neither idle nor handshake-timed-out', async () => {
    const c = await H2Client.connect(echo.port);
    try {
      c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
      await delay(3 * LIMITS.maxConnectionIdleMs);
      await c.expectNoFrameBeforePingAck(FrameType.GOAWAY);
      c.send(rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from('still here')));
      const r = await c.expectResponse(1);
      assert.equal(r.body.toString(), 'still here');
      // and once the stream is done, the idle timer runs again
      await c.expectGoaway(ErrorCode.NO_ERROR, 5000);
    } finally {
      c.close();
    }
  });
});
