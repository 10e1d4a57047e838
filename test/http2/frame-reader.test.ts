// FrameReader: CONTINUATION joining and its limits, decoding under arbitrary chunking (seeded
// property test against expected frames), and fuzz (random and mutated input never throws
// anything but ConnectionError / StreamError and always makes progress).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, ErrorCode, StreamError } from '../../src/http2/errors.js';
import { FrameType } from '../../src/http2/frame/constants.js';
import type { Frame, PriorityFields } from '../../src/http2/frame/types.js';
import { encodeHeaders } from '../../src/http2/frame/write.js';
import * as B from '../support/frames.js';
import { drain, newReader, prng, randBytes, randInt, randomSplit, readAll, readChunks, readOne } from './frame-helpers.js';

const { ENHANCE_YOUR_CALM, PROTOCOL_ERROR } = ErrorCode;

// ---- CONTINUATION joining ----

test('HEADERS + CONTINUATIONs are joined into one frame (flags and priority of the HEADERS)', () => {
  const prio = { exclusive: false, dependency: 1, weight: 16 };
  const bytes = B.concat(
    B.headers(3, 'abc', { endHeaders: false, endStream: true, priority: prio, padLength: 4 }),
    B.continuation(3, '', false),
    B.continuation(3, 'defg', false),
    B.continuation(3, 'h', true),
    B.ping(),
  );
  for (const size of [1, 2, 7, 1000]) {
    const r = readChunks(B.chunks(bytes, size));
    assert.equal(r.error, null);
    assert.deepEqual(r.frames, [
      { type: FrameType.HEADERS, streamId: 3, endStream: true, block: Buffer.from('abcdefgh'), priority: prio },
      { type: FrameType.PING, streamId: 0, ack: false, data: Buffer.alloc(8) },
    ]);
  }
});

test('PUSH_PROMISE + CONTINUATION is joined', () => {
  const f = readOne(B.concat(B.pushPromise(1, 4, 'ab', { endHeaders: false }), B.continuation(1, 'cd')));
  assert.deepEqual(f, { type: FrameType.PUSH_PROMISE, streamId: 1, promisedStreamId: 4, block: Buffer.from('abcd') });
});

test('consecutive header blocks on different streams are joined separately', () => {
  const frames = readAll(
    B.concat(
      B.headers(1, 'a', { endHeaders: false }),
      B.continuation(1, 'b'),
      B.headers(3, 'c', { endHeaders: false }),
      B.continuation(3, 'd', false),
      B.continuation(3, 'e'),
      B.headers(5, 'f'),
    ),
  );
  assert.deepEqual(
    frames.map((f) => [(f as Frame).streamId, ((f as { block: Buffer }).block).toString()]),
    [
      [1, 'ab'],
      [3, 'cde'],
      [5, 'f'],
    ],
  );
});

test('exactly maxContinuationFrames CONTINUATIONs are accepted; one more is ENHANCE_YOUR_CALM on its header', () => {
  const max = 8;
  const conts = Array.from({ length: max }, (_, i) => B.continuation(1, 'x', i === max - 1));
  assert.equal(readOne(B.concat(B.headers(1, 'h', { endHeaders: false }), ...conts), { maxContinuationFrames: max }).type, FrameType.HEADERS);

  const r = newReader({ maxContinuationFrames: max });
  r.push(B.headers(1, 'h', { endHeaders: false }));
  for (let i = 0; i < max; i++) r.push(B.continuation(1, 'x', false));
  assert.equal(r.next(), null);
  r.push(B.continuation(1, Buffer.alloc(1000), true).subarray(0, 9)); // the header alone
  assert.throws(
    () => r.next(),
    (e: unknown) => e instanceof ConnectionError && e.code === ENHANCE_YOUR_CALM && /CONTINUATION/.test(e.message),
  );
});

