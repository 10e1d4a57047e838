// One server-side stream (RFC 9113 section 5.1). Streams are opened by the client only (we never
// push), so a server stream is born "open" (or "half-closed (remote)" when the request HEADERS
// carry END_STREAM) and the reserved states never occur:
//
//                              +--------+
//                              |  idle  |   (no object: ids above the last one seen)
//                              +--------+
//                                  |
//                                  | recv HEADERS (request)
//                                  v
//                              +--------+
//                      recv ES |        | send ES (end() drained)
//                   ,----------|  open  |----------.
//                  /           |        |           \
//                 v            +--------+            v
//          +----------+            |           +----------+
//          |   half-  |            |           |   half-  |
//          |  closed  |            | send R /  |  closed  |
//          | (remote) |            | recv R    | (local)  |
//          +----------+            |           +----------+
//               |                  |                 |
//               | send ES /        |       recv ES / |
//               | send R /         v        send R / |
//               | recv R       +--------+   recv R   |
//                `------------>| closed |<-----------'
//                              +--------+
//   ES = a frame with END_STREAM, R = RST_STREAM. Closed streams leave the connection's list; ids
//   are remembered for a while (limits.ts RecentIds): late frames on a stream we reset are
//   ignored, on a stream the peer reset they get RST_STREAM(STREAM_CLOSED) (dispatch.ts).
import type { HeaderList, PeerInfo, ServerStream } from './api.js';
import { ErrorCode } from './errors.js';
import { Local, PendingData, STREAM_WRITE_HWM, windowUpdateDue } from './flow.js';
import type { Http2ServerConnection } from './connection.js';

export { STREAM_WRITE_HWM };

type DataCb = ((chunk: Buffer) => void) | null;
type EndCb = ((trailers: HeaderList | null) => void) | null;

/** The stream is its own queue of DATA to send (PendingData): one object per stream. */
export class Http2ServerStream extends PendingData implements ServerStream {
  ondrain: (() => void) | null = null;
  onclose: ((code: number) => void) | null = null;
  private _ondata: DataCb = null;
  private _onend: EndCb = null;

  /** The peer sent END_STREAM: half-closed (remote). */
  remoteEnded = false;
  /** Our side: HEADERS sent, end() called, END_STREAM framed (half-closed (local)); then closed. */
  local = Local.IDLE;
  /** In the connection's list of streams with DATA to frame. */
  inSendQueue = false;
  /**
   * Since when DATA has waited for stream window, or (awaitingEnd) since the request last made
   * progress (0: neither; keepalive.ts).
   */
  stallAt = 0;
  /** DATA octets framed since stallAt (flow.ts STALL_PROGRESS). */
  stallSent = 0;
  /** awaitEnd() was called and END_STREAM has not come. */
  awaitingEnd = false;

  /** Flow control: what we may still send, what the peer may still send. */
  sendWindow: number;
  recvWindow: number;
  /** Octets consumed (and padding) not yet given back to the peer's window. */
  recvUnacked = 0;

  trailers: HeaderList | null = null;

  /** content-length of the request minus the DATA octets received so far; -1 when absent. */
  lengthLeft = -1;

  /** Not a parameter property (see Http2ServerConnection's #onStream). */
  readonly #conn: Http2ServerConnection;

  /**
   * Events that arrived before the consumer set its callbacks, in order: DATA payloads (Buffers),
   * then maybe the end (its trailers, or null).
   */
  private inbox: (Buffer | HeaderList | null)[] | null = null;

  constructor(
    conn: Http2ServerConnection,
    readonly id: number,
    readonly headers: HeaderList,
  ) {
    super();
    this.#conn = conn;
    this.sendWindow = conn.peerSettings.initialWindow;
    this.recvWindow = conn.localInitialWindow;
  }

  /** True once the stream is closed in both directions or reset. */
  get closed(): boolean {
    return this.local === Local.CLOSED;
  }

  get peer(): PeerInfo {
    return this.#conn.peer;
  }

  get ondata(): DataCb {
    return this._ondata;
  }
  set ondata(cb: DataCb) {
    this._ondata = cb;
    if (cb !== null && this.inbox !== null) queueMicrotask(this.drainInbox.bind(this));
  }
  get onend(): EndCb {
    return this._onend;
  }
  set onend(cb: EndCb) {
    this._onend = cb;
    if (cb !== null && this.inbox !== null) queueMicrotask(this.drainInbox.bind(this));
  }

  // ---- receiving (called by the connection) ----

  deliverData(data: Buffer, padding: number): void {
    if (this.awaitingEnd) this.stallAt = this.#conn.lastRead;
    if (padding > 0) this.consumeRaw(padding);
    if (data.length === 0) return;
    const cb = this._ondata;
    if (cb === null || this.inbox !== null) {
      (this.inbox ??= []).push(data);
      return;
    }
    try {
      cb(data);
    } catch {
      this.reset(ErrorCode.INTERNAL_ERROR);
    }
  }

