// After a connection error (RFC 9113 5.4.1: "After sending the GOAWAY frame for an error condition,
// the endpoint MUST close the TCP connection") the server stops parsing at once and lingers only a
// little: it reads and drops at most LINGER_BYTES more, for at most LINGER_MS, so a peer that
// ignores the GOAWAY and keeps writing costs next to nothing. Checked by what the server read and
// processed after the GOAWAY (its stats), and for the time bound with mocked timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Http2ServerConnection } from '../../src/http2/connection.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { CLIENT_PREFACE, Flag, FrameType } from '../../src/http2/frame/constants.js';
import { H2Client, rawFrame, settingsPayload } from '../support/h2-client.js';
import { echoFixture } from '../support/echo-fixture.js';

const echo = echoFixture();
const { serverConn } = echo;

/** DATA on stream 0: "the recipient MUST respond with a connection error of type PROTOCOL_ERROR" (6.1) */
const BAD = rawFrame(FrameType.DATA, 0, 0, Buffer.alloc(4));
const PINGS = Buffer.concat(Array.from({ length: 4096 }, (_, i) => rawFrame(FrameType.PING, 0, 0, Buffer.alloc(8, i))));

test('a peer that ignores GOAWAY and keeps writing is cut after a bounded amount of reading', async () => {
  const c = await H2Client.connect(echo.port);
  const conn = serverConn(c);
  try {
    const pingsBefore = conn.stats.pingsReceived;
    c.send(BAD);
    // ~150 KB of valid PING frames per write, as fast as the socket takes them, until the server cuts
    let written = 0;
    for (let i = 0; i < 4000 && !c.closed; i++) {
      await c.sendAndFlush(PINGS);
      written += PINGS.length;
    }
    await c.expectGoaway(ErrorCode.PROTOCOL_ERROR);
    await c.expectClosed();
    // not one frame after the error was processed (no PING answered or counted)...
    assert.equal(conn.stats.pingsReceived, pingsBefore);
    assert.equal(c.frames.filter((f) => f.type === FrameType.PING).length, 0);
    // ...and at most 16 KB (plus the socket chunk that crossed the bound) was read and dropped
    assert.ok(conn.stats.lingerBytes <= 16 * 1024 + 65536, `${conn.stats.lingerBytes} octets read after the GOAWAY (${written} written)`);
  } finally {
    c.close();
  }
});

test('a peer that ignores GOAWAY and never closes its side is cut after LINGER_MS', async (t) => {
  // a raw client that half-closes nothing: the server's FIN does not end its side (allowHalfOpen)
  const s = net.connect({ port: echo.port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  s.on('error', () => {});
  let received = Buffer.alloc(0);
  s.on('data', (b: Buffer) => (received = Buffer.concat([received, b])));
  const ended = new Promise<void>((r) => s.once('end', r));
  s.write(Buffer.concat([CLIENT_PREFACE, rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([]))]));
  while (received.length === 0) await new Promise((r) => setImmediate(r));
  let conn: Http2ServerConnection | undefined;
  for (const x of echo.server.connections) if (x.peer.remotePort === s.localPort) conn = x;
  assert.ok(conn);
  // the server's closing timer is set when it fails the connection: mock timers from before then
  t.mock.timers.enable({ apis: ['setTimeout'] });
  s.write(Buffer.concat([rawFrame(FrameType.SETTINGS, Flag.ACK, 0), BAD]));
  await ended; // GOAWAY, then the server's FIN
  assert.equal(conn.stats.goawayCode, ErrorCode.PROTOCOL_ERROR);
  assert.equal(conn.socket.destroyed, false, 'the socket lingers for the peer to read the GOAWAY');
  const closed = new Promise<void>((r) => conn!.socket.once('close', r));
  t.mock.timers.tick(50);
  assert.equal(conn.socket.destroyed, true);
  await closed;
  s.destroy();
});