test('an endless run of empty CONTINUATIONs is cut off (CVE-2024-27316)', () => {
  const r = newReader({ maxContinuationFrames: 100 });
  r.push(B.headers(1, [0x82], { endHeaders: false }));
  const empty = B.continuation(1, '', false);
  let err: unknown = null;
  for (let i = 0; i < 10000 && err === null; i++) {
    r.push(empty);
    try {
      assert.equal(r.next(), null);
    } catch (e) {
      err = e;
      assert.equal(i, 100);
    }
  }
  assert.ok(err instanceof ConnectionError);
  assert.equal(err.code, ENHANCE_YOUR_CALM);
});

test('a joined block over maxHeaderBlockSize is ENHANCE_YOUR_CALM, refused before its payload arrives', () => {
  const opts = { maxHeaderBlockSize: 1000 };
  const ok = readOne(B.concat(B.headers(1, Buffer.alloc(500), { endHeaders: false }), B.continuation(1, Buffer.alloc(500))), opts);
  assert.equal(ok.type === FrameType.HEADERS && ok.block.length, 1000);

  const r = newReader(opts);
  r.push(B.headers(1, Buffer.alloc(500), { endHeaders: false }));
  assert.equal(r.next(), null);
  r.push(B.continuation(1, Buffer.alloc(501)).subarray(0, 9));
  assert.throws(
    () => r.next(),
    (e: unknown) => e instanceof ConnectionError && e.code === ENHANCE_YOUR_CALM && /field block/.test(e.message),
  );
  // Many small fragments add up too.
  const many = [B.headers(1, Buffer.alloc(100), { endHeaders: false })];
  for (let i = 0; i < 7; i++) many.push(B.continuation(1, Buffer.alloc(150), false));
  const r2 = readChunks([B.concat(...many)], { maxHeaderBlockSize: 1000, maxContinuationFrames: 100 });
  assert.equal(r2.error?.code, ENHANCE_YOUR_CALM);
});

test('encodeHeaders output is joined back for any maxFrameSize and split', () => {
  const rnd = prng(42);
  for (let i = 0; i < 200; i++) {
    const block = randBytes(rnd, randInt(rnd, 3000));
    const max = 16 + randInt(rnd, 2000);
    const bytes = encodeHeaders(9, block, i % 2 === 0, max);
    const r = readChunks(randomSplit(rnd, bytes, 64), { maxFrameSize: 16384, maxContinuationFrames: 1000 });
    assert.equal(r.error, null);
    assert.deepEqual(r.frames, [{ type: FrameType.HEADERS, streamId: 9, endStream: i % 2 === 0, block, priority: null }]);
  }
});

test('a CONTINUATION error is a connection PROTOCOL_ERROR also when split', () => {
  const bytes = B.concat(B.headers(1, 'a', { endHeaders: false }), B.data(1, 'x'));
  const r = readChunks(B.chunks(bytes, 1));
  assert.equal(r.error?.code, PROTOCOL_ERROR);
});

// ---- chunking property test ----

type Out = Frame | { streamError: number; code: number };

function norm(list: (Frame | StreamError)[]): Out[] {
  return list.map((f) => (f instanceof StreamError ? { streamError: f.streamId, code: f.code } : f));
}

const MAX_FRAME = 16384;

function randomPriority(rnd: () => number, notId: number): PriorityFields {
  let dependency = randInt(rnd, 2 ** 31);
  if (dependency === notId) dependency = (dependency + 1) & 0x7fffffff;
  return { exclusive: rnd() < 0.5, dependency, weight: 1 + randInt(rnd, 256) };
}

function randomStreamId(rnd: () => number): number {
  return rnd() < 0.8 ? 1 + randInt(rnd, 100) : 1 + randInt(rnd, 2 ** 31 - 1);
}

function smallLen(rnd: () => number): number {
  const x = rnd();
  return x < 0.6 ? randInt(rnd, 40) : x < 0.95 ? randInt(rnd, 1000) : randInt(rnd, MAX_FRAME - 300);
}

