// Flow-control pieces (RFC 9113 section 5.2 and 6.9): the queue of DATA a stream waits to send,
// and the window arithmetic shared by the connection and its streams.
import type { Http2ServerConnection } from './connection.js';
import { ConnectionError, ErrorCode, StreamError } from './errors.js';
import { Flag, FrameType, MAX_WINDOW_SIZE } from './frame/constants.js';
import { encodeWindowUpdate } from './frame/write.js';
import type { Output } from './output.js';
import type { Http2ServerStream } from './stream.js';

/** A stream's write() returns false once this many octets wait to be framed. */
export const STREAM_WRITE_HWM = 65536;
/** Most DATA octets framed per flush before yielding to I/O. */
const PUMP_BUDGET = 256 * 1024;
/** The largest DATA frame we send, whatever the peer's SETTINGS_MAX_FRAME_SIZE. */
const MAX_DATA_FRAME = 65536;
/**
 * DATA octets that must go out on a stalled stream (or, for the connection window, on the
 * connection) before its stall ends, unless everything queued goes first: a full frame at the
 * smallest SETTINGS_MAX_FRAME_SIZE. Any WINDOW_UPDATE used to end a stall, so a peer trickling
 * 1-octet updates held its streams, slots and queued data for ever while reading nothing; now it
 * must take 16 KB per sendStallTimeoutMs (0.5 KB/s at 30 s). Honest readers hand window back in
 * half-window steps (nghttp2, grpc-js, grpc-core: >= 32 KB of the default 64 KB; Go: >= 4 KB, many
 * per round trip), and small-window clients (h2load/nghttp -w 10) pass 16 KB within a few dozen
 * round trips, never near a timeout.
 */
export const STALL_PROGRESS = 16384;

/**
 * Add a WINDOW_UPDATE increment to a send window. "A sender MUST NOT allow a flow-control window
 * to exceed 2^31-1 octets. If a sender receives a WINDOW_UPDATE that causes a flow-control window
 * to exceed this maximum, it MUST terminate either the stream or the connection, as appropriate.
 * For streams, the sender sends a RST_STREAM with an error code of FLOW_CONTROL_ERROR; for the
 * connection, a GOAWAY frame with an error code of FLOW_CONTROL_ERROR is sent." (6.9.1)
 */
export function growWindow(window: number, increment: number, streamId: number): number {
  const w = window + increment;
  if (w > MAX_WINDOW_SIZE) {
    if (streamId === 0) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'connection window above 2^31-1');
    throw new StreamError(streamId, ErrorCode.FLOW_CONTROL_ERROR, 'stream window above 2^31-1');
  }
  return w;
}

/**
 * When to hand receive window back: once at least half of the window is used up. Fewer, larger
 * WINDOW_UPDATEs; the peer still always has half a window in flight.
 */
export function windowUpdateDue(unacked: number, window: number): boolean {
  return unacked > 0 && unacked >= window >>> 1;
}

/**
 * How far a stream's side of the exchange got (Http2ServerStream.local), in order: each state
 * implies the ones before.
 */
export enum Local {
  IDLE,
  /** respond() sent the HEADERS. */
  HEADERS,
  /** end() was called (or respond() with endStream); END_STREAM goes out once pending DATA is framed. */
  END_QUEUED,
  /** END_STREAM was framed: half-closed (local). */
  ENDED,
  /** The stream is closed (both sides ended, or reset): Http2ServerStream.closed. */
  CLOSED,
}

/**
 * DATA octets a stream has been asked to send and not yet framed; buffers are queued, not copied.
 * The first buffer has a slot of its own: a unary response (one write) never allocates the array.
 * Http2ServerStream extends it: one object per stream, not two.
 */
