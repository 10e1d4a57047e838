// The server side of one HTTP/2 connection over any Duplex (net.Socket, tls.TLSSocket, ...).
// Reads frames with FrameReader, keeps the open streams in an array in id order, enforces flow
// control both ways and the abuse limits of limits.ts, and writes through Output: everything queued
// during one tick goes out in one batch (one microtask per batch, not one per frame).
import type { Duplex } from 'node:stream';
import type { HeaderList, Http2Options, PeerInfo, ServerSession, ServerStream } from './api.js';
import { ConnectionError, ErrorCode, Http2Error, StreamError } from './errors.js';
import { DEFAULT_HEADER_TABLE_SIZE, DEFAULT_INITIAL_WINDOW_SIZE } from './frame/constants.js';
import type { Frame } from './frame/types.js';
import { FrameReader } from './frame/reader.js';
import {
  encodeGoaway,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
} from './frame/write.js';
import { HpackDecoder, HpackEncoder } from './hpack/index.js';
import { Local, frameData } from './flow.js';
import { FloodCounter, RecentIds, ResetBudget } from './limits.js';
import { Output } from './output.js';
import {
  DEFAULT_HTTP2_OPTIONS,
  PeerSettings,
  localSettingsPairs,
  resolveOptions,
  type ResolvedHttp2Options,
} from './settings.js';
import { Http2ServerStream } from './stream.js';
import { handleFrame, isIdle } from './dispatch.js';
import { GracefulShutdown } from './shutdown.js';
import { Keepalive, newCounters, type LifetimeCounters } from './keepalive.js';
import { newStats, type Http2ConnectionStats } from './stats.js';

export { DEFAULT_HTTP2_OPTIONS, type Http2ConnectionStats };

export const enum State {
  /** Serving; also during the first step of a graceful shutdown (shutdown.ts). */
  ACTIVE = 0,
  /** The final GOAWAY(NO_ERROR, last id) sent: existing streams finish, new ones are refused. */
  DRAINING = 1,
  /** GOAWAY with an error sent or destroyed: no more frames are processed. */
  CLOSING = 2,
  CLOSED = 3,
}

// After our last GOAWAY the socket lingers a little, as nginx's lingering close does: what the peer
// sent meanwhile is read and dropped, unparsed, so that closing does not make the kernel answer
// with a RST that could destroy the GOAWAY before the peer reads it. Both bounds are small, so
// a peer that ignores the GOAWAY and keeps writing costs at most LINGER_BYTES of reading and is
// cut within LINGER_MS (the peer's own FIN ends it sooner). LINGER_BYTES covers the few frames an
// honest peer has in flight; a flooding peer's next read (up to 64 KB) is past it, and is its last:
// each read is a fresh malloc'd buffer that only a GC frees, which piles up under floods and
// leaves malloc's heap fragmented afterwards. A flood ended by a limit usually has more than
// LINGER_BYTES already read behind the frame that ended it (a 64 KB read of PINGs ends at the 4th):
// then fail() destroys the socket at once, with no linger read, FIN handshake or timer, and the
// connection's objects die young (under floods they otherwise lived long enough to be promoted).
// The GOAWAY is with the kernel by then, ahead of the RST that the unread data makes it send.
/** The most octets read and dropped after the last GOAWAY before the socket is destroyed. */
const LINGER_BYTES = 16 * 1024;
/** The longest a closing socket waits for the peer's FIN. */
const LINGER_MS = 50;

const CONN = Symbol('connection');
type Owned = Duplex & { [CONN]?: Http2ServerConnection };
const noop = (): void => {};
function onSocketData(this: Owned, chunk: Buffer): void {
  this[CONN]!.onData(chunk);
}
function onSocketDrain(this: Owned): void {
  this[CONN]!.onDrain();
}
function onSocketEnd(this: Owned): void {
  this[CONN]!.onEnd();
}
function onSocketClose(this: Owned): void {
  this[CONN]!.onClose();
}
function destroyThis(this: Duplex): void {
  this.destroy();
}
function destroySocket(socket: Duplex): void {
  socket.destroy();
}
function handshakeTimeout(c: Http2ServerConnection): void {
  c.onHandshakeTimeout();
}
function flushSoon(c: Http2ServerConnection): void {
  c.onImmediate();
}

export class Http2ServerConnection implements ServerSession {
  onclose: (() => void) | null = null;
  readonly stats: Http2ConnectionStats = newStats();
  readonly opts: ResolvedHttp2Options;

