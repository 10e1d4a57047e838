// Frame builder for tests: any HTTP/2 frame as raw bytes, valid or deliberately invalid.
//
// It is written independently of src/http2/frame/write.ts (on purpose: tests compare the two) and
// checks nothing: a stream id of 0 on DATA, a 7-octet PING, a padding length past the payload, a
// length field that lies, flags that make no sense: all of it is produced exactly as asked.
//
// Every helper returns one Buffer holding one complete frame (9-octet header + payload); join
// several with `concat(...)` and write them to a socket in one go or byte by byte.
//
//   import { PREFACE, concat, settings, headers, data, ping, frame } from '../support/frames.js';
//   sock.write(concat(PREFACE, settings([]), headers(1, block, { endStream: true })));
//   sock.write(ping(Buffer.alloc(7)));                     // PING with a wrong length
//   sock.write(data(0, Buffer.from('x')));                 // DATA on stream 0
//   sock.write(frame(0xfa, 0, 1, Buffer.from('ignored'))); // unknown frame type
//   sock.write(frame(0x6, 0, 0, Buffer.alloc(8), { length: 100 })); // length field says 100
//
// Payload arguments accept a Buffer, a Uint8Array, an array of octets or a latin1 string.

export const FRAME_HEADER_LENGTH = 9;

/** The 24-octet client connection preface (RFC 9113 section 3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Frame type codes (RFC 9113 section 6). */
export const T = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Flag bits (RFC 9113 section 6). */
export const F = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** SETTINGS identifiers (RFC 9113 section 6.5.2). */
export const S = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
} as const;

export type Bytes = Buffer | Uint8Array | readonly number[] | string;

/** Any payload argument as a Buffer (strings are latin1: one char per octet). */
export function bytes(b: Bytes | undefined): Buffer {
  if (b === undefined) return Buffer.alloc(0);
  if (typeof b === 'string') return Buffer.from(b, 'latin1');
  if (Buffer.isBuffer(b)) return b;
  return Buffer.from(b as Uint8Array);
}

/** Join frames (or any bytes) into one Buffer. */
export function concat(...parts: Bytes[]): Buffer {
  return Buffer.concat(parts.map(bytes));
}

/** A 32-bit big-endian integer (e.g. an error code or a stream id with the reserved bit). */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export interface FrameOptions {
  /** Value written in the 24-bit length field instead of the real payload length. */
  length?: number;
}

/**
 * One frame, exactly as given: `streamId` is written as a full 32-bit word, so passing
 * `0x80000001` sets the reserved bit. `length` (option) overrides the length field.
 */
export function frame(type: number, flags: number, streamId: number, payload?: Bytes, opts: FrameOptions = {}): Buffer {
  const body = bytes(payload);
  const out = Buffer.alloc(FRAME_HEADER_LENGTH + body.length);
  const len = opts.length ?? body.length;
  out[0] = (len >>> 16) & 0xff;
  out[1] = (len >>> 8) & 0xff;
  out[2] = len & 0xff;
  out[3] = type & 0xff;
  out[4] = flags & 0xff;
  out.writeUInt32BE(streamId >>> 0, 5);
  body.copy(out, FRAME_HEADER_LENGTH);
  return out;
}

/** SETTINGS payload alone from flat pairs [id, value, id, value, ...]. */
export function settingsPayload(pairs: readonly number[]): Buffer {
  const n = pairs.length >> 1;
  const b = Buffer.alloc(n * 6);
  for (let i = 0; i < n; i++) {
    b.writeUInt16BE(pairs[2 * i]! & 0xffff, i * 6);
    b.writeUInt32BE(pairs[2 * i + 1]! >>> 0, i * 6 + 2);
  }
  return b;
}

/** SETTINGS from flat pairs [id, value, ...]; `streamId` defaults to 0, `flags` to 0. */
export function settings(pairs: readonly number[] = [], opts: { streamId?: number; flags?: number } = {}): Buffer {
  return frame(T.SETTINGS, opts.flags ?? 0, opts.streamId ?? 0, settingsPayload(pairs));
}

/** SETTINGS with ACK; pass a payload to make an invalid one. */
export function settingsAck(payload?: Bytes): Buffer {
  return frame(T.SETTINGS, F.ACK, 0, payload);
}

/** PING; `data` defaults to 8 zero octets (any length may be given). */
export function ping(data: Bytes = Buffer.alloc(8), ack = false, streamId = 0): Buffer {
  return frame(T.PING, ack ? F.ACK : 0, streamId, data);
}

