// Every frame-level MUST of RFC 9113 sections 3.4, 4.2, 5.5 and 6: the error class, code and kind,
// and that a stream error leaves the reader usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, ErrorCode, StreamError } from '../../src/http2/errors.js';
import { FrameType } from '../../src/http2/frame/constants.js';
import * as B from '../support/frames.js';
import { newReader, readChunks } from './frame-helpers.js';

const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR } = ErrorCode;
const H = [0x82]; // an HPACK block (":method: GET"); the reader never decodes it

interface Case {
  name: string;
  bytes: Buffer;
  code: number;
  kind: 'connection' | 'stream';
  streamId?: number;
}

const cases: Case[] = [
  // Frames that MUST NOT be on stream 0.
  { name: 'DATA on stream 0', bytes: B.data(0, 'x'), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'HEADERS on stream 0', bytes: B.headers(0, H), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'PRIORITY on stream 0', bytes: B.priority(0, { dependency: 1 }), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'RST_STREAM on stream 0', bytes: B.rst(0, 8), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'CONTINUATION on stream 0', bytes: B.continuation(0, H), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'PUSH_PROMISE on stream 0', bytes: B.pushPromise(0, 2, H), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'DATA on stream 0 with the reserved bit', bytes: B.frame(0, 0, 0x80000000, 'x'), code: PROTOCOL_ERROR, kind: 'connection' },
  // Frames that MUST be on stream 0.
  { name: 'SETTINGS on stream 1', bytes: B.settings([], { streamId: 1 }), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'PING on stream 1', bytes: B.ping(Buffer.alloc(8), false, 1), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'GOAWAY on stream 1', bytes: B.goaway(0, 0, undefined, 1), code: PROTOCOL_ERROR, kind: 'connection' },
  // Padding.
  { name: 'DATA padding = payload length', bytes: B.frame(0, 0x8, 1, [5, 1, 2, 3, 4]), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'DATA padding > payload length', bytes: B.frame(0, 0x8, 1, [200, 1]), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'DATA PADDED without a pad length octet', bytes: B.frame(0, 0x8, 1, []), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'HEADERS padding = payload length', bytes: B.frame(1, 0xc, 1, [4, 0x82, 0, 0]), code: PROTOCOL_ERROR, kind: 'connection' },
  {
    name: 'HEADERS padding eats the priority fields',
    bytes: B.frame(1, 0x2c, 1, [2, 0, 0, 0, 3, 15, 0]),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  { name: 'HEADERS PRIORITY too short', bytes: B.frame(1, 0x24, 1, [0, 0, 0, 3]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'PUSH_PROMISE padding too long', bytes: B.frame(5, 0xc, 1, [4, 0, 0, 0, 2, 0, 0, 0]), code: PROTOCOL_ERROR, kind: 'connection' },
  { name: 'PUSH_PROMISE too short', bytes: B.frame(5, 0x4, 1, [0, 0, 2]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  // Sizes.
  { name: 'PRIORITY of 4 octets', bytes: B.frame(2, 0, 3, [0, 0, 0, 1]), code: FRAME_SIZE_ERROR, kind: 'stream', streamId: 3 },
  { name: 'PRIORITY of 6 octets', bytes: B.frame(2, 0, 3, [0, 0, 0, 1, 15, 0]), code: FRAME_SIZE_ERROR, kind: 'stream', streamId: 3 },
  { name: 'RST_STREAM of 3 octets', bytes: B.frame(3, 0, 1, [0, 0, 8]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'RST_STREAM of 5 octets', bytes: B.frame(3, 0, 1, [0, 0, 0, 8, 0]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'SETTINGS of 3 octets', bytes: B.frame(4, 0, 0, [0, 1, 0]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'SETTINGS of 7 octets', bytes: B.frame(4, 0, 0, Buffer.alloc(7)), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'SETTINGS ACK with a payload', bytes: B.settingsAck(B.settingsPayload([1, 0])), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'SETTINGS ACK with 1 octet', bytes: B.settingsAck([0]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'PING of 7 octets', bytes: B.ping(Buffer.alloc(7)), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'PING of 9 octets', bytes: B.ping(Buffer.alloc(9), true), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'PING of 0 octets', bytes: B.ping([]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'WINDOW_UPDATE of 3 octets', bytes: B.frame(8, 0, 1, [0, 0, 1]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'WINDOW_UPDATE of 5 octets on 0', bytes: B.frame(8, 0, 0, [0, 0, 0, 1, 0]), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'GOAWAY of 7 octets', bytes: B.frame(7, 0, 0, Buffer.alloc(7)), code: FRAME_SIZE_ERROR, kind: 'connection' },
  // WINDOW_UPDATE increment 0.
  { name: 'WINDOW_UPDATE 0 on stream 3', bytes: B.windowUpdate(3, 0), code: PROTOCOL_ERROR, kind: 'stream', streamId: 3 },
  { name: 'WINDOW_UPDATE 0 (R set) on stream 3', bytes: B.windowUpdate(3, 0x80000000), code: PROTOCOL_ERROR, kind: 'stream', streamId: 3 },
  { name: 'WINDOW_UPDATE 0 on stream 0', bytes: B.windowUpdate(0, 0), code: PROTOCOL_ERROR, kind: 'connection' },
  // Setting values.
  { name: 'SETTINGS_ENABLE_PUSH = 2', bytes: B.settings([B.S.ENABLE_PUSH, 2]), code: PROTOCOL_ERROR, kind: 'connection' },
  {
    name: 'SETTINGS_ENABLE_PUSH = 2^32-1',
    bytes: B.settings([B.S.ENABLE_PUSH, 0xffffffff]),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'SETTINGS_INITIAL_WINDOW_SIZE = 2^31',
    bytes: B.settings([B.S.INITIAL_WINDOW_SIZE, 2 ** 31]),
    code: FLOW_CONTROL_ERROR,
    kind: 'connection',
  },
  {
    name: 'SETTINGS_MAX_FRAME_SIZE = 16383',
    bytes: B.settings([B.S.MAX_FRAME_SIZE, 16383]),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'SETTINGS_MAX_FRAME_SIZE = 2^24',
    bytes: B.settings([B.S.MAX_FRAME_SIZE, 2 ** 24]),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'SETTINGS_MAX_FRAME_SIZE = 0 after valid settings',
    bytes: B.settings([B.S.HEADER_TABLE_SIZE, 0, 0x99, 1, B.S.MAX_FRAME_SIZE, 0]),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  // Self-dependency.
  {
    name: 'PRIORITY: stream depends on itself',
    bytes: B.priority(5, { dependency: 5, exclusive: true }),
    code: PROTOCOL_ERROR,
    kind: 'stream',
    streamId: 5,
  },
  // Frame size over SETTINGS_MAX_FRAME_SIZE (16384 here), any type.
  { name: 'DATA of 16385 octets', bytes: B.data(1, Buffer.alloc(16385)), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'HEADERS of 16385 octets', bytes: B.headers(1, Buffer.alloc(16385)), code: FRAME_SIZE_ERROR, kind: 'connection' },
  { name: 'unknown type of 16385 octets', bytes: B.frame(0xbb, 0, 1, Buffer.alloc(16385)), code: FRAME_SIZE_ERROR, kind: 'connection' },
  // Header block sequencing.
  { name: 'CONTINUATION without HEADERS', bytes: B.continuation(1, H), code: PROTOCOL_ERROR, kind: 'connection' },
  {
    name: 'CONTINUATION after a complete HEADERS',
    bytes: B.concat(B.headers(1, H), B.continuation(1, H)),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'PING inside a header block',
    bytes: B.concat(B.headers(1, H, { endHeaders: false }), B.ping(), B.continuation(1, H)),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'PRIORITY inside a header block',
    bytes: B.concat(B.headers(1, H, { endHeaders: false }), B.priority(1, { dependency: 0 })),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'HEADERS of another stream inside a header block',
    bytes: B.concat(B.headers(1, H, { endHeaders: false }), B.headers(3, H)),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'CONTINUATION of another stream',
    bytes: B.concat(B.headers(1, H, { endHeaders: false }), B.continuation(3, H)),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'CONTINUATION on stream 0 inside a header block',
    bytes: B.concat(B.headers(1, H, { endHeaders: false }), B.continuation(0, H)),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'unknown frame type inside a header block',
    bytes: B.concat(B.headers(1, H, { endHeaders: false }), B.frame(0xfa, 0, 1), B.continuation(1, H)),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
  {
    name: 'DATA inside a PUSH_PROMISE block',
    bytes: B.concat(B.pushPromise(1, 2, H, { endHeaders: false }), B.data(1, 'x')),
    code: PROTOCOL_ERROR,
    kind: 'connection',
  },
];

for (const c of cases) {
  test(`${c.name}: ${c.kind} error ${c.code}`, () => {
    for (const split of [false, true]) {
      // Whole, and one octet at a time: the error is the same.
      const chunks = split ? [...c.bytes].map((x) => Buffer.from([x])) : [c.bytes];
      const r = readChunks(chunks);
      const err = c.kind === 'connection' ? r.error : r.frames.find((f) => f instanceof StreamError);
      assert.ok(err !== null && err !== undefined, `no ${c.kind} error (got ${JSON.stringify(r.frames)})`);
      if (c.kind === 'connection') assert.ok(err instanceof ConnectionError);
      else assert.ok(err instanceof StreamError);
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.kind, c.kind);
      if (c.streamId !== undefined) assert.equal((err as StreamError).streamId, c.streamId);
    }
  });
}

test('a stream error consumes its frame: the reader goes on with the next one', () => {
  const r = newReader();
  r.push(B.concat(B.priority(3, { dependency: 3 }), B.windowUpdate(5, 0), B.frame(2, 0, 7, [1]), B.ping()));
  for (const [id, code] of [
    [3, PROTOCOL_ERROR],
    [5, PROTOCOL_ERROR],
    [7, FRAME_SIZE_ERROR],
  ] as const) {
    assert.throws(
      () => r.next(),
      (e: unknown) => e instanceof StreamError && e.streamId === id && e.code === code,
    );
  }
  assert.equal(r.next()?.type, FrameType.PING);
  assert.equal(r.next(), null);
  assert.equal(r.buffered, 0);
});

test('after a connection error the reader is finished', () => {
  const r = newReader();
  r.push(B.concat(B.data(0, 'x'), B.ping()));
  assert.throws(() => r.next(), ConnectionError);
  assert.equal(r.finished, true);
  assert.equal(r.next(), null);
  r.push(B.ping());
  assert.equal(r.next(), null);
  assert.equal(r.buffered, 0);
});

test('a frame over SETTINGS_MAX_FRAME_SIZE is refused on its header, before its payload is buffered', () => {
  const r = newReader({ maxFrameSize: 16384 });
  r.push(B.data(1, Buffer.alloc(1_000_000)).subarray(0, 9));
  assert.throws(
    () => r.next(),
    (e: unknown) => e instanceof ConnectionError && e.code === FRAME_SIZE_ERROR,
  );
  const r2 = newReader({ maxFrameSize: 16384 });
  r2.push(B.frame(0, 0, 1, [], { length: 0xffffff }));
  assert.throws(() => r2.next(), ConnectionError);
});

test('client preface: accepted whole or split, then frames follow', () => {
  const bytes = B.concat(B.PREFACE, B.settings([]), B.ping());
  for (const size of [1, 5, 24, 25, 1000]) {
    const r = readChunks(B.chunks(bytes, size), { expectPreface: true });
    assert.equal(r.error, null);
    assert.deepEqual(
      r.frames.map((f) => (f as { type: number }).type),
      [FrameType.SETTINGS, FrameType.PING],
    );
  }
});

test('client preface: a mismatch is a connection PROTOCOL_ERROR, found at the first wrong octet', () => {
  const bad = Buffer.from(B.PREFACE);
  bad[20] = 0x41;
  const r = readChunks([bad], { expectPreface: true });
  assert.ok(r.error instanceof ConnectionError);
  assert.equal(r.error.code, PROTOCOL_ERROR);
  assert.match(r.error.message, /preface/);
  // Frames without the preface.
  const r2 = readChunks([B.settings([])], { expectPreface: true });
  assert.equal(r2.error?.code, PROTOCOL_ERROR);
  // Only the first octets of an HTTP/2.0 preface with the wrong version: detected early.
  const r3 = readChunks([Buffer.from('PRI * HTTP/1.1')], { expectPreface: true });
  assert.equal(r3.error?.code, PROTOCOL_ERROR);
});

test('client preface: an HTTP/1.1 request is reported as such', () => {
  for (const req of ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'POST /pkg.Svc/Method HTTP/1.1\r\n\r\n', 'GET / HTTP/1.1']) {
    const r = readChunks([Buffer.from(req, 'latin1')], { expectPreface: true });
    assert.ok(r.error instanceof ConnectionError);
    assert.equal(r.error.code, PROTOCOL_ERROR);
    assert.match(r.error.message, /HTTP\/1\.1 request/);
    assert.match(r.error.message, new RegExp(req.split('\r\n')[0]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  }
  const garbage = readChunks([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])], { expectPreface: true });
  assert.equal(garbage.error?.code, PROTOCOL_ERROR);
  assert.doesNotMatch(garbage.error!.message, /HTTP\/1\.1/);
});
