// Frame payload parsers (RFC 9113 section 6): one function per frame type, in a table indexed by
// the type code. Each takes the header fields and where the payload lies (octets o to o + n of a
// Buffer, usually the socket's chunk: no view is made of what is only read; a slice is made of
// opaque octets the frame carries) and returns a typed frame, or throws ConnectionError / StreamError
// for every frame-level MUST of section 6. CONTINUATION (0x9) is not in the table: the reader
// joins it onto its HEADERS / PUSH_PROMISE. Types past the table are unknown and ignored.
//
// Stream ids reach these functions with the reserved bit already masked off: "The semantics of
// this bit are undefined, and the bit MUST remain unset (0x0) when sending and MUST be ignored
// when receiving." (4.1). Other 31-bit fields are masked here for the same reason.
import { ConnectionError, ErrorCode, StreamError } from '../errors.js';
import { Flag, FrameType, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE, SettingId, DEFAULT_MAX_FRAME_SIZE } from './constants.js';
import type {
  DataFrame,
  Frame,
  GoawayFrame,
  HeadersFrame,
  PingFrame,
  PriorityFields,
  PriorityFrame,
  PushPromiseFrame,
  RstStreamFrame,
  SettingsFrame,
  WindowUpdateFrame,
} from './types.js';

/**
 * `r`: for DATA and HEADERS, a frame object of that type to fill and return instead of a new one
 * (typed never: callers cast; each parser names its own type).
 */
export type FrameParser = (flags: number, streamId: number, p: Buffer, o: number, n: number, r?: never) => Frame;

export const EMPTY = Buffer.alloc(0);

const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR } = ErrorCode;

function connErr(code: number, msg: string): ConnectionError {
  return new ConnectionError(code, msg);
}

