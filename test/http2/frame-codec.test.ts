// Encoders against the independent test builder (exact bytes), then the reader on those bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeData,
  encodeDataHeader,
  encodeFrame,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodePriority,
  encodePushPromise,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  writeFrameHeader,
} from '../../src/http2/frame/write.js';
import { parseFrame } from '../../src/http2/frame/parse.js';
import { FrameType } from '../../src/http2/frame/constants.js';
import type { Frame } from '../../src/http2/frame/types.js';
import * as B from '../support/frames.js';
import { newReader, readAll, readOne } from './frame-helpers.js';

const block = (n: number, seed = 7): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

test('SETTINGS: exact bytes and read back (known ids kept in order, values as u32)', () => {
  const pairs = [1, 4096, 2, 0, 3, 100, 4, 2147483647, 5, 16777215, 6, 0xffffffff, 8, 1];
  const bytes = encodeSettings(pairs, false);
  assert.deepEqual(bytes, B.settings(pairs));
  assert.deepEqual(readOne(bytes), { type: FrameType.SETTINGS, streamId: 0, ack: false, settings: pairs });
  const empty = encodeSettings([], false);
  assert.deepEqual(empty, B.settings([]));
  assert.deepEqual(readOne(empty), { type: FrameType.SETTINGS, streamId: 0, ack: false, settings: [] });
});

test('SETTINGS ACK: exact bytes, pairs ignored, read back', () => {
  assert.deepEqual(encodeSettings([], true), B.settingsAck());
  assert.deepEqual(encodeSettings([1, 2], true), B.settingsAck());
  assert.deepEqual(readOne(encodeSettings([], true)), { type: FrameType.SETTINGS, streamId: 0, ack: true, settings: [] });
});

test('unknown settings are left out of the list', () => {
  const f = readOne(B.settings([0x1, 100, 0xff, 5, 0x9, 7, 0x6, 200]));
  assert.deepEqual(f, { type: FrameType.SETTINGS, streamId: 0, ack: false, settings: [1, 100, 6, 200] });
});

test('PING with and without ACK', () => {
  const data = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
  for (const ack of [false, true]) {
    const bytes = encodePing(data, ack);
    assert.deepEqual(bytes, B.ping(data, ack));
    assert.deepEqual(readOne(bytes), { type: FrameType.PING, streamId: 0, ack, data });
  }
  assert.throws(() => encodePing(Buffer.alloc(7), false), RangeError);
});

test('GOAWAY with and without debug data; the reserved bit of the last stream id is masked', () => {
  const debug = Buffer.from('too many requests');
  assert.deepEqual(encodeGoaway(0x7fffffff, 0xb, debug), B.goaway(0x7fffffff, 0xb, debug));
  assert.deepEqual(encodeGoaway(5, 0), B.goaway(5, 0));
  assert.deepEqual(readOne(encodeGoaway(7, 0xffffffff, debug)), {
    type: FrameType.GOAWAY,
    streamId: 0,
    lastStreamId: 7,
    errorCode: 0xffffffff,
    debug,
  });
  const f = readOne(B.goaway(0x80000003, 2));
  assert.equal(f.type === FrameType.GOAWAY && f.lastStreamId, 3);
});

test('RST_STREAM', () => {
  assert.deepEqual(encodeRstStream(3, 8), B.rst(3, 8));
  assert.deepEqual(readOne(encodeRstStream(0x7ffffffd, 0xdeadbeef)), {
    type: FrameType.RST_STREAM,
    streamId: 0x7ffffffd,
    errorCode: 0xdeadbeef,
  });
});

test('WINDOW_UPDATE on stream 0 and a stream; the reserved bit of the increment is ignored', () => {
  assert.deepEqual(encodeWindowUpdate(0, 2147483647), B.windowUpdate(0, 2147483647));
  assert.deepEqual(encodeWindowUpdate(9, 1), B.windowUpdate(9, 1));
  assert.deepEqual(readOne(encodeWindowUpdate(9, 1000)), { type: FrameType.WINDOW_UPDATE, streamId: 9, increment: 1000 });
  assert.deepEqual(readOne(B.windowUpdate(1, 0x80000005)), { type: FrameType.WINDOW_UPDATE, streamId: 1, increment: 5 });
});

test('PRIORITY: exclusive bit, weight 1 and 256', () => {
  for (const p of [
    { exclusive: true, dependency: 5, weight: 256 },
    { exclusive: false, dependency: 0x7fffffff, weight: 1 },
  ]) {
    const bytes = encodePriority(3, p);
    assert.deepEqual(bytes, B.priority(3, p));
    assert.deepEqual(readOne(bytes), { type: FrameType.PRIORITY, streamId: 3, priority: p });
  }
});