  /** @internal The rest is for frames.ts and stream.ts. */
  /**
   * The open streams in id order (a new stream's id is above every earlier one's): an array, which
   * opening and closing streams does not reallocate as a Map's table is, once per few streams.
   */
  streams: Http2ServerStream[] = [];
  readonly recentlyReset = new RecentIds(1024);
  /** Streams the peer reset (RST_STREAM received): later frames on them are stream errors. */
  readonly recentlyPeerReset = new RecentIds(1024);
  readonly recentlyClosed = new RecentIds();
  readonly peerSettings = new PeerSettings();
  readonly decoder: HpackDecoder;
  readonly encoder: HpackEncoder;
  readonly out: Output;
  readonly resetBudget: ResetBudget;
  readonly floodPings: FloodCounter;
  readonly floodSettings: FloodCounter;
  readonly floodEmptyData: FloodCounter;
  /** Oversized field blocks (dispatch.ts countTooLarge), made at the first one. */
  tooLarge: FloodCounter | null = null;
  /** Streams whose write() queue fell below its mark while framing: ondrain after the flush. */
  readonly drainList: Http2ServerStream[] = [];
  readonly graceful = new GracefulShutdown(this);
  /** Keepalive PINGs, the client's ping policy, idle and age (keepalive.ts). */
  readonly keepalive: Keepalive;
  /** When the socket last gave us data (keepalive.ts). */
  lastRead = Date.now();
  lastPeerStreamId = 0;
  connSendWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  /** Since when DATA has waited for connection window (0: not waiting; keepalive.ts sendStall). */
  stallAt = 0;
  /** DATA octets framed since stallAt (flow.ts STALL_PROGRESS). */
  stallSent = 0;
  /** Since when the socket has not taken our writes (no 'drain'; 0: it does; keepalive.ts). */
  writeStallAt = 0;
  /** The socket's writableLength then (progress is what it went down by). */
  writeStallLen = 0;
  /**
   * Since when some stream's DATA (or the connection's) has been blocked on window, not cleared until
   * the peer takes enough (flow.ts STALL_PROGRESS) to end a stall (0: none). At a full queue (server.ts onFull) the calls of a
   * connection that has shown a stall that long are shed at once, running or waiting.
   */
  stallShown = 0;
  connRecvWindow: number;
  connRecvUnacked = 0;
  /** The per-stream receive window the peer uses: ours once it ACKed our SETTINGS. */
  localInitialWindow = DEFAULT_INITIAL_WINDOW_SIZE;
  settingsAckPending = 0;
  gotPeerSettings = false;
  peerGoaway = false;
  encoderTableSize = 4096;
  state: State = State.ACTIVE;

  readonly #reader: FrameReader;
  // Not a parameter property: bundles shorten the name of the field it assigns but not of the
  // field it declares, which every object would then carry as well (undefined).
  readonly #onStream: (stream: ServerStream) => void;
  private sendQueue: Http2ServerStream[] = [];
  private spareQueue: Http2ServerStream[] = [];
  private flushScheduled = false;
  private immediateScheduled = false;
  private finishAfterFlush = false;
  private blocked = false;
  private readPaused = false;
  private resumeScheduled = false;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** When the last call ended (or the connection was accepted): see idleSince. */
  #idleAt = Date.now();