  deliverEnd(trailers: HeaderList | null): void {
    this.remoteEnded = true;
    if (this.awaitingEnd) this.awaitingEnd = false, this.stallAt = 0;
    const cb = this._onend;
    if (cb === null || this.inbox !== null) {
      (this.inbox ??= []).push(trailers);
    } else {
      try {
        cb(trailers);
      } catch {
        this.reset(ErrorCode.INTERNAL_ERROR);
        return;
      }
    }
    if (this.local === Local.ENDED) this.#conn.closeStream(this, ErrorCode.NO_ERROR, false);
  }

  /** Deliver the inbox in order, up to an event whose callback is still unset. */
  private drainInbox(): void {
    const inbox = this.inbox;
    if (inbox === null) return;
    this.inbox = null;
    for (let i = 0; i < inbox.length; i++) {
      if (this.closed) return;
      const e = inbox[i]!;
      const cb = (Buffer.isBuffer(e) ? this._ondata : this._onend) as ((e: Buffer | HeaderList | null) => void) | null;
      if (cb === null) {
        this.inbox = inbox.slice(i);
        return;
      }
      try {
        cb(e);
      } catch {
        this.reset(ErrorCode.INTERNAL_ERROR);
        return;
      }
    }
  }

  // ---- the consumer's side ----

  consume(n: number): void {
    // Delivered and not consumed yet: what the peer sent past our window updates (the initial
    // window minus what is left of it) less what is consumed but not given back yet.
    const buffered = this.#conn.localInitialWindow - this.recvWindow - this.recvUnacked;
    if (n > buffered) n = buffered;
    if (n > 0) this.consumeRaw(n);
  }

  private consumeRaw(n: number): void {
    // No point in opening the window of a stream the peer has ended or that is gone.
    if (this.closed || this.remoteEnded) return;
    this.recvUnacked += n;
    if (windowUpdateDue(this.recvUnacked, this.#conn.localInitialWindow)) {
      this.recvWindow += this.recvUnacked;
      this.#conn.sendWindowUpdate(this.id, this.recvUnacked);
      this.recvUnacked = 0;
    }
  }

  respond(headers: HeaderList, endStream = false): void {
    if (this.closed) return;
    if (this.local !== Local.IDLE) throw new Error(`stream ${this.id}: respond() called twice`);
    this.local = endStream ? Local.ENDED : Local.HEADERS;
    this.#conn.sendHeaders(this, headers, endStream);
    if (endStream) this.#conn.localEnd(this);
  }

  write(data: Buffer): boolean {
    if (this.local >= Local.END_QUEUED) return false; // or closed
    if (this.local === Local.IDLE) throw new Error(`stream ${this.id}: write() before respond()`);
    this.push(data);
    this.#conn.wantsToSend(this);
    return this.pending < STREAM_WRITE_HWM; // else ondrain once framing takes it below
  }

  end(trailers?: HeaderList): void {
    if (this.local >= Local.END_QUEUED) return; // or closed
    if (this.local === Local.IDLE) throw new Error(`stream ${this.id}: end() before respond()`);
    this.local = Local.END_QUEUED;
    this.trailers = trailers !== undefined && trailers.length > 0 ? trailers : null;
    this.#conn.wantsToSend(this);
  }

  awaitEnd(): void {
    if (this.remoteEnded || this.closed) return;
    this.awaitingEnd = true;
    // the read that brought the HEADERS: no clock read per call
    this.#conn.keepalive.stall(this, this.#conn.lastRead);
  }

  get stalledSince(): number {
    // response DATA queued and blocked: on this stream's window, else on the connection's; since
    // the connection first showed a stall, if earlier (it has not handed window back since)
    const t = this.pending > 0 && !this.awaitingEnd ? this.stallAt || this.#conn.stallAt : 0;
    const c = this.#conn.stallShown;
    return c > 0 && c < t ? c : t;
  }

  /** Since when this stream's connection has shown a send stall (Http2ServerConnection.stallShown). */
  get shownStall(): number {
    return this.#conn.stallShown;
  }

  reset(code: number): void {
    if (this.closed) return;
    this.#conn.resetStream(this, code);
  }

  /** Mark closed, drop what waits to be sent, tell the consumer once. Called by the connection. */
  markClosed(code: number): void {
    if (this.closed) return;
    this.local = Local.CLOSED;
    this.clear();
    this.inbox = null;
    const cb = this.onclose;
    if (cb !== null) {
      try {
        cb(code);
      } catch {
        // The stream is gone already; nothing else to do with a throwing close handler.
      }
    }
  }
}
