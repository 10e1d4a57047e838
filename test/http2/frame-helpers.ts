// Shared helpers of the frame tests: a reader with defaults, feed-and-drain, error capture and
// random bytes and splits from the seeded PRNG of test/support/prng.ts.
import assert from 'node:assert/strict';
import { FrameReader, type FrameReaderOptions } from '../../src/http2/frame/reader.js';
import { ConnectionError, StreamError } from '../../src/http2/errors.js';
import type { Frame } from '../../src/http2/frame/types.js';
import { randInt } from '../support/prng.js';

export { prng, randInt } from '../support/prng.js';

export const DEFAULTS: FrameReaderOptions = {
  maxFrameSize: 16384,
  maxContinuationFrames: 8,
  maxHeaderBlockSize: 65536,
  expectPreface: false,
};

export function newReader(opts: Partial<FrameReaderOptions> = {}): FrameReader {
  return new FrameReader({ ...DEFAULTS, ...opts });
}

/** Pull frames until null; a StreamError is recorded and reading goes on, a ConnectionError ends. */
export function drain(r: FrameReader, out: (Frame | StreamError)[]): ConnectionError | null {
  for (let guard = 0; ; guard++) {
    assert.ok(guard < 1_000_000, 'reader does not make progress');
    let f: Frame | null;
    try {
      f = r.next();
    } catch (e) {
      if (e instanceof StreamError) {
        out.push(e);
        continue;
      }
      if (e instanceof ConnectionError) return e;
      throw e;
    }
    if (f === null) return null;
    out.push(f);
  }
}

export interface ReadResult {
  frames: (Frame | StreamError)[];
  error: ConnectionError | null;
  reader: FrameReader;
}

/** Feed `chunks` one by one (draining after each) into a new reader. */
export function readChunks(chunks: Buffer[], opts: Partial<FrameReaderOptions> = {}): ReadResult {
  const reader = newReader(opts);
  const frames: (Frame | StreamError)[] = [];
  for (const c of chunks) {
    reader.push(c);
    const error = drain(reader, frames);
    if (error !== null) return { frames, error, reader };
  }
  return { frames, error: null, reader };
}

/** All frames of `bytes` fed in one chunk; fails the test on a ConnectionError. */
export function readAll(bytes: Buffer, opts: Partial<FrameReaderOptions> = {}): (Frame | StreamError)[] {
  const r = readChunks([bytes], opts);
  if (r.error !== null) throw r.error;
  assert.equal(r.reader.buffered, 0, 'octets left unread');
  return r.frames;
}

/** The one frame in `bytes`. */
export function readOne(bytes: Buffer, opts: Partial<FrameReaderOptions> = {}): Frame {
  const frames = readAll(bytes, opts);
  assert.equal(frames.length, 1, `expected one frame, got ${frames.length}`);
  const f = frames[0]!;
  assert.ok(!(f instanceof StreamError), `unexpected ${String(f)}`);
  return f;
}

/** Split `buf` at the given sorted cut points. */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    if (c > prev && c < buf.length) {
      out.push(buf.subarray(prev, c));
      prev = c;
    }
  }
  out.push(buf.subarray(prev));
  return out;
}

export function randBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = randInt(rnd, 256);
  return b;
}

/** Split `buf` at random points into pieces of 1..maxPiece octets. */
export function randomSplit(rnd: () => number, buf: Buffer, maxPiece: number): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + randInt(rnd, maxPiece);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}
