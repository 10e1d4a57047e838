// Frame encoders (RFC 9113 section 6). Each call allocates exactly one Buffer with
// Buffer.allocUnsafe and writes every octet of it. Callers pass valid values: these functions
// encode what they are given and check only what would otherwise corrupt the output.
//
// "R: A reserved 1-bit field. The semantics of this bit are undefined, and the bit MUST remain
// unset (0x0) when sending" (4.1): every 31-bit field is masked with 0x7fffffff.
import { FRAME_HEADER_LENGTH, Flag, FrameType } from './constants.js';
import type { PriorityFields } from './types.js';

const H = FRAME_HEADER_LENGTH;
// Buffer.allocUnsafe does not use `this`: called through one short name in bundles.
const allocUnsafe = Buffer.allocUnsafe;

/** Write the 9-octet frame header at `offset`: length (24), type (8), flags (8), R + stream id (31). */
export function writeFrameHeader(
  buf: Buffer,
  offset: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): void {
  buf[offset] = (length >>> 16) & 0xff;
  buf[offset + 1] = (length >>> 8) & 0xff;
  buf[offset + 2] = length & 0xff;
  buf[offset + 3] = type & 0xff;
  buf[offset + 4] = flags & 0xff;
  writeU31(buf, offset + 5, streamId);
}

function writeU31(buf: Buffer, offset: number, v: number): void {
  buf[offset] = (v >>> 24) & 0x7f;
  buf[offset + 1] = (v >>> 16) & 0xff;
  buf[offset + 2] = (v >>> 8) & 0xff;
  buf[offset + 3] = v & 0xff;
}

function writeU32(buf: Buffer, offset: number, v: number): void {
  buf[offset] = (v >>> 24) & 0xff;
  buf[offset + 1] = (v >>> 16) & 0xff;
  buf[offset + 2] = (v >>> 8) & 0xff;
  buf[offset + 3] = v & 0xff;
}

/** Any frame from its parts (payload copied once). */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const buf = allocUnsafe(H + payload.length);
  writeFrameHeader(buf, 0, payload.length, type, flags, streamId);
  payload.copy(buf, H);
  return buf;
}

/** SETTINGS from flat pairs [id, value, ...]; with `ack` the payload is empty and `pairs` unused. */
export function encodeSettings(pairs: readonly number[], ack: boolean): Buffer {
  // "Receipt of a SETTINGS frame with the ACK flag set and a length field value other than 0
  // MUST be treated as a connection error" (6.5): an ACK carries nothing.
  const n = ack ? 0 : pairs.length >> 1;
  const buf = allocUnsafe(H + n * 6);
  writeFrameHeader(buf, 0, n * 6, FrameType.SETTINGS, ack ? Flag.ACK : 0, 0);
  for (let i = 0, o = H; i < n; i++, o += 6) {
    const id = pairs[2 * i]!;
    buf[o] = (id >>> 8) & 0xff;
    buf[o + 1] = id & 0xff;
    writeU32(buf, o + 2, pairs[2 * i + 1]!);
  }
  return buf;
}

/** PING with 8 octets of opaque data. */
export function encodePing(data: Buffer, ack: boolean): Buffer {
  if (data.length !== 8) throw new RangeError(`PING data must be 8 octets, got ${data.length}`);
  const buf = allocUnsafe(H + 8);
  writeFrameHeader(buf, 0, 8, FrameType.PING, ack ? Flag.ACK : 0, 0);
  data.copy(buf, H);
  return buf;
}

/** GOAWAY(last stream id, error code, optional debug data). */
export function encodeGoaway(lastStreamId: number, errorCode: number, debug?: Buffer): Buffer {
  const dl = debug === undefined ? 0 : debug.length;
  const buf = allocUnsafe(H + 8 + dl);
  writeFrameHeader(buf, 0, 8 + dl, FrameType.GOAWAY, 0, 0);
  writeU31(buf, H, lastStreamId);
  writeU32(buf, H + 4, errorCode);
  if (debug !== undefined) debug.copy(buf, H + 8);
  return buf;
}