test('DATA: whole frame, separate header + payload, empty with END_STREAM', () => {
  const payload = block(1000);
  const whole = encodeData(1, payload, true);
  assert.deepEqual(whole, B.data(1, payload, { endStream: true }));
  assert.deepEqual(Buffer.concat([encodeDataHeader(1, payload.length, true), payload]), whole);
  assert.deepEqual(readOne(whole), { type: FrameType.DATA, streamId: 1, endStream: true, data: payload, flowLength: 1000 });
  assert.deepEqual(encodeDataHeader(3, 0, true), B.data(3, [], { endStream: true }));
  assert.deepEqual(readOne(encodeData(3, Buffer.alloc(0), false)), {
    type: FrameType.DATA,
    streamId: 3,
    endStream: false,
    data: Buffer.alloc(0),
    flowLength: 0,
  });
});

test('padded DATA: padding removed, flowLength counts it all', () => {
  const payload = Buffer.from('hello');
  assert.deepEqual(readOne(B.data(5, payload, { padLength: 10, endStream: true })), {
    type: FrameType.DATA,
    streamId: 5,
    endStream: true,
    data: payload,
    flowLength: 16,
  });
  // Pad Length 0 and an empty body: the padded frame's payload is the one length octet.
  assert.deepEqual(readOne(B.data(5, [], { padLength: 0 })), {
    type: FrameType.DATA,
    streamId: 5,
    endStream: false,
    data: Buffer.alloc(0),
    flowLength: 1,
  });
});

test('HEADERS in one frame: exact bytes and read back', () => {
  const b = block(100);
  for (const endStream of [false, true]) {
    const bytes = encodeHeaders(1, b, endStream, 16384);
    assert.deepEqual(bytes, B.headers(1, b, { endStream }));
    assert.deepEqual(readOne(bytes), { type: FrameType.HEADERS, streamId: 1, endStream, block: b, priority: null });
  }
  assert.deepEqual(encodeHeaders(3, Buffer.alloc(0), true, 16384), B.headers(3, [], { endStream: true }));
});

test('HEADERS split into CONTINUATIONs by maxFrameSize, joined again by the reader', () => {
  const b = block(40000);
  const bytes = encodeHeaders(7, b, true, 16384);
  const expected = B.concat(
    B.headers(7, b.subarray(0, 16384), { endStream: true, endHeaders: false }),
    B.continuation(7, b.subarray(16384, 32768), false),
    B.continuation(7, b.subarray(32768), true),
  );
  assert.deepEqual(bytes, expected);
  assert.deepEqual(readOne(bytes), { type: FrameType.HEADERS, streamId: 7, endStream: true, block: b, priority: null });
  // A block of exactly two frames' worth needs no empty third frame.
  const two = encodeHeaders(1, block(32768), false, 16384);
  assert.equal(two.length, 2 * 9 + 32768);
  assert.deepEqual(readOne(two, { maxFrameSize: 16384 }), {
    type: FrameType.HEADERS,
    streamId: 1,
    endStream: false,
    block: block(32768),
    priority: null,
  });
  // Larger peer frame size: one frame.
  assert.equal(encodeHeaders(1, b, false, 65536).length, 9 + 40000);
});

test('PUSH_PROMISE (+ CONTINUATION) round trip', () => {
  const b = block(50);
  const one = encodePushPromise(1, 2, b, 16384);
  assert.deepEqual(one, B.pushPromise(1, 2, b));
  assert.deepEqual(readOne(one), { type: FrameType.PUSH_PROMISE, streamId: 1, promisedStreamId: 2, block: b });
  const big = block(20000);
  const split = encodePushPromise(3, 4, big, 16384);
  assert.deepEqual(
    split,
    B.concat(B.pushPromise(3, 4, big.subarray(0, 16380), { endHeaders: false }), B.continuation(3, big.subarray(16380))),
  );
  assert.deepEqual(readOne(split), { type: FrameType.PUSH_PROMISE, streamId: 3, promisedStreamId: 4, block: big });
  const padded = readOne(B.pushPromise(1, 0x80000006, b, { padLength: 3 }));
  assert.deepEqual(padded, { type: FrameType.PUSH_PROMISE, streamId: 1, promisedStreamId: 6, block: b });
});

test('HEADERS with PRIORITY and PADDED: priority parsed, padding removed', () => {
  const b = block(33);
  const prio = { exclusive: true, dependency: 3, weight: 200 };
  for (const padLength of [undefined, 0, 7]) {
    const f = readOne(B.headers(5, b, { priority: prio, padLength, endStream: true }));
    assert.deepEqual(f, { type: FrameType.HEADERS, streamId: 5, endStream: true, block: b, priority: prio });
  }
});