/** One random valid frame (sometimes a stream-error frame or an unknown type): bytes and what it decodes to. */
function randomFrame(rnd: () => number): { bytes: Buffer; out: Out[] } {
  const id = randomStreamId(rnd);
  switch (randInt(rnd, 12)) {
    case 0: {
      const data = randBytes(rnd, smallLen(rnd));
      const padLength = rnd() < 0.3 ? randInt(rnd, 256) : undefined;
      const endStream = rnd() < 0.5;
      const bytes = B.data(id, data, { endStream, padLength });
      const flowLength = data.length + (padLength === undefined ? 0 : padLength + 1);
      return { bytes, out: [{ type: FrameType.DATA, streamId: id, endStream, data, flowLength }] };
    }
    case 1:
    case 2: {
      const block = randBytes(rnd, smallLen(rnd));
      const priority = rnd() < 0.3 ? randomPriority(rnd, id) : null;
      const padLength = rnd() < 0.3 ? randInt(rnd, 256) : undefined;
      const endStream = rnd() < 0.5;
      const pieces = rnd() < 0.5 ? 1 : 1 + randInt(rnd, 6);
      const cuts = Array.from({ length: pieces - 1 }, () => randInt(rnd, block.length + 1)).sort((a, b) => a - b);
      const frags: Buffer[] = [];
      let prev = 0;
      for (const c of [...cuts, block.length]) {
        frags.push(block.subarray(prev, c));
        prev = c;
      }
      const parts = [B.headers(id, frags[0]!, { endStream, endHeaders: pieces === 1, padLength, priority: priority ?? undefined })];
      for (let i = 1; i < pieces; i++) parts.push(B.continuation(id, frags[i]!, i === pieces - 1));
      const exp: Frame = { type: FrameType.HEADERS, streamId: id, endStream, block, priority };
      return { bytes: B.concat(...parts), out: [exp] };
    }
    case 3: {
      const p = randomPriority(rnd, id);
      return { bytes: B.priority(id, p), out: [{ type: FrameType.PRIORITY, streamId: id, priority: p }] };
    }
    case 4: {
      const code = randInt(rnd, 2 ** 32);
      return { bytes: B.rst(id, code), out: [{ type: FrameType.RST_STREAM, streamId: id, errorCode: code }] };
    }
    case 5: {
      if (rnd() < 0.3) return { bytes: B.settingsAck(), out: [{ type: FrameType.SETTINGS, streamId: 0, ack: true, settings: [] }] };
      const pairs: number[] = [];
      const n = randInt(rnd, 6);
      for (let i = 0; i < n; i++) {
        const id = [1, 2, 3, 4, 5, 6, 8][randInt(rnd, 7)]!;
        const value =
          id === 2 ? randInt(rnd, 2) : id === 4 ? randInt(rnd, 2 ** 31) : id === 5 ? 16384 + randInt(rnd, 16777215 - 16384 + 1) : randInt(rnd, 2 ** 32);
        pairs.push(id, value);
      }
      return { bytes: B.settings(pairs), out: [{ type: FrameType.SETTINGS, streamId: 0, ack: false, settings: pairs }] };
    }
    case 6: {
      const data = randBytes(rnd, 8);
      const ack = rnd() < 0.5;
      return { bytes: B.ping(data, ack), out: [{ type: FrameType.PING, streamId: 0, ack, data }] };
    }
    case 7: {
      const debug = randBytes(rnd, randInt(rnd, 50));
      const last = randInt(rnd, 2 ** 31);
      const code = randInt(rnd, 14);
      return { bytes: B.goaway(last, code, debug), out: [{ type: FrameType.GOAWAY, streamId: 0, lastStreamId: last, errorCode: code, debug }] };
    }
    case 8: {
      const streamId = rnd() < 0.3 ? 0 : id;
      const inc = 1 + randInt(rnd, 2 ** 31 - 1);
      return { bytes: B.windowUpdate(streamId, inc), out: [{ type: FrameType.WINDOW_UPDATE, streamId, increment: inc }] };
    }
    case 9: {
      const block = randBytes(rnd, randInt(rnd, 60));
      const promised = randomStreamId(rnd);
      return { bytes: B.pushPromise(id, promised, block), out: [{ type: FrameType.PUSH_PROMISE, streamId: id, promisedStreamId: promised, block }] };
    }
    case 10: // unknown type: skipped
      return { bytes: B.frame(0xa + randInt(rnd, 0xf6), randInt(rnd, 256), randInt(rnd, 2 ** 32), randBytes(rnd, smallLen(rnd))), out: [] };
    default: // stream errors the reader reports and gets past
      if (rnd() < 0.5) return { bytes: B.windowUpdate(id, 0), out: [{ streamError: id, code: PROTOCOL_ERROR }] };
      return { bytes: B.priority(id, { dependency: id }), out: [{ streamError: id, code: PROTOCOL_ERROR }] };
  }
}