/** RST_STREAM(error code). */
export function encodeRstStream(streamId: number, errorCode: number): Buffer {
  const buf = allocUnsafe(H + 4);
  writeFrameHeader(buf, 0, 4, FrameType.RST_STREAM, 0, streamId);
  writeU32(buf, H, errorCode);
  return buf;
}

/** WINDOW_UPDATE (increment 1..2^31-1; stream 0 for the connection window). */
export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const buf = allocUnsafe(H + 4);
  writeFrameHeader(buf, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  writeU31(buf, H, increment);
  return buf;
}

/** PRIORITY (5 octets: E + dependency, weight - 1). */
export function encodePriority(streamId: number, p: PriorityFields): Buffer {
  const buf = allocUnsafe(H + 5);
  writeFrameHeader(buf, 0, 5, FrameType.PRIORITY, 0, streamId);
  writeU31(buf, H, p.dependency);
  if (p.exclusive) buf[H] = buf[H]! | 0x80;
  buf[H + 4] = (p.weight - 1) & 0xff;
  return buf;
}

/**
 * A field block as one HEADERS frame followed by as many CONTINUATION frames as needed so no
 * frame payload exceeds `maxFrameSize` (the peer's SETTINGS_MAX_FRAME_SIZE), all in one Buffer.
 * END_STREAM goes on the HEADERS frame, END_HEADERS on the last frame.
 */
export function encodeHeaders(streamId: number, block: Buffer, endStream: boolean, maxFrameSize: number): Buffer {
  return encodeBlock(FrameType.HEADERS, endStream ? Flag.END_STREAM : 0, streamId, -1, block, maxFrameSize);
}

/** PUSH_PROMISE (+ CONTINUATIONs), for completeness: a server codec never receives one legally. */
export function encodePushPromise(streamId: number, promisedStreamId: number, block: Buffer, maxFrameSize: number): Buffer {
  return encodeBlock(FrameType.PUSH_PROMISE, 0, streamId, promisedStreamId, block, maxFrameSize);
}

function encodeBlock(type: number, flags: number, streamId: number, promised: number, block: Buffer, max: number): Buffer {
  if (!(max >= 16)) throw new RangeError(`maxFrameSize ${max} too small`);
  const lead = promised >= 0 ? 4 : 0; // promised stream id before the fragment
  const total = block.length + lead;
  const frames = total <= max ? 1 : Math.ceil(total / max);
  const buf = allocUnsafe(frames * H + total);
  let src = 0;
  let o = 0;
  for (let i = 0; i < frames; i++) {
    const last = i === frames - 1;
    const room = i === 0 ? max - lead : max;
    const n = Math.min(room, block.length - src);
    const len = i === 0 ? n + lead : n;
    const f = last ? Flag.END_HEADERS : 0;
    if (i === 0) writeFrameHeader(buf, o, len, type, flags | f, streamId);
    else writeFrameHeader(buf, o, len, FrameType.CONTINUATION, f, streamId);
    o += H;
    if (i === 0 && lead !== 0) {
      writeU31(buf, o, promised);
      o += 4;
    }
    block.copy(buf, o, src, src + n);
    o += n;
    src += n;
  }
  return buf;
}

/** The 9-octet header of a DATA frame alone, so the payload can be written after it uncopied. */
export function encodeDataHeader(streamId: number, length: number, endStream: boolean): Buffer {
  const buf = allocUnsafe(H);
  writeFrameHeader(buf, 0, length, FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId);
  return buf;
}

/** A whole DATA frame (header + copy of `data`); `data` must fit the peer's max frame size. */
export function encodeData(streamId: number, data: Buffer, endStream: boolean): Buffer {
  const buf = allocUnsafe(H + data.length);
  writeFrameHeader(buf, 0, data.length, FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId);
  data.copy(buf, H);
  return buf;
}