  constructor(
    readonly socket: Duplex,
    readonly peer: PeerInfo,
    options: Http2Options,
    onStream: (stream: ServerStream) => void,
    counters: LifetimeCounters = newCounters(),
  ) {
    this.#onStream = onStream;
    const o = (this.opts = resolveOptions(options));
    this.#reader = new FrameReader({
      maxFrameSize: o.maxFrameSize,
      maxContinuationFrames: o.maxContinuationFrames,
      maxHeaderBlockSize: Math.max(o.maxHeaderListSize * 2, 65536),
      expectPreface: true,
    });
    // processFrames is done with each frame before the next.
    this.#reader.reuse = [];
    // Until the peer ACKs our SETTINGS it may use the default table size (RFC 9113 6.5.3).
    this.decoder = new HpackDecoder(Math.max(o.headerTableSize, DEFAULT_HEADER_TABLE_SIZE), o.maxHeaderListSize);
    this.encoder = new HpackEncoder(4096);
    this.out = new Output(socket);
    this.resetBudget = new ResetBudget(o.maxResetsPerWindow, o.floodWindowMs);
    this.floodPings = new FloodCounter(o.maxPingsPerWindow, o.floodWindowMs);
    this.floodSettings = new FloodCounter(o.maxSettingsPerWindow, o.floodWindowMs);
    this.floodEmptyData = new FloodCounter(o.maxEmptyDataPerWindow, o.floodWindowMs);
    this.connRecvWindow = o.connectionWindowSize;
    this.keepalive = new Keepalive(this, counters);

    const ns = socket as Duplex & { setNoDelay?: (on: boolean) => void };
    if (typeof ns.setNoDelay === 'function') ns.setNoDelay(true);
    // The listeners are shared functions that find the connection on the socket: no closure per
    // connection for each (an idle connection's memory is mostly such objects).
    (socket as Owned)[CONN] = this;
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('error', noop);
    socket.on('close', onSocketClose);
    socket.on('end', onSocketEnd);

    // "The server connection preface consists of a potentially empty SETTINGS frame that MUST be
    // the first frame the server sends in the HTTP/2 connection." (3.4)
    this.out.push(encodeSettings(localSettingsPairs(o), false));
    this.settingsAckPending++;
    if (o.connectionWindowSize > DEFAULT_INITIAL_WINDOW_SIZE) {
      this.out.push(encodeWindowUpdate(0, o.connectionWindowSize - DEFAULT_INITIAL_WINDOW_SIZE));
    }
    this.scheduleFlush();
    if (o.handshakeTimeoutMs > 0) {
      this.handshakeTimer = setTimeout(handshakeTimeout, o.handshakeTimeoutMs, this);
      this.handshakeTimer.unref();
    }
    this.idleStart();
  }

  // ---- ServerSession ----

  get openStreams(): number {
    return this.streams.length;
  }

  /** Octets waiting to reach the peer: queued here plus the socket's own buffer. */
  get outboundBytes(): number {
    return this.out.bytes + this.socket.writableLength;
  }

  get readingPaused(): boolean {
    return this.readPaused;
  }

  /** Since when no stream has been open (from accept, handshake included); Infinity while one is. */
  get idleSince(): number {
    return this.streams.length > 0 ? Infinity : this.#idleAt;
  }

  /** Make room for another connection (src/server/connections.ts): GOAWAY(NO_ERROR) with a reason, close. */
  evict(): void {
    this.drain('evicted: connection limit, idle the longest');
  }

  /** Graceful: two GOAWAY steps (shutdown.ts), then close once the streams are done. */
  shutdown(): void {
    if (this.state !== State.ACTIVE) return;
    // The peer sent GOAWAY itself: it opens no more streams, there is no race to wait for.
    if (this.peerGoaway) this.drain();
    else this.graceful.start();
  }

  /**
   * @internal The final GOAWAY(NO_ERROR) with the last stream id we processed: new streams are
   * refused from now on, the connection closes when the open ones are done.
   */
  drain(debug?: string): void {
    if (this.state !== State.ACTIVE) return;
    this.graceful.cancel();
    this.state = State.DRAINING;
    this.recordGoaway(ErrorCode.NO_ERROR, debug ?? 'shutdown');
    this.out.push(encodeGoaway(this.lastPeerStreamId, ErrorCode.NO_ERROR, debug === undefined ? undefined : Buffer.from(debug)));
    if (this.streams.length === 0) this.finishAfterFlush = true;
    this.scheduleFlush();
  }

  destroy(code: number = ErrorCode.NO_ERROR): void {
    if (this.state >= State.CLOSING) {
      this.socket.destroy();
      return;
    }
    this.recordGoaway(code, 'destroyed');
    this.out.push(encodeGoaway(this.lastPeerStreamId, code));
    this.closeAll(code === ErrorCode.NO_ERROR ? ErrorCode.CANCEL : code);
    this.state = State.CLOSING;
    this.writeNow();
    this.socket.end();
    this.socket.once('finish', destroyThis);
    this.lingerStart();
  }

  // ---- socket events ----

  /** @internal The socket's 'data'. */
  onData(chunk: Buffer): void {
    if (this.state >= State.CLOSING) {
      // lingering: dropped unparsed, up to LINGER_BYTES
      if ((this.stats.lingerBytes += chunk.length) > LINGER_BYTES && !this.socket.destroyed) {
        this.keepalive.counters.lingerCuts++;
        this.socket.destroy();
      }
      return;
    }
    this.lastRead = Date.now();
    this.#reader.push(chunk);
    if (!this.readPaused) this.processFrames();
  }

  /** Handle buffered frames until none is left or our output passes its limit. */
  private processFrames(): void {
    const reader = this.#reader;
    const limit = this.opts.maxOutboundBufferBytes;
    for (;;) {
      // A peer that does not read must not make us buffer without bound (our answers to its
      // PINGs, SETTINGS and requests included): stop handling frames until the output drains.
      if (this.out.bytes + this.socket.writableLength > limit) {
        this.pauseReading();
        return;
      }
      let f: Frame | null;
      try {
        f = reader.next();
        if (f === null) return;
        handleFrame(this, f);
      } catch (e) {
        this.onError(e);
      }
      if (this.state >= State.CLOSING) return;
    }
  }

  private pauseReading(): void {
    this.noteOutbound();
    if (this.readPaused) return;
    this.readPaused = true;
    this.stats.readPauses++;
    this.socket.pause();
  }

  private readonly resumeReading = (): void => {
    this.resumeScheduled = false;
    if (!this.readPaused || this.state >= State.CLOSING) return;
    if (this.out.bytes + this.socket.writableLength > this.opts.maxOutboundBufferBytes >>> 1) return;
    this.readPaused = false;
    this.processFrames();
    if (!this.readPaused && this.state < State.CLOSING) this.socket.resume();
  };

  /** @internal The socket's 'drain'. */
  onDrain(): void {
    this.blocked = false;
    this.writeStallAt = 0;
    this.scheduleFlush();
  }

  /** @internal The socket's 'end': the peer closed its side, no more frames can come, so no stream can finish. */
  onEnd(): void {
    if (this.state >= State.CLOSING) return;
    this.state = State.CLOSING;
    this.closeAll(ErrorCode.CANCEL);
    this.writeNow();
    this.socket.end();
    this.lingerStart();
  }

  /** @internal The socket's 'close' ('error' is ignored: 'close' follows, and the streams learn of it here). */
  onClose(): void {
    if (this.state === State.CLOSED) return;
    this.state = State.CLOSED;
    this.clearTimers();
    this.out.clear();
    this.closeAll(ErrorCode.CANCEL);
    const cb = this.onclose;
    this.onclose = null;
    if (cb !== null) cb();
  }

  /** @internal */
  onHandshakeTimeout(): void {
    this.handshakeTimer = null;
    if (this.state >= State.CLOSING) return;
    if (!this.gotPeerSettings) {
      this.fail(ErrorCode.SETTINGS_TIMEOUT, 'handshake timeout: no preface and SETTINGS');
    } else if (this.settingsAckPending > 0) {
      // "If the sender of a SETTINGS frame does not receive an acknowledgment within a reasonable
      // amount of time, it MAY issue a connection error of type SETTINGS_TIMEOUT." (6.5.3)
      this.fail(ErrorCode.SETTINGS_TIMEOUT, 'SETTINGS not acknowledged');
    }
  }

  private idleStart(): void {
    this.#idleAt = Date.now();
    this.keepalive.idle();
  }

  private lingerStart(): void {
    this.#reader.close();
    if (this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
    if (this.lingerTimer === null) {
      this.lingerTimer = setTimeout(destroySocket, LINGER_MS, this.socket);
      this.lingerTimer.unref();
    }
  }

  private clearTimers(): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.handshakeTimer = this.lingerTimer = null;
    this.keepalive.stop();
    this.graceful.cancel();
  }

  // ---- errors ----

  private onError(e: unknown): void {
    if (e instanceof StreamError) {
      // "RST_STREAM frames MUST NOT be sent for a stream in the "idle" state." (5.1) A stream error
      // on an idle stream (WINDOW_UPDATE with increment 0, a bad PRIORITY frame) becomes a
      // connection error with its code: "an endpoint MAY choose to treat a stream error as a
      // connection error" (5.4.1); for WINDOW_UPDATE that is the PROTOCOL_ERROR that "Receiving
      // any frame other than HEADERS or PRIORITY on a stream in this state" (5.1) calls for.
      if (isIdle(this, e.streamId)) {
        this.fail(e.code, `on idle stream ${e.streamId}: ${e.message}`);
        return;
      }
      if (this.resetBudget.spend(Date.now())) {
        this.fail(ErrorCode.ENHANCE_YOUR_CALM, 'too many stream errors');
        return;
      }
      const s = this.byId(e.streamId);
      if (s !== undefined) this.closeStream(s, e.code, true);
      else this.sendRst(e.streamId, e.code);
      return;
    }
    if (e instanceof Http2Error) this.fail(e.code, e.message);
    else this.fail(ErrorCode.INTERNAL_ERROR, e instanceof Error ? e.message : String(e));
  }

  /** A connection error: GOAWAY(code) with the last stream id we saw, then close after flushing. */
  fail(code: number, message: string): void {
    if (this.state >= State.CLOSING) return;
    this.recordGoaway(code, message);
    // What we had queued is of no use now: the GOAWAY goes out first (and the closing wait below
    // is not spent writing it).
    this.out.clear();
    this.out.push(encodeGoaway(this.lastPeerStreamId, code, Buffer.from(message.slice(0, 256), 'utf8')));
    this.closeAll(code);
    this.state = State.CLOSING;
    this.writeNow();
    this.#reader.close();
    // A flooding peer has sent more than LINGER_BYTES past the frame that ended it, unparsed in the
    // reader: lingering would read one more chunk to learn as much. Cut now, once the GOAWAY is
    // with the kernel (still queued here: the peer does not read, the linger below waits for it).
    if (this.#reader.dropped > LINGER_BYTES && this.socket.writableLength === 0) {
      this.keepalive.counters.lingerCuts++;
      this.socket.destroy();
      return;
    }
    this.socket.end();
    this.lingerStart();
  }

  /** Count a RST_STREAM the peer made us send (refused, malformed); past the budget: ENHANCE_YOUR_CALM. */
  countProvokedReset(): void {
    if (this.resetBudget.spend(Date.now())) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'too many stream resets');
    }
  }

  recordGoaway(code: number, reason: string): void {
    if (this.stats.goawayCode === null || this.stats.goawayCode === ErrorCode.NO_ERROR) {
      this.stats.goawayCode = code;
      this.stats.goawayReason = reason;
    }
  }

  // ---- streams (called by frames.ts and stream.ts) ----

  /** Create the stream for a valid request and hand it to the consumer. */
  openStream(id: number, headers: HeaderList, contentLength: number, endStream: boolean): void {
    const s = new Http2ServerStream(this, id, headers);
    s.lengthLeft = contentLength;
    if (endStream) s.remoteEnded = true;
    this.streams.push(s);
    this.stats.streamsOpened++;
    try {
      this.#onStream(s);
    } catch {
      this.closeStream(s, ErrorCode.INTERNAL_ERROR, true);
      return;
    }
    if (endStream && !s.closed) s.deliverEnd(null);
  }

  /** The open stream with this id. */
  byId(id: number): Http2ServerStream | undefined {
    const i = this.#indexOf(id);
    return i < 0 ? undefined : this.streams[i];
  }

  /** Where the open stream with this id is in `streams` (binary search: they are in id order), or -1. */
  #indexOf(id: number): number {
    const a = this.streams;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      const mid = a[m]!.id;
      if (mid === id) return m;
      if (mid < id) lo = m + 1;
      else hi = m;
    }
    return -1;
  }

  /** RST_STREAM on a stream id that has no stream object (refused, malformed, already gone). */
  sendRst(id: number, code: number): void {
    this.out.push(encodeRstStream(id, code));
    this.recentlyReset.add(id);
    this.stats.resetsSent++;
    this.scheduleFlush();
  }

  sendHeaders(s: Http2ServerStream, headers: HeaderList, endStream: boolean): void {
    this.out.pushHeaders(s.id, this.encoder, headers, endStream, this.peerSettings.frameSize);
    this.keepalive.sent = true;
    this.scheduleFlush();
  }

  sendWindowUpdate(id: number, increment: number): void {
    this.out.push(encodeWindowUpdate(id, increment));
    this.scheduleFlush();
  }

  peerHandshakeDone(): void {
    this.gotPeerSettings = true;
    if (this.settingsAckPending === 0) this.handshakeDone();
  }

  /** Both SETTINGS exchanged: the handshake (and SETTINGS ACK) timer is over. */
  handshakeDone(): void {
    if (this.handshakeTimer !== null) {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
    }
  }

  wantsToSend(s: Http2ServerStream): void {
    if (!s.inSendQueue) {
      s.inSendQueue = true;
      this.sendQueue.push(s);
    }
    this.scheduleFlush();
  }

  /** END_STREAM went out on `s`: half-closed (local), or closed when the peer had ended too. */
  localEnd(s: Http2ServerStream): void {
    s.local = Local.ENDED;
    // a completed response pays for one reset (limits.ts ResetBudget)
    this.resetBudget.earn();
    if (s.remoteEnded) {
      this.closeStream(s, ErrorCode.NO_ERROR, false);
      return;
    }
    // "A server can send a complete response prior to the client sending an entire request ...
    // a server MAY request that the client abort transmission of a request without error by
    // sending a RST_STREAM with an error code of NO_ERROR after sending a complete response" (8.1)
    this.closeStream(s, ErrorCode.NO_ERROR, true);
  }

  resetStream(s: Http2ServerStream, code: number): void {
    this.closeStream(s, code, true);
  }

  closeStream(s: Http2ServerStream, code: number, sendRst: boolean): void {
    if (s.closed) return;
    if (sendRst && this.state < State.CLOSING) this.sendRst(s.id, code);
    else this.recentlyClosed.add(s.id);
    const a = this.streams;
    const i = this.#indexOf(s.id);
    if (i >= 0) {
      a.copyWithin(i, i + 1);
      a.pop();
    }
    s.markClosed(code);
    if (a.length === 0) {
      if (this.state === State.DRAINING) {
        this.finishAfterFlush = true;
        this.scheduleFlush();
      } else if (this.state === State.ACTIVE) {
        if (this.peerGoaway) this.shutdown();
        else this.idleStart();
      }
    }
  }

  private closeAll(code: number): void {
    const all = this.streams;
    if (all.length === 0) return;
    this.streams = [];
    this.sendQueue.length = 0;
    for (const s of all) s.markClosed(code);
  }

  // ---- output ----

  scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** @internal setImmediate's flush (flushSoon). */
  onImmediate(): void {
    this.immediateScheduled = false;
    this.#flush();
  }

  readonly #flush = (): void => {
    this.flushScheduled = false;
    if (this.state === State.CLOSED) {
      this.out.clear();
      return;
    }
    if (this.blocked) {
      this.noteOutbound();
      return;
    }
    if (this.state !== State.CLOSING && this.sendQueue.length > 0) this.pump();
    if (this.out.length > 0) {
      this.noteOutbound();
      if (!this.out.writeAll()) {
        this.blocked = true;
        if (this.writeStallAt === 0) this.keepalive.writeStall();
      }
    }
    if (this.drainList.length > 0) this.runDrains();
    if (this.finishAfterFlush && this.state === State.DRAINING && !this.flushScheduled) {
      this.finishAfterFlush = false;
      this.state = State.CLOSING;
      this.socket.end();
      this.lingerStart();
      return;
    }
    if (!this.blocked && this.sendQueue.length > 0 && this.connSendWindow > 0 && !this.immediateScheduled) {
      this.immediateScheduled = true;
      setImmediate(flushSoon, this);
    }
    if (this.readPaused && !this.blocked && !this.resumeScheduled) {
      this.resumeScheduled = true;
      queueMicrotask(this.resumeReading);
    }
  };

  /** Write what is queued right away, blocked or not (GOAWAY before closing). */
  private writeNow(): void {
    if (this.out.length > 0 && !this.socket.destroyed) {
      this.noteOutbound();
      this.out.writeAll();
    }
  }

  private noteOutbound(): void {
    const n = this.out.bytes + this.socket.writableLength;
    if (n > this.stats.maxOutboundBytes) this.stats.maxOutboundBytes = n;
  }

  private pump(): void {
    const q = this.sendQueue;
    this.sendQueue = this.spareQueue; // streams that want to send during callbacks land here
    frameData(this, q);
    this.keepalive.sent = true;
    const added = this.sendQueue;
    for (let i = 0; i < added.length; i++) q.push(added[i]!);
    added.length = 0;
    this.spareQueue = added;
    this.sendQueue = q;
  }

  private runDrains(): void {
    const list = this.drainList;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      const cb = s.ondrain;
      if (s.closed || cb === null) continue;
      try {
        cb();
      } catch {
        this.closeStream(s, ErrorCode.INTERNAL_ERROR, true);
      }
    }
    list.length = 0;
  }
}
