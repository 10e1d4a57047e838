// Frames as the reader hands them to the connection. Payload buffers are slices of the socket's
// chunks (no copy) unless a frame spanned chunks; from a reader whose `reuse` is set, DATA and
// HEADERS frames are one object each per reader, filled anew for every frame. Padding is already
// removed. CONTINUATION frames never appear here: the reader joins them onto their HEADERS or
// PUSH_PROMISE frame.
import type { FrameType } from './constants.js';

export interface PriorityFields {
  exclusive: boolean;
  dependency: number;
  weight: number; // 1..256
}

export interface DataFrame {
  type: typeof FrameType.DATA;
  streamId: number;
  endStream: boolean;
  data: Buffer;
  /** The whole payload length, padding included: what counts against flow control. */
  flowLength: number;
}
export interface HeadersFrame {
  type: typeof FrameType.HEADERS;
  streamId: number;
  endStream: boolean;
  /**
   * The complete header block fragment, CONTINUATIONs joined: all of `block`, or octets `start` to
   * `end` of it from a reader that reuses frames (FrameReader.reuse).
   */
  block: Buffer;
  start?: number;
  end?: number;
  priority: PriorityFields | null;
}
export interface PriorityFrame {
  type: typeof FrameType.PRIORITY;
  streamId: number;
  priority: PriorityFields;
}
export interface RstStreamFrame {
  type: typeof FrameType.RST_STREAM;
  streamId: number;
  errorCode: number;
}
export interface SettingsFrame {
  type: typeof FrameType.SETTINGS;
  streamId: 0;
  ack: boolean;
  /** Flat pairs: id, value, id, value, ... in the order received. */
  settings: number[];
}
export interface PushPromiseFrame {
  type: typeof FrameType.PUSH_PROMISE;
  streamId: number;
  promisedStreamId: number;
  block: Buffer;
}
export interface PingFrame {
  type: typeof FrameType.PING;
  streamId: 0;
  ack: boolean;
  data: Buffer; // 8 octets
}
export interface GoawayFrame {
  type: typeof FrameType.GOAWAY;
  streamId: 0;
  lastStreamId: number;
  errorCode: number;
  debug: Buffer;
}
export interface WindowUpdateFrame {
  type: typeof FrameType.WINDOW_UPDATE;
  streamId: number;
  increment: number;
}

export type Frame =
  | DataFrame
  | HeadersFrame
  | PriorityFrame
  | RstStreamFrame
  | SettingsFrame
  | PushPromiseFrame
  | PingFrame
  | GoawayFrame
  | WindowUpdateFrame;
