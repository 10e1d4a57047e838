// The protobuf wire format at its plainest, for the few places that look inside serialized bytes
// without a message type: src/web/connect.ts (a google.rpc.Status's details) and
// src/services/reflection.ts (v1alpha's file descriptor made from v1's). Only the bundles that
// import one of them carry it.

/** One varint at `at`: [value, next offset] (up to 2^53, enough for lengths and keys). */
export function readVarint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  for (let shift = 1; ; shift *= 128) {
    if (at >= b.length) throw new RangeError('truncated varint');
    const x = b[at++]!;
    v += (x & 0x7f) * shift;
    if (x < 0x80) return [v, at];
  }
}

/** `v` as a varint (up to 2^53). */
export function varintBytes(v: number): Buffer {
  const bytes: number[] = [];
  for (; v > 127; v = Math.floor(v / 128)) bytes.push((v % 128) | 128);
  bytes.push(v);
  return Buffer.from(bytes);
}

/**
 * One field of a serialized message: its number and wire type, where it starts (its key), where its
 * value starts (for a length-delimited field, after the length) and where it ends.
 */
export type WireField = [num: number, wire: number, start: number, at: number, end: number];

/**
 * Each field of serialized message `b`, in order. Throws RangeError on a truncated varint or
 * length-delimited field, or a group; a fixed-size field cut short at the end ends past `b`.
 */
export function wireFields(b: Uint8Array): WireField[] {
  const out: WireField[] = [];
  for (let start = 0; start < b.length; ) {
    const [key, at] = readVarint(b, start);
    const wire = key % 8;
    let value = at;
    let end: number;
    if (wire === 0) end = readVarint(b, at)[1];
    else if (wire === 2) {
      const [len, a] = readVarint(b, at);
      value = a;
      end = a + len;
      if (end > b.length) throw new RangeError('truncated field');
    } else if (wire === 5) end = at + 4;
    else if (wire === 1) end = at + 8;
    else throw new RangeError('unsupported wire type');
    out.push([Math.floor(key / 8), wire, start, value, end]);
    start = end;
  }
  return out;
}
