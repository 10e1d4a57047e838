// Flow-control pieces (RFC 9113 section 5.2 and 6.9): the queue of DATA a stream waits to send,
// and the window arithmetic shared by the connection and its streams.
import { ConnectionError, ErrorCode, StreamError } from './errors.js';
import { MAX_WINDOW_SIZE } from './frame/constants.js';
import type { Output } from './output.js';

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

/** DATA octets a stream has been asked to send and not yet framed. Buffers are never copied. */
export class PendingData {
  private bufs: Buffer[] = [];
  private head = 0;
  private off = 0;
  bytes = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.bufs.push(b);
    this.bytes += b.length;
  }

  /** Move `n` (<= bytes) octets to `out` as slices of the queued buffers. */
  take(n: number, out: Output): void {
    this.bytes -= n;
    const bufs = this.bufs;
    while (n > 0) {
      const b = bufs[this.head]!;
      const avail = b.length - this.off;
      if (avail <= n) {
        out.push(this.off === 0 ? b : b.subarray(this.off));
        n -= avail;
        bufs[this.head++] = EMPTY;
        this.off = 0;
      } else {
        out.push(b.subarray(this.off, this.off + n));
        this.off += n;
        n = 0;
      }
    }
    if (this.head === bufs.length) {
      bufs.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= bufs.length) {
      bufs.splice(0, this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.bufs.length = 0;
    this.head = 0;
    this.off = 0;
    this.bytes = 0;
  }
}

const EMPTY = Buffer.alloc(0);
