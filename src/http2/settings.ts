// Connection options with their defaults, the SETTINGS frame we send, and checks on the peer's
// SETTINGS (RFC 9113 section 6.5.2).
import type { Http2Options } from './api.js';
import type { Http2ServerConnection } from './connection.js';
import { ConnectionError, ErrorCode } from './errors.js';
import {
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_INITIAL_WINDOW_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW_SIZE,
  SettingId,
} from './frame/constants.js';

export type ResolvedHttp2Options = Required<Http2Options>;

export const DEFAULT_HTTP2_OPTIONS: Readonly<ResolvedHttp2Options> = Object.freeze({
  maxConcurrentStreams: 100,
  initialWindowSize: 1 << 20,
  connectionWindowSize: 4 << 20,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxHeaderListSize: 16384,
  headerTableSize: DEFAULT_HEADER_TABLE_SIZE,
  maxContinuationFrames: 32,
  maxResetsPerWindow: 200,
  maxPingsPerWindow: 100,
  maxSettingsPerWindow: 100,
  maxEmptyDataPerWindow: 100,
  floodWindowMs: 10000,
  idleTimeoutMs: 0,
  handshakeTimeoutMs: 10000,
  maxOutboundBufferBytes: 1 << 20,
});

/** The largest dynamic table our encoder uses, whatever the peer allows (memory bound). */
export const MAX_ENCODER_TABLE_SIZE = 4096;

function int(v: number | undefined, def: number, min: number, max: number, name: string): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`Http2Options.${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

const U32 = 0xffffffff;
const MS = 0x7fffffff; // the largest delay setTimeout takes
const BIG = Number.MAX_SAFE_INTEGER;
/** [option, min, max] for every option, in DEFAULT_HTTP2_OPTIONS order (the order they are checked in). */
const RANGES: readonly (readonly [keyof ResolvedHttp2Options, number, number])[] = [
  ['maxConcurrentStreams', 0, U32],
  ['initialWindowSize', 0, MAX_WINDOW_SIZE],
  ['connectionWindowSize', DEFAULT_INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE],
  ['maxFrameSize', DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE],
  ['maxHeaderListSize', 0, U32],
  ['headerTableSize', 0, U32],
  ['maxContinuationFrames', 0, BIG],
  ['maxResetsPerWindow', 0, BIG],
  ['maxPingsPerWindow', 0, BIG],
  ['maxSettingsPerWindow', 0, BIG],
  ['maxEmptyDataPerWindow', 0, BIG],
  ['floodWindowMs', 1, BIG],
  ['idleTimeoutMs', 0, MS],
  ['handshakeTimeoutMs', 0, MS],
  ['maxOutboundBufferBytes', 16384, BIG],
];

/** Fill in defaults and check ranges; throws RangeError on a bad option (a programming error). */
export function resolveOptions(o: Http2Options = {}): ResolvedHttp2Options {
  // One table instead of a literal naming each option three times: the same object (same keys in
  // the same order) in a third of the bundled bytes.
  const out = {} as ResolvedHttp2Options;
  for (const [name, min, max] of RANGES) out[name] = int(o[name], DEFAULT_HTTP2_OPTIONS[name], min, max, name);
  return out;
}

/** The flat id/value pairs of the SETTINGS frame we send first. */
export function localSettingsPairs(o: ResolvedHttp2Options): number[] {
  const pairs: number[] = [
    SettingId.ENABLE_PUSH, 0,
    SettingId.MAX_CONCURRENT_STREAMS, o.maxConcurrentStreams,
    SettingId.INITIAL_WINDOW_SIZE, o.initialWindowSize,
    SettingId.MAX_FRAME_SIZE, o.maxFrameSize,
    SettingId.MAX_HEADER_LIST_SIZE, o.maxHeaderListSize,
  ];
  if (o.headerTableSize !== DEFAULT_HEADER_TABLE_SIZE) pairs.push(SettingId.HEADER_TABLE_SIZE, o.headerTableSize);
  return pairs;
}

/** The peer's settings as we keep them (only what the server side uses). */
export class PeerSettings {
  headerTableSize = DEFAULT_HEADER_TABLE_SIZE;
  initialWindowSize = DEFAULT_INITIAL_WINDOW_SIZE;
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  maxHeaderListSize = Infinity;

  /**
   * Check and store one SETTINGS frame's pairs. Returns the change of SETTINGS_INITIAL_WINDOW_SIZE
   * (new - old) so the caller can adjust open streams' send windows.
   */
  apply(pairs: number[]): number {
    const oldWindow = this.initialWindowSize;
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const id = pairs[i]!;
      const value = pairs[i + 1]!;
      switch (id) {
        case SettingId.HEADER_TABLE_SIZE:
          this.headerTableSize = value;
          break;
        case SettingId.ENABLE_PUSH:
          // "Any value other than 0 or 1 MUST be treated as a connection error of type PROTOCOL_ERROR."
          if (value !== 0 && value !== 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH not 0 or 1');
          break;
        case SettingId.INITIAL_WINDOW_SIZE:
          // "Values above the maximum flow-control window size of 2^31-1 MUST be treated as a
          // connection error of type FLOW_CONTROL_ERROR."
          if (value > MAX_WINDOW_SIZE) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1');
          this.initialWindowSize = value;
          break;
        case SettingId.MAX_FRAME_SIZE:
          // "Values outside this range MUST be treated as a connection error of type PROTOCOL_ERROR."
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
            throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE out of range');
          }
          this.maxFrameSize = value;
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          this.maxHeaderListSize = value;
          break;
        case SettingId.ENABLE_CONNECT_PROTOCOL:
          // "A sender MUST NOT send a SETTINGS_ENABLE_CONNECT_PROTOCOL parameter with the value of 0
          // after previously sending a value of 1." (RFC 8441): only a client-offered hint; ignored.
          if (value !== 0 && value !== 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_ENABLE_CONNECT_PROTOCOL not 0 or 1');
          break;
        default:
          // "An endpoint that receives a SETTINGS frame with any unknown or unsupported identifier
          // MUST ignore that setting."
          break;
      }
    }
    return this.initialWindowSize - oldWindow;
  }
}

// ---- applying them on a connection ----

/** The peer ACKed our SETTINGS: they apply from now on. */
export function localSettingsAcked(c: Http2ServerConnection): void {
  if (c.settingsAckPending === 0) return;
  c.settingsAckPending--;
  const o = c.opts;
  const delta = o.initialWindowSize - c.localInitialWindow;
  if (delta !== 0) {
    c.localInitialWindow = o.initialWindowSize;
    for (const s of c.streams.values()) s.recvWindow += delta;
  }
  if (o.headerTableSize < DEFAULT_HEADER_TABLE_SIZE) c.decoder.setMaxTableSize(o.headerTableSize);
  if (c.gotPeerSettings) c.handshakeDone();
}

export function setEncoderTableSize(c: Http2ServerConnection, peerValue: number): void {
  const n = Math.min(peerValue, MAX_ENCODER_TABLE_SIZE);
  if (n !== c.encoderTableSize) {
    c.encoderTableSize = n;
    c.encoder.setMaxTableSize(n);
  }
}
