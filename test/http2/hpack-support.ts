// Helpers shared by the hpack*.test.ts files (not a test file itself).
import assert from 'node:assert/strict';
import { ConnectionError, ErrorCode } from '../../src/http2/errors.js';
import type { DynamicTable } from '../../src/http2/hpack/dynamic-table.js';
import { randInt } from '../support/prng.js';

export { prng, randInt } from '../support/prng.js';

/** Bytes from RFC-style hex ("8286 8441 ..."), whitespace ignored. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** The table's entries, newest first, as [name, value] pairs. */
export function entries(t: DynamicTable): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 1; i <= t.count; i++) out.push([t.nameAt(i), t.valueAt(i)]);
  return out;
}

/** Assert `fn` throws ConnectionError(COMPRESSION_ERROR). */
export function assertCompressionError(fn: () => unknown, what?: string): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof ConnectionError && e.code === ErrorCode.COMPRESSION_ERROR,
    what,
  );
}

/** A random latin1 string of length [0, maxLen], any octet. */
export function randLatin1(rand: () => number, maxLen: number): string {
  const len = randInt(rand, maxLen + 1);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(randInt(rand, 256));
  return s;
}