export interface Priority {
  /** Stream dependency (31 bits). */
  dependency: number;
  /** 1..256 (written as weight - 1). Default 16. */
  weight?: number;
  exclusive?: boolean;
}

/** The 5 octets of priority fields (E bit + dependency, weight - 1). */
export function priorityFields(p: Priority): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(((p.exclusive ? 0x80000000 : 0) | (p.dependency & 0x7fffffff)) >>> 0);
  b[4] = ((p.weight ?? 16) - 1) & 0xff;
  return b;
}

/** Pad-length octet + body + padding. `padLength` may exceed 255 only as a lie (it is written & 0xff). */
function padded(body: Buffer, padLength: number | undefined, prefix?: Buffer): Buffer {
  if (padLength === undefined) return prefix ? Buffer.concat([prefix, body]) : body;
  const parts: Buffer[] = [Buffer.from([padLength & 0xff])];
  if (prefix) parts.push(prefix);
  parts.push(body, Buffer.alloc(padLength));
  return Buffer.concat(parts);
}

export interface HeadersOptions {
  endStream?: boolean;
  /** Default true; false leaves the block open for CONTINUATION frames. */
  endHeaders?: boolean;
  /** Sets PADDED with this many zero padding octets. */
  padLength?: number;
  /** Sets PRIORITY and writes these 5 octets. */
  priority?: Priority;
  /** Extra flag bits ORed in. */
  flags?: number;
}

/** HEADERS carrying `block` (an HPACK header block fragment). */
export function headers(streamId: number, block: Bytes, o: HeadersOptions = {}): Buffer {
  let flags = o.flags ?? 0;
  if (o.endStream) flags |= F.END_STREAM;
  if (o.endHeaders ?? true) flags |= F.END_HEADERS;
  if (o.padLength !== undefined) flags |= F.PADDED;
  if (o.priority) flags |= F.PRIORITY;
  const prio = o.priority ? priorityFields(o.priority) : undefined;
  return frame(T.HEADERS, flags, streamId, padded(bytes(block), o.padLength, prio));
}

/** CONTINUATION; `endHeaders` defaults to true. */
export function continuation(streamId: number, block: Bytes, endHeaders = true): Buffer {
  return frame(T.CONTINUATION, endHeaders ? F.END_HEADERS : 0, streamId, block);
}

export interface DataOptions {
  endStream?: boolean;
  /** Sets PADDED with this many zero padding octets. */
  padLength?: number;
  flags?: number;
}

/** DATA. */
export function data(streamId: number, payload: Bytes = Buffer.alloc(0), o: DataOptions = {}): Buffer {
  let flags = o.flags ?? 0;
  if (o.endStream) flags |= F.END_STREAM;
  if (o.padLength !== undefined) flags |= F.PADDED;
  return frame(T.DATA, flags, streamId, padded(bytes(payload), o.padLength));
}

/** RST_STREAM with `code`. */
export function rst(streamId: number, code: number): Buffer {
  return frame(T.RST_STREAM, 0, streamId, u32(code));
}

/** WINDOW_UPDATE; `increment` is written as a full 32-bit word (0x80000000 sets the reserved bit). */
export function windowUpdate(streamId: number, increment: number): Buffer {
  return frame(T.WINDOW_UPDATE, 0, streamId, u32(increment));
}

/** GOAWAY on stream 0 (or `streamId`). */
export function goaway(lastStreamId: number, code: number, debug?: Bytes, streamId = 0): Buffer {
  return frame(T.GOAWAY, 0, streamId, Buffer.concat([u32(lastStreamId), u32(code), bytes(debug)]));
}

/** PRIORITY. */
export function priority(streamId: number, p: Priority): Buffer {
  return frame(T.PRIORITY, 0, streamId, priorityFields(p));
}

export interface PushPromiseOptions {
  endHeaders?: boolean;
  padLength?: number;
}

/** PUSH_PROMISE (a client must never send one; useful for error tests). */
export function pushPromise(streamId: number, promisedStreamId: number, block: Bytes, o: PushPromiseOptions = {}): Buffer {
  let flags = 0;
  if (o.endHeaders ?? true) flags |= F.END_HEADERS;
  if (o.padLength !== undefined) flags |= F.PADDED;
  return frame(T.PUSH_PROMISE, flags, streamId, padded(bytes(block), o.padLength, u32(promisedStreamId)));
}

/** Split bytes into pieces of `size` octets (the last may be shorter): for split-write tests. */
export function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}
