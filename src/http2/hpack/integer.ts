// RFC 7541 section 5.1: prefix-N integers.
//
// "If the integer value is small enough, i.e., strictly less than 2^N-1, it is encoded within the
// N-bit prefix. Otherwise, all the bits of the prefix are set to 1, and the value, decreased by
// 2^N-1, is encoded using a list of one or more octets."

import { ConnectionError, ErrorCode } from '../errors.js';

/** The largest integer we accept: indexes, string lengths and table sizes all fit in 31 bits. */
export const MAX_INTEGER = 0x7fffffff;

/**
 * Continuation octets after the prefix we read at most: 5 x 7 bits cover 2^31 even with the prefix
 * at its smallest. "Integer encodings that exceed implementation limits -- in value or octet
 * length -- MUST be treated as decoding errors."
 */
const MAX_CONTINUATION_OCTETS = 5;

/** Where decodeInteger reads from; it moves `pos` past the integer. */
export interface Cursor {
  pos: number;
}

function compressionError(message: string): ConnectionError {
  return new ConnectionError(ErrorCode.COMPRESSION_ERROR, message);
}

const ENDS_INSIDE = 'header block ends inside an integer';

/**
 * Decode a prefix-`prefixBits` integer starting at `c.pos` (the first octet's high bits are the
 * representation's flags and are ignored). Throws COMPRESSION_ERROR when the block ends inside the
 * integer or the value is above MAX_INTEGER.
 */
export function decodeInteger(buf: Uint8Array, c: Cursor, end: number, prefixBits: number): number {
  let pos = c.pos;
  if (pos >= end) throw compressionError(ENDS_INSIDE);
  const max = (1 << prefixBits) - 1;
  let value = buf[pos++] & max;
  if (value < max) {
    c.pos = pos;
    return value;
  }
  let factor = 1;
  for (let n = 0; n < MAX_CONTINUATION_OCTETS; n++) {
    if (pos >= end) throw compressionError(ENDS_INSIDE);
    const b = buf[pos++];
    value += (b & 0x7f) * factor;
    if (value > MAX_INTEGER) throw compressionError('integer above 2^31-1');
    if ((b & 0x80) === 0) {
      c.pos = pos;
      return value;
    }
    factor *= 128;
  }
  throw compressionError('integer encoding longer than 5 continuation octets');
}

/**
 * Write `value` (0..MAX_INTEGER) as a prefix-`prefixBits` integer at `pos`, OR-ing `flags` into the
 * first octet. The caller guarantees 6 writable octets. Returns the position after the integer.
 */
export function encodeInteger(
  buf: Uint8Array,
  pos: number,
  value: number,
  prefixBits: number,
  flags: number,
): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    buf[pos++] = flags | value;
    return pos;
  }
  buf[pos++] = flags | max;
  value -= max;
  while (value >= 128) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
}