test('HEADERS depending on itself is delivered (the connection checks it after HPACK decoding)', () => {
  const f = readOne(B.headers(5, [0x82], { priority: { dependency: 5 } }));
  assert.equal(f.type, FrameType.HEADERS);
  assert.equal(f.type === FrameType.HEADERS && f.priority?.dependency, 5);
});

test('writeFrameHeader at an offset; the reserved bit is never sent', () => {
  const buf = Buffer.alloc(20, 0xee);
  writeFrameHeader(buf, 3, 0x123456, 0x9, 0xff, 0xffffffff);
  assert.deepEqual(
    buf,
    Buffer.from([0xee, 0xee, 0xee, 0x12, 0x34, 0x56, 0x09, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]),
  );
  assert.deepEqual(encodeRstStream(0x80000001, 0), B.rst(1, 0));
  assert.deepEqual(encodeFrame(0xfa, 3, 9, Buffer.from('xyz')), B.frame(0xfa, 3, 9, 'xyz'));
});

test('the reserved bit of the stream identifier is ignored on receipt', () => {
  const f = readOne(B.frame(FrameType.DATA, 0, 0x80000001, 'abc'));
  assert.equal(f.streamId, 1);
  const p = readOne(B.frame(FrameType.PING, 0, 0x80000000, Buffer.alloc(8)));
  assert.equal(p.type, FrameType.PING);
});

test('undefined flags are ignored', () => {
  const f = readOne(B.frame(FrameType.PING, 0xfe, 0, Buffer.alloc(8)));
  assert.deepEqual(f, { type: FrameType.PING, streamId: 0, ack: false, data: Buffer.alloc(8) });
  const h = readOne(B.frame(FrameType.HEADERS, 0x4 | 0x2 | 0x10 | 0x40 | 0x80, 1, [0x82]));
  assert.deepEqual(h, { type: FrameType.HEADERS, streamId: 1, endStream: false, block: Buffer.from([0x82]), priority: null });
});

test('unknown frame types are skipped, also when their payload arrives later', () => {
  const frames = readAll(
    B.concat(B.ping(), B.frame(0xa, 0xff, 0, 'x'.repeat(100)), B.frame(0xff, 0, 3), B.rst(1, 8), B.frame(0x10, 0, 1, 'zz')),
  );
  assert.deepEqual(
    frames.map((f) => (f as Frame).type),
    [FrameType.PING, FrameType.RST_STREAM],
  );
  const r = newReader();
  const unknown = B.frame(0x20, 0, 1, Buffer.alloc(10000));
  r.push(unknown.subarray(0, 100));
  assert.equal(r.next(), null);
  assert.equal(r.buffered, 0, 'the unknown payload is discarded, not buffered');
  r.push(Buffer.concat([unknown.subarray(100), B.ping()]));
  assert.equal(r.next()?.type, FrameType.PING);
  assert.equal(r.next(), null);
});

test('a frame inside one chunk is a slice of it (no copy); a frame across chunks is whole', () => {
  const payload = block(500);
  const chunk = B.concat(B.ping(), B.data(1, payload), B.ping());
  const r = newReader();
  r.push(chunk);
  assert.equal(r.next()?.type, FrameType.PING);
  const d = r.next();
  assert.ok(d !== null && d.type === FrameType.DATA);
  assert.equal(d.data.buffer, chunk.buffer);
  assert.equal(d.data.byteOffset, chunk.byteOffset + 17 + 9);
  assert.deepEqual(d.data, payload);
  assert.equal(r.next()?.type, FrameType.PING);
  assert.equal(r.next(), null);

  const r2 = newReader();
  const bytes = B.data(1, payload);
  r2.push(bytes.subarray(0, 200));
  assert.equal(r2.next(), null);
  r2.push(bytes.subarray(200, 300));
  assert.equal(r2.next(), null);
  r2.push(bytes.subarray(300));
  const d2 = r2.next();
  assert.ok(d2 !== null && d2.type === FrameType.DATA);
  assert.deepEqual(d2.data, payload);
});

test('maxFrameSize can be raised', () => {
  const big = B.data(1, Buffer.alloc(20000));
  const r = newReader();
  r.maxFrameSize = 20000;
  r.push(big);
  const f = r.next();
  assert.ok(f !== null && f.type === FrameType.DATA && f.data.length === 20000);
});

test('parseFrame parses a single payload by type', () => {
  assert.deepEqual(parseFrame(FrameType.RST_STREAM, 0, 0x80000001, Buffer.from([0, 0, 0, 8])), {
    type: FrameType.RST_STREAM,
    streamId: 1,
    errorCode: 8,
  });
  assert.throws(() => parseFrame(0x9, 0, 1, Buffer.alloc(0)), RangeError);
});
