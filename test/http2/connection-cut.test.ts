// A flooding peer is cut without lingering (issue 14): when the frame that ends a connection is
// followed, in what the server has already read, by more than LINGER_BYTES (16 KB) it will never
// parse, the peer has written past the GOAWAY at least that much, and the linger would only read
// one more chunk to learn it. The server then hands the GOAWAY to the socket and destroys it at
// once: no further read, no FIN handshake, no linger timer. Below that bound it lingers as before
// (connection-close.test.ts). Over an in-memory Duplex, so that what one "read" holds is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { Http2ServerConnection } from '../../src/http2/connection.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { FrameReader } from '../../src/http2/frame/reader.js';
import { CLIENT_PREFACE, Flag, FrameType } from '../../src/http2/frame/constants.js';
import type { Frame, GoawayFrame } from '../../src/http2/frame/types.js';
import { newCounters } from '../../src/http2/keepalive.js';
import { GET_HEADERS, literalBlock, rawFrame, settingsPayload } from '../support/h2-client.js';

class Pipe extends Duplex {
  readonly chunks: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(chunk);
    cb();
  }
}

const HANDSHAKE = Buffer.concat([CLIENT_PREFACE, rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([]))]);
const pings = (n: number): Buffer => Buffer.concat(Array.from({ length: n }, (_, i) => rawFrame(FrameType.PING, 0, 0, Buffer.alloc(8, i))));
const tick = () => new Promise<void>((r) => setImmediate(r));

function serve(): { pipe: Pipe; conn: Http2ServerConnection; counters: ReturnType<typeof newCounters> } {
  const pipe = new Pipe();
  const counters = newCounters();
  const conn = new Http2ServerConnection(pipe, { remoteAddress: undefined, remotePort: undefined, secure: false }, { maxContinuationFrames: 8, maxPingsPerWindow: 3 }, () => {}, counters);
  return { pipe, conn, counters };
}

/** The frames the server wrote. */
function written(pipe: Pipe): Frame[] {
  const r = new FrameReader({ maxFrameSize: 1 << 24, maxContinuationFrames: 1 << 20, maxHeaderBlockSize: 1 << 30, expectPreface: false });
  for (const c of pipe.chunks) r.push(c);
  const out: Frame[] = [];
  for (let f = r.next(); f; f = r.next()) out.push(f);
  return out;
}

function goaway(pipe: Pipe): GoawayFrame {
  const g = written(pipe).filter((f): f is GoawayFrame => f.type === FrameType.GOAWAY);
  assert.equal(g.length, 1, 'one GOAWAY');
  return g[0]!;
}

test('a PING flood with 64 KB unread behind the 4th PING: GOAWAY(ENHANCE_YOUR_CALM), destroyed at once, nothing more read', async () => {
  const { pipe, conn, counters } = serve();
  // one read: the handshake, then 3,800 PINGs (~64 KB); the 4th is past maxPingsPerWindow (3)
  pipe.push(Buffer.concat([HANDSHAKE, pings(3800)]));
  await tick();
  assert.equal(conn.stats.pingsReceived, 4, 'not one PING parsed past the one that ended the connection');
  assert.equal(goaway(pipe).errorCode, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(pipe.destroyed, true, 'destroyed, not lingering');
  assert.equal(pipe.writableEnded, false, 'no FIN handshake first');
  assert.equal(counters.lingerCuts, 1);
  // what the peer writes now is never read
  pipe.push(pings(2000));
  await tick();
  assert.equal(conn.stats.lingerBytes, 0);
});

test('a CONTINUATION flood (the reader ends it) with more than 16 KB unread: cut at once', async () => {
  const { pipe, conn, counters } = serve();
  const cont = rawFrame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(0));
  pipe.push(Buffer.concat([HANDSHAKE, rawFrame(FrameType.HEADERS, Flag.END_STREAM, 1, literalBlock(GET_HEADERS)), ...Array.from({ length: 3000 }, () => cont)]));
  await tick();
  assert.equal(goaway(pipe).errorCode, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(pipe.destroyed, true);
  assert.equal(counters.lingerCuts, 1);
  assert.equal(conn.stats.streamsOpened, 0);
});

test('16 KB or less unread behind the error: the server lingers (FIN, reads and drops up to 16 KB more), as before', async () => {
  const { pipe, conn, counters } = serve();
  // the handshake and 4 PINGs, then 960 more (16,320 octets, under 16 KB)
  pipe.push(Buffer.concat([HANDSHAKE, pings(4 + 960)]));
  await tick();
  assert.equal(goaway(pipe).errorCode, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(pipe.destroyed, false, 'lingering for the peer to read the GOAWAY');
  assert.equal(pipe.writableEnded, true, 'our side ended (FIN)');
  assert.equal(counters.lingerCuts, 0);
  // 16 KB more read while lingering: the linger's own bound cuts it
  pipe.push(pings(1000));
  await tick();
  assert.ok(conn.stats.lingerBytes > 16 * 1024);
  assert.equal(pipe.destroyed, true);
  assert.equal(counters.lingerCuts, 1);
});