function randomSequence(rnd: () => number, n: number): { bytes: Buffer; out: Out[] } {
  const bytes: Buffer[] = [];
  const out: Out[] = [];
  for (let i = 0; i < n; i++) {
    const f = randomFrame(rnd);
    bytes.push(f.bytes);
    out.push(...f.out);
  }
  return { bytes: Buffer.concat(bytes), out };
}

test('random frame sequences decode identically however they are split', () => {
  const rnd = prng(20261125);
  for (let iter = 0; iter < 300; iter++) {
    const withPreface = iter % 3 === 0;
    const seq = randomSequence(rnd, 1 + randInt(rnd, 12));
    const input = withPreface ? Buffer.concat([B.PREFACE, seq.bytes]) : seq.bytes;
    const opts = { expectPreface: withPreface, maxFrameSize: MAX_FRAME };
    const splits: Buffer[][] = [[input], B.chunks(input, 1), randomSplit(rnd, input, 16), randomSplit(rnd, input, 3000)];
    const cuts = Array.from({ length: 5 }, () => randInt(rnd, input.length)).sort((a, b) => a - b);
    let prev = 0;
    const cutPieces: Buffer[] = [];
    for (const c of [...cuts, input.length]) {
      cutPieces.push(input.subarray(prev, c)); // may be empty: push() of nothing is fine
      prev = c;
    }
    splits.push(cutPieces);
    for (const chunks of splits) {
      const r = readChunks(chunks, opts);
      assert.equal(r.error, null, `seed iteration ${iter}: ${String(r.error)}`);
      assert.deepEqual(norm(r.frames), seq.out, `iteration ${iter}, ${chunks.length} chunks`);
      assert.equal(r.reader.buffered, 0);
      assert.deepEqual(norm(readReusing(chunks, opts)), seq.out, `reused frames, iteration ${iter}, ${chunks.length} chunks`);
    }
  }
});

/**
 * Feed `chunks` into a reader that reuses frames (FrameReader.reuse) and copy each frame as it
 * comes out (the reader fills the same DATA and HEADERS objects again), a HEADERS block cut to its
 * start..end. A HEADERS frame that CONTINUATIONs followed is a new object.
 */
function readReusing(chunks: Buffer[], opts: Parameters<typeof newReader>[0]): (Frame | StreamError)[] {
  const reader = newReader(opts);
  reader.reuse = [];
  const frames: (Frame | StreamError)[] = [];
  const objects = new Set<Frame>();
  let joined = 0;
  for (const c of chunks) {
    reader.push(c);
    for (;;) {
      let f: Frame | null;
      try {
        f = reader.next();
      } catch (e) {
        if (!(e instanceof StreamError)) throw e;
        frames.push(e);
        continue;
      }
      if (f === null) break;
      if (f.type === FrameType.HEADERS) {
        const { start, end, ...rest } = f;
        frames.push({ ...rest, block: Buffer.from(f.block.subarray(start, end)) });
        objects.add(f);
        if (start === undefined) joined++;
      } else {
        if (f.type === FrameType.DATA) objects.add(f);
        frames.push({ ...f });
      }
    }
  }
  assert.ok(objects.size <= 2 + joined, `${objects.size} DATA/HEADERS objects, ${joined} joined blocks`);
  return frames;
}

// ---- fuzz ----

