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
type NumericOption = Exclude<keyof ResolvedHttp2Options, 'permitKeepaliveWithoutCalls'>;

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
/**
 * [option, default, min, max] for every option, in the order they are checked in. One table for the
 * defaults and the checks: each option's name is in the bundle once.
 */
const OPTIONS: readonly (readonly [NumericOption, number, number, number])[] = [
  ['maxConcurrentStreams', 100, 0, U32],
  ['initialWindowSize', 1 << 20, 0, MAX_WINDOW_SIZE],
  ['connectionWindowSize', 4 << 20, DEFAULT_INITIAL_WINDOW_SIZE, MAX_WINDOW_SIZE],
  ['maxFrameSize', DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE],
  ['maxHeaderListSize', 16384, 0, U32],
  ['headerTableSize', DEFAULT_HEADER_TABLE_SIZE, 0, U32],
  ['maxContinuationFrames', 32, 0, BIG],
  ['maxResetsPerWindow', 200, 0, BIG],
  ['maxPingsPerWindow', 100, 0, BIG],
  ['maxSettingsPerWindow', 100, 0, BIG],
  ['maxEmptyDataPerWindow', 100, 0, BIG],
  ['floodWindowMs', 10000, 1, BIG],
  ['maxConnectionIdleMs', 0, 0, MS],
  ['keepaliveTimeMs', 0, 0, MS],
  ['keepaliveTimeoutMs', 20000, 1, MS],
  ['minPingIntervalMs', 0, 0, MS],
  ['maxPingStrikes', 2, 0, BIG],
  ['maxConnectionAgeMs', 0, 0, MS],
  ['maxConnectionAgeGraceMs', 0, 0, MS],
  ['handshakeTimeoutMs', 10000, 0, MS],
  ['maxOutboundBufferBytes', 1 << 20, 16384, BIG],
  ['sendStallTimeoutMs', 0, 0, MS],
];

/** Every option's default (frozen), from OPTIONS. */
export const DEFAULT_HTTP2_OPTIONS: Readonly<ResolvedHttp2Options> = Object.freeze(
  Object.fromEntries([...OPTIONS.map(([name, def]) => [name, def]), ['permitKeepaliveWithoutCalls', true]]) as ResolvedHttp2Options,
);

/** Objects resolveOptions made: a connection given one (a Server's) shares it instead of copying. */
const resolved = new WeakSet<object>();

/**
 * Fill in defaults and check ranges; throws RangeError on a bad option (a programming error). An
 * object this function returned comes back as it is (every connection of a Server shares one).
 */
export function resolveOptions(o: Http2Options = {}): ResolvedHttp2Options {
  if (resolved.has(o)) return o as ResolvedHttp2Options;
  const out = {} as ResolvedHttp2Options;
  resolved.add(out);
  for (const [name, def, min, max] of OPTIONS) out[name] = int(o[name], def, min, max, name);
  const p = o.permitKeepaliveWithoutCalls ?? true;
  if (typeof p !== 'boolean') throw new TypeError('Http2Options.permitKeepaliveWithoutCalls must be a boolean');
  out.permitKeepaliveWithoutCalls = p;
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

/**
 * The peer's settings as we keep them (only what the server side uses): SETTINGS_HEADER_TABLE_SIZE,
 * _INITIAL_WINDOW_SIZE, _MAX_FRAME_SIZE and _MAX_HEADER_LIST_SIZE. Named apart from the
 * Http2Options of the same settings (ours) so bundles can shorten them (scripts/build/internal-props.cjs).
 */
export class PeerSettings {
  tableSize = DEFAULT_HEADER_TABLE_SIZE;
  initialWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  frameSize = DEFAULT_MAX_FRAME_SIZE;
  headerListSize = Infinity;

  /**
   * Check and store one SETTINGS frame's pairs. Returns the change of SETTINGS_INITIAL_WINDOW_SIZE
   * (new - old) so the caller can adjust open streams' send windows.
   */
  apply(pairs: number[]): number {
    const oldWindow = this.initialWindow;
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const id = pairs[i]!;
      const value = pairs[i + 1]!;
      switch (id) {
        case SettingId.HEADER_TABLE_SIZE:
          this.tableSize = value;
          break;
        case SettingId.ENABLE_PUSH:
          // "Any value other than 0 or 1 MUST be treated as a connection error of type PROTOCOL_ERROR."
          if (value !== 0 && value !== 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH not 0 or 1');
          break;
        case SettingId.INITIAL_WINDOW_SIZE:
          // "Values above the maximum flow-control window size of 2^31-1 MUST be treated as a
          // connection error of type FLOW_CONTROL_ERROR."
          if (value > MAX_WINDOW_SIZE) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1');
          this.initialWindow = value;
          break;
        case SettingId.MAX_FRAME_SIZE:
          // "Values outside this range MUST be treated as a connection error of type PROTOCOL_ERROR."
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
            throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE out of range');
          }
          this.frameSize = value;
          break;
        case SettingId.MAX_HEADER_LIST_SIZE:
          this.headerListSize = value;
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
    return this.initialWindow - oldWindow;
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
    for (const s of c.streams) s.recvWindow += delta;
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