export class PendingData {
  /**
   * The oldest queued buffer (null: nothing queued; what is left of it after a partial take), then
   * `more` from `moreHead`.
   */
  #first: Buffer | null = null;
  #more: Buffer[] | null = null;
  private moreHead = 0;
  /** Octets queued. */
  pending = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.pending += b.length;
    if (this.#first === null) this.#first = b;
    else (this.#more ??= []).push(b);
  }

  /** Move `n` (<= pending) octets to `out` (large pieces by reference, small ones copied). */
  take(n: number, out: Output): void {
    this.pending -= n;
    while (n > 0) {
      const b = this.#first!;
      if (b.length <= n) {
        out.pushSlice(b, 0, b.length);
        n -= b.length;
        this.#shift();
      } else {
        out.pushSlice(b, 0, n);
        this.#first = b.subarray(n);
        n = 0;
      }
    }
  }

  clear(): void {
    this.#first = null;
    if (this.#more !== null) this.#more.length = 0;
    this.moreHead = 0;
    this.pending = 0;
  }

  /** The first buffer is used up: the next one takes its place. */
  #shift(): void {
    const m = this.#more;
    if (m === null || this.moreHead === m.length) {
      this.#first = null;
      return;
    }
    this.#first = m[this.moreHead]!;
    m[this.moreHead++] = EMPTY;
    if (this.moreHead === m.length) {
      m.length = 0;
      this.moreHead = 0;
    } else if (this.moreHead >= 64 && this.moreHead * 2 >= m.length) {
      m.splice(0, this.moreHead);
      this.moreHead = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);

// ---- the connection's windows ----

/** Give connection receive window back once half of it is used. */
export function connDataReceived(c: Http2ServerConnection, n: number): void {
  c.connRecvWindow -= n;
  c.connRecvUnacked += n;
  if (windowUpdateDue(c.connRecvUnacked, c.opts.connectionWindowSize)) {
    c.connRecvWindow += c.connRecvUnacked;
    c.out.push(encodeWindowUpdate(0, c.connRecvUnacked));
    c.connRecvUnacked = 0;
    c.scheduleFlush();
  }
}

// A WINDOW_UPDATE does not end a stall by itself: what it lets go does (frameData, STALL_PROGRESS).
export function connWindowUpdate(c: Http2ServerConnection, increment: number): void {
  c.connSendWindow = growWindow(c.connSendWindow, increment, 0);
  c.scheduleFlush();
}

export function streamWindowUpdate(c: Http2ServerConnection, s: Http2ServerStream, increment: number): void {
  s.sendWindow = growWindow(s.sendWindow, increment, s.id);
  if (s.pending > 0 || s.local >= Local.END_QUEUED) c.wantsToSend(s);
}

/** The peer changed SETTINGS_INITIAL_WINDOW_SIZE by `delta`: adjust every stream's send window. */
export function peerInitialWindowChanged(c: Http2ServerConnection, delta: number): void {
  // "When the value of SETTINGS_INITIAL_WINDOW_SIZE changes, a receiver MUST adjust the size of
  // all stream flow-control windows that it maintains by the difference between the new value
  // and the old value." / "An endpoint MUST treat a change to SETTINGS_INITIAL_WINDOW_SIZE that
  // causes any flow-control window to exceed the maximum size as a connection error of type
  // FLOW_CONTROL_ERROR." (6.9.2) Windows may go negative.
  for (const s of c.streams) {
    s.sendWindow += delta;
    if (s.sendWindow > MAX_WINDOW_SIZE) {
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window');
    }
    if (delta > 0 && s.pending > 0) c.wantsToSend(s);
  }
}

// ---- sending ----

/**
 * Frame pending DATA (and END_STREAM) of the streams in `q`, round-robin within the send windows
 * and the per-flush budget. Streams with nothing more to send now leave `q`.
 */
export function frameData(c: Http2ServerConnection, q: Http2ServerStream[]): void {
  const out = c.out;
  const maxHeaders = c.peerSettings.frameSize;
  // Larger DATA frames save little; a cap keeps one frame from blowing through the budget.
  const maxFrame = maxHeaders < MAX_DATA_FRAME ? maxHeaders : MAX_DATA_FRAME;
  let budget = Math.min(PUMP_BUDGET, c.opts.maxOutboundBufferBytes >>> 1);
  let progress = true;
  while (progress && q.length > 0) {
    progress = false;
    let w = 0;
    for (let i = 0; i < q.length; i++) {
      const s = q[i]!;
      if (s.closed) {
        s.inSendQueue = false;
        continue;
      }
      const pend = s.pending;
      let endSent = false;
      if (pend > 0 && budget > 0) {
        let n = pend;
        if (n > maxFrame) n = maxFrame;
        if (n > s.sendWindow) n = s.sendWindow;
        if (n > c.connSendWindow) n = c.connSendWindow;
        if (n > 0) {
          endSent = n === pend && s.local >= Local.END_QUEUED && s.trailers === null;
          out.pushFrameHeader(n, FrameType.DATA, endSent ? Flag.END_STREAM : 0, s.id);
          s.take(n, out);
          s.sendWindow -= n;
          c.connSendWindow -= n;
          budget -= n;
          progress = true;
          // a stall ends once STALL_PROGRESS went out since it began, or all that was queued
          if (s.stallAt > 0 && !s.awaitingEnd && ((s.stallSent += n) >= STALL_PROGRESS || s.pending === 0)) unstall(c, s);
          if (c.stallAt > 0 && (c.stallSent += n) >= STALL_PROGRESS) unstall(c, null);
          // Below the mark again: write() returned false when it went past it (only write() adds).
          if (pend >= STREAM_WRITE_HWM && s.pending < STREAM_WRITE_HWM) c.drainList.push(s);
        }
      }
      if (s.pending === 0 && s.local === Local.END_QUEUED) {
        if (!endSent) {
          if (s.trailers !== null) {
            out.pushHeaders(s.id, c.encoder, s.trailers, true, maxHeaders);
          } else {
            out.pushFrameHeader(0, FrameType.DATA, Flag.END_STREAM, s.id);
          }
        }
        s.trailers = null;
        c.localEnd(s);
      }
      if (s.closed || s.local === Local.ENDED || s.pending === 0 || s.sendWindow <= 0) {
        s.inSendQueue = false; // a WINDOW_UPDATE or write() puts it back
        // blocked on the stream window: the stall clock starts (keepalive.ts)
        if (s.pending > 0 && s.stallAt === 0) stall(c, s);
        continue;
      }
      q[w++] = s;
    }
    // pop(), not length = w: emptying an array that way drops its storage, made anew next flush.
    while (q.length > w) q.pop();
    if (c.connSendWindow <= 0 || budget <= 0) break;
  }
  // DATA left waiting for connection window: the stall clock starts (keepalive.ts)
  if (c.stallAt > 0 && q.length === 0) unstall(c, null); // nothing waits for connection window now
  else if (c.connSendWindow <= 0 && q.length > 0 && c.stallAt === 0) stall(c, null);
}

/** DATA of `s` (null: of the connection) is blocked on window: the stall clock starts (keepalive.ts). */
function stall(c: Http2ServerConnection, s: Http2ServerStream | null): void {
  c.keepalive.stall(s);
  if (s === null) c.stallSent = 0;
  else s.stallSent = 0;
  c.stallShown ||= s === null ? c.stallAt : s.stallAt;
}

/** The peer took enough since the stall of `s` (null: of the connection window) began: it ends. */
function unstall(c: Http2ServerConnection, s: Http2ServerStream | null): void {
  if (s === null) c.stallAt = 0;
  else s.stallAt = 0;
  c.stallShown = 0;
}