/** Feed `chunks`; only ConnectionError / StreamError may come out, and every output consumed input. */
function fuzzOne(chunks: Buffer[], total: number, opts: Parameters<typeof newReader>[0]): void {
  const r = newReader(opts);
  const out: (Frame | StreamError)[] = [];
  for (const c of chunks) {
    r.push(c);
    const err = drain(r, out); // rethrows anything that is not an Http2 error: the test fails
    if (err !== null) {
      assert.ok(err instanceof ConnectionError);
      assert.equal(r.next(), null);
      break;
    }
  }
  // Every frame or stream error consumed at least one 9-octet frame header.
  assert.ok(out.length <= total / 9 + 1, `${out.length} outputs from ${total} octets`);
  for (const f of out) {
    if (f instanceof StreamError) {
      assert.ok(f.streamId > 0 && f.streamId <= 0x7fffffff);
      continue;
    }
    assert.ok(f.streamId >= 0 && f.streamId <= 0x7fffffff);
    assert.ok(f.type >= 0 && f.type <= 8);
    if (f.type === FrameType.DATA) assert.ok(f.data.length <= f.flowLength && f.flowLength <= (opts?.maxFrameSize ?? MAX_FRAME));
    // A joined block is within maxHeaderBlockSize; a single frame's within maxFrameSize.
    if (f.type === FrameType.HEADERS || f.type === FrameType.PUSH_PROMISE) {
      assert.ok(f.block.length <= Math.max(opts?.maxHeaderBlockSize ?? 65536, opts?.maxFrameSize ?? MAX_FRAME));
    }
  }
}

test('fuzz: random bytes never throw anything but ConnectionError / StreamError', () => {
  const rnd = prng(7);
  for (let iter = 0; iter < 3000; iter++) {
    let input = randBytes(rnd, randInt(rnd, 400));
    const expectPreface = rnd() < 0.3;
    if (expectPreface && rnd() < 0.7) input = Buffer.concat([B.PREFACE, input]);
    // Small length fields make random bytes parse as whole frames more often.
    if (rnd() < 0.5) for (let i = expectPreface ? 24 : 0; i + 9 <= input.length; i += 9 + input[i + 2]! % 40) {
      input[i] = 0;
      input[i + 1] = 0;
      input[i + 2] = input[i + 2]! % 40;
      input[i + 3] = input[i + 3]! % 11;
    }
    const maxFrameSize = rnd() < 0.5 ? 16384 : 16777215;
    fuzzOne(randomSplit(rnd, input, 1 + randInt(rnd, 64)), input.length, { expectPreface, maxFrameSize });
  }
});

test('fuzz: mutated valid frame streams never throw anything but ConnectionError / StreamError', () => {
  const rnd = prng(99);
  for (let iter = 0; iter < 3000; iter++) {
    const seq = randomSequence(rnd, 1 + randInt(rnd, 6));
    const b = Buffer.from(seq.bytes);
    let input: Buffer = b;
    const kind = randInt(rnd, 5);
    if (kind === 0) {
      for (let k = 1 + randInt(rnd, 4); k > 0; k--) b[randInt(rnd, b.length)] = randInt(rnd, 256);
    } else if (kind === 1) {
      // Hit the header fields of the first frames: length, type, flags, stream id.
      for (let k = 1 + randInt(rnd, 3); k > 0; k--) b[randInt(rnd, Math.min(b.length, 30))] ^= 1 << randInt(rnd, 8);
    } else if (kind === 2) {
      input = b.subarray(0, randInt(rnd, b.length));
    } else if (kind === 3) {
      const at = randInt(rnd, b.length);
      input = Buffer.concat([b.subarray(0, at), randBytes(rnd, 1 + randInt(rnd, 12)), b.subarray(at)]);
    } else {
      const at = randInt(rnd, b.length);
      input = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + randInt(rnd, 12))]);
    }
    const opts = {
      maxFrameSize: MAX_FRAME,
      maxContinuationFrames: randInt(rnd, 4),
      maxHeaderBlockSize: 1 + randInt(rnd, 4000),
    };
    fuzzOne(randomSplit(rnd, input, 1 + randInt(rnd, 200)), input.length, opts);
  }
});