function u31(b: Buffer, o: number): number {
  return ((b[o]! & 0x7f) << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

function u32(b: Buffer, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function readPriority(p: Buffer, o: number): PriorityFields {
  return { exclusive: (p[o]! & 0x80) !== 0, dependency: u31(p, o), weight: p[o + 4]! + 1 };
}

/**
 * Strip the padding of a PADDED frame whose payload (n octets at o) starts with the Pad Length
 * octet and then has `fixed` octets of other fields; returns the end offset of the content.
 */
function paddedEnd(p: Buffer, o: number, n: number, fixed: number, name: string): number {
  // "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame ... is too small to
  // contain mandatory frame data." (4.2); a frame carrying a field block or affecting the
  // connection window is a connection error.
  if (n < 1 + fixed) throw connErr(FRAME_SIZE_ERROR, `${name} too short for its fields (${n} octets)`);
  const pad = p[o]!;
  // "If the length of the padding is the length of the frame payload or greater, the recipient
  // MUST treat this as a connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.1)
  // "Padding that exceeds the size remaining for the header block fragment MUST be treated as a
  // PROTOCOL_ERROR." (6.2, 6.6)
  if (pad > n - 1 - fixed) {
    throw connErr(PROTOCOL_ERROR, `${name} padding length ${pad} not less than the payload (${n} octets)`);
  }
  return o + n - pad;
}

/** Octets s to e of p: the empty buffer or a slice (one Buffer object). */
function view(p: Buffer, s: number, e: number): Buffer {
  return s === e ? EMPTY : p.subarray(s, e);
}

// 6.1 DATA
function parseData(flags: number, streamId: number, p: Buffer, o: number, n: number, r = {} as DataFrame): DataFrame {
  // "If a DATA frame is received whose Stream Identifier field is 0x00, the recipient MUST respond
  // with a connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.1)
  if (streamId === 0) throw connErr(PROTOCOL_ERROR, 'DATA on stream 0');
  const endStream = (flags & Flag.END_STREAM) !== 0;
  const padded = (flags & Flag.PADDED) !== 0;
  const data = padded ? view(p, o + 1, paddedEnd(p, o, n, 0, 'DATA')) : view(p, o, o + n);
  r.type = FrameType.DATA;
  r.streamId = streamId;
  r.endStream = endStream;
  r.data = data;
  r.flowLength = n;
  return r;
}

// 6.2 HEADERS
function parseHeaders(flags: number, streamId: number, p: Buffer, o: number, n: number, r?: HeadersFrame): HeadersFrame {
  // "If a HEADERS frame is received whose Stream Identifier field is 0x00, the recipient MUST
  // respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.2)
  if (streamId === 0) throw connErr(PROTOCOL_ERROR, 'HEADERS on stream 0');
  const padded = (flags & Flag.PADDED) !== 0;
  const prio = (flags & Flag.PRIORITY) !== 0;
  let start = padded ? o + 1 : o;
  let end = o + n;
  if (padded) end = paddedEnd(p, o, n, prio ? 5 : 0, 'HEADERS');
  else if (prio && n < 5) throw connErr(FRAME_SIZE_ERROR, `HEADERS too short for priority fields (${n} octets)`);
  let priority: PriorityFields | null = null;
  if (prio) {
    // Priority signals are parsed and otherwise ignored (RFC 9113 5.3.2 deprecates them).
    // "A stream cannot depend on itself. An endpoint MUST treat this as a stream error of type
    // PROTOCOL_ERROR." (5.3.1) is NOT thrown here for HEADERS: the field block must still go
    // through the HPACK decoder to keep its dynamic table in sync, so the connection checks
    // `priority.dependency === streamId` after decoding the block.
    priority = readPriority(p, start);
    start += 5;
  }
  const f = r ?? ({} as HeadersFrame);
  f.type = FrameType.HEADERS;
  f.streamId = streamId;
  f.endStream = (flags & Flag.END_STREAM) !== 0;
  f.priority = priority;
  if (r === undefined) f.block = view(p, start, end);
  else {
    // No slice: the block is read where it lies.
    f.block = p;
    f.start = start;
    f.end = end;
  }
  return f;
}

// 6.3 PRIORITY
function parsePriority(_flags: number, streamId: number, p: Buffer, o: number, n: number): PriorityFrame {
  // "If a PRIORITY frame is received with a stream identifier of 0x00, the recipient MUST respond
  // with a connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.3)
  if (streamId === 0) throw connErr(PROTOCOL_ERROR, 'PRIORITY on stream 0');
  // "A PRIORITY frame with a length other than 5 octets MUST be treated as a stream error
  // (Section 5.4.2) of type FRAME_SIZE_ERROR." (6.3)
  if (n !== 5) throw new StreamError(streamId, FRAME_SIZE_ERROR, `PRIORITY of ${n} octets`);
  const priority = readPriority(p, o);
  // "A stream cannot depend on itself. An endpoint MUST treat this as a stream error of type
  // PROTOCOL_ERROR." (5.3.1)
  if (priority.dependency === streamId) {
    throw new StreamError(streamId, PROTOCOL_ERROR, `stream ${streamId} depends on itself`);
  }
  return { type: FrameType.PRIORITY, streamId, priority };
}

// 6.4 RST_STREAM
function parseRstStream(_flags: number, streamId: number, p: Buffer, o: number, n: number): RstStreamFrame {
  // "If a RST_STREAM frame is received with a stream identifier of 0x00, the recipient MUST treat
  // this as a connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.4)
  if (streamId === 0) throw connErr(PROTOCOL_ERROR, 'RST_STREAM on stream 0');
  // "A RST_STREAM frame with a length other than 4 octets MUST be treated as a connection error
  // (Section 5.4.1) of type FRAME_SIZE_ERROR." (6.4)
  if (n !== 4) throw connErr(FRAME_SIZE_ERROR, `RST_STREAM of ${n} octets`);
  return { type: FrameType.RST_STREAM, streamId, errorCode: u32(p, o) };
}

// 6.5 SETTINGS
function parseSettings(flags: number, streamId: number, p: Buffer, o: number, n: number): SettingsFrame {
  // "If an endpoint receives a SETTINGS frame whose Stream Identifier field is anything other than
  // 0x00, the endpoint MUST respond with a connection error (Section 5.4.1) of type
  // PROTOCOL_ERROR." (6.5)
  if (streamId !== 0) throw connErr(PROTOCOL_ERROR, `SETTINGS on stream ${streamId}`);
  const ack = (flags & Flag.ACK) !== 0;
  // "Receipt of a SETTINGS frame with the ACK flag set and a length field value other than 0 MUST
  // be treated as a connection error (Section 5.4.1) of type FRAME_SIZE_ERROR." (6.5)
  if (ack && n !== 0) throw connErr(FRAME_SIZE_ERROR, `SETTINGS ACK with ${n} octets of payload`);
  // "A SETTINGS frame with a length other than a multiple of 6 octets MUST be treated as a
  // connection error (Section 5.4.1) of type FRAME_SIZE_ERROR." (6.5)
  if (n % 6 !== 0) throw connErr(FRAME_SIZE_ERROR, `SETTINGS of ${n} octets`);
  const settings: number[] = [];
  for (const end = o + n; o < end; o += 6) {
    const id = (p[o]! << 8) | p[o + 1]!;
    const value = u32(p, o + 2);
    switch (id) {
      case SettingId.ENABLE_PUSH:
        // "Any value other than 0 or 1 MUST be treated as a connection error (Section 5.4.1) of
        // type PROTOCOL_ERROR." (6.5.2)
        if (value > 1) throw connErr(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH = ${value}`);
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        // "Values above the maximum flow-control window size of 2^31-1 MUST be treated as a
        // connection error (Section 5.4.1) of type FLOW_CONTROL_ERROR." (6.5.2)
        if (value > MAX_WINDOW_SIZE) throw connErr(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE = ${value}`);
        break;
      case SettingId.MAX_FRAME_SIZE:
        // "The initial value is 2^14 (16,384) octets. The value advertised by an endpoint MUST be
        // between this initial value and the maximum allowed frame size (2^24-1 or 16,777,215
        // octets), inclusive. Values outside this range MUST be treated as a connection error
        // (Section 5.4.1) of type PROTOCOL_ERROR." (6.5.2)
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
          throw connErr(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE = ${value}`);
        }
        break;
      case SettingId.HEADER_TABLE_SIZE:
      case SettingId.MAX_CONCURRENT_STREAMS:
      case SettingId.MAX_HEADER_LIST_SIZE:
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        break;
      default:
        // "An endpoint that receives a SETTINGS frame with any unknown or unsupported identifier
        // MUST ignore that setting." (6.5.2): it is left out of the list.
        continue;
    }
    settings.push(id, value);
  }
  return { type: FrameType.SETTINGS, streamId: 0, ack, settings };
}

// 6.6 PUSH_PROMISE
function parsePushPromise(flags: number, streamId: number, p: Buffer, o: number, n: number): PushPromiseFrame {
  // "If the Stream Identifier field specifies the value 0x00, a recipient MUST respond with a
  // connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.6)
  if (streamId === 0) throw connErr(PROTOCOL_ERROR, 'PUSH_PROMISE on stream 0');
  const padded = (flags & Flag.PADDED) !== 0;
  const start = padded ? o + 1 : o;
  let end = o + n;
  if (padded) end = paddedEnd(p, o, n, 4, 'PUSH_PROMISE');
  else if (n < 4) throw connErr(FRAME_SIZE_ERROR, `PUSH_PROMISE of ${n} octets`);
  return { type: FrameType.PUSH_PROMISE, streamId, promisedStreamId: u31(p, start), block: view(p, start + 4, end) };
}

// 6.7 PING
function parsePing(flags: number, streamId: number, p: Buffer, o: number, n: number): PingFrame {
  // "If a PING frame is received with a Stream Identifier field value other than 0x00, the
  // recipient MUST respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.7)
  if (streamId !== 0) throw connErr(PROTOCOL_ERROR, `PING on stream ${streamId}`);
  // "Receipt of a PING frame with a length field value other than 8 MUST be treated as a
  // connection error (Section 5.4.1) of type FRAME_SIZE_ERROR." (6.7)
  if (n !== 8) throw connErr(FRAME_SIZE_ERROR, `PING of ${n} octets`);
  return { type: FrameType.PING, streamId: 0, ack: (flags & Flag.ACK) !== 0, data: view(p, o, o + 8) };
}

// 6.8 GOAWAY
function parseGoaway(_flags: number, streamId: number, p: Buffer, o: number, n: number): GoawayFrame {
  // "An endpoint MUST treat a GOAWAY frame with a stream identifier other than 0x00 as a
  // connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.8)
  if (streamId !== 0) throw connErr(PROTOCOL_ERROR, `GOAWAY on stream ${streamId}`);
  // Last-Stream-ID (4) and Error Code (4) are mandatory: "An endpoint MUST send an error code of
  // FRAME_SIZE_ERROR if a frame ... is too small to contain mandatory frame data." (4.2)
  if (n < 8) throw connErr(FRAME_SIZE_ERROR, `GOAWAY of ${n} octets`);
  return { type: FrameType.GOAWAY, streamId: 0, lastStreamId: u31(p, o), errorCode: u32(p, o + 4), debug: view(p, o + 8, o + n) };
}

// 6.9 WINDOW_UPDATE
function parseWindowUpdate(_flags: number, streamId: number, p: Buffer, o: number, n: number): WindowUpdateFrame {
  // "A WINDOW_UPDATE frame with a length other than 4 octets MUST be treated as a connection error
  // (Section 5.4.1) of type FRAME_SIZE_ERROR." (6.9)
  if (n !== 4) throw connErr(FRAME_SIZE_ERROR, `WINDOW_UPDATE of ${n} octets`);
  const increment = u31(p, o);
  if (increment === 0) {
    // "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control window
    // increment of 0 as a stream error (Section 5.4.2) of type PROTOCOL_ERROR; errors on the
    // connection flow-control window MUST be treated as a connection error (Section 5.4.1)." (6.9)
    if (streamId === 0) throw connErr(PROTOCOL_ERROR, 'WINDOW_UPDATE increment 0 on the connection');
    throw new StreamError(streamId, PROTOCOL_ERROR, `WINDOW_UPDATE increment 0 on stream ${streamId}`);
  }
  return { type: FrameType.WINDOW_UPDATE, streamId, increment };
}

/** Parsers indexed by frame type, 0x0..0x8; CONTINUATION (0x9) is the reader's business. */
export const PARSERS: readonly FrameParser[] = [
  parseData,
  parseHeaders,
  parsePriority,
  parseRstStream,
  parseSettings,
  parsePushPromise,
  parsePing,
  parseGoaway,
  parseWindowUpdate,
];

/** Parse one frame of a known type (0x0..0x8) from its header fields and payload. */
export function parseFrame(type: number, flags: number, streamId: number, payload: Buffer): Frame {
  const parse = PARSERS[type];
  if (parse === undefined) throw new RangeError(`no parser for frame type ${type}`);
  return parse(flags, streamId & 0x7fffffff, payload, 0, payload.length);
}
