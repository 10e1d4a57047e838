// How long a connection lives, beside the connection as grpc-go keeps it (transport/keepalive):
//
// - Keepalive: a connection silent (nothing read) for keepaliveTimeMs is sent a PING. Anything read
//   after it (its ACK or any other frame) proves the peer alive; nothing within keepaliveTimeoutMs
//   and the peer is gone (a half-open TCP connection: Wi-Fi drop, power cut): the socket is
//   destroyed at once (no GOAWAY to wait for), its streams close, which aborts their calls'
//   ctx.signal and frees their job-queue slots.
// - Ping policy (the client's PINGs): one that comes sooner than minPingIntervalMs after the
//   previous one (sooner than 2 hours when no stream is open and permitKeepaliveWithoutCalls is
//   off) is a strike; sending HEADERS or DATA clears the strikes; past maxPingStrikes the
//   connection ends with GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings"), the signal grpc-js and
//   grpc-core clients read to double their keepalive time. The PING flood counter (limits.ts) is the
//   coarse ceiling beside it and ends the connection the same way (dispatch.ts).
// - maxConnectionIdleMs: no stream open for that long, graceful GOAWAY (shutdown.ts).
// - maxConnectionAgeMs, +-10% jitter: graceful GOAWAY; maxConnectionAgeGraceMs later, whatever is
//   still open is cancelled and the connection closed.
// - sendStallTimeoutMs (nginx's send_timeout, Varnish's h2_window_timeout): response DATA that
//   waits that long for flow-control window. A stream's own window: RST_STREAM(ENHANCE_YOUR_CALM),
//   which aborts the call's ctx.signal and frees its queue slot, and its connection can be evicted
//   again. The connection window: GOAWAY(ENHANCE_YOUR_CALM) and close. Not CANCEL (the client did
//   not cancel; gRPC maps it to CANCELLED) nor FLOW_CONTROL_ERROR (a window of 0 is no violation):
//   ENHANCE_YOUR_CALM, "might be generating excessive load" (RFC 9113 7), which gRPC clients read
//   as RESOURCE_EXHAUSTED. frameData (flow.ts) stamps when DATA gets blocked (stall()) and clears
//   the stamp once STALL_PROGRESS (16 KB) or all that was queued went out since: a peer trickling
//   1-octet WINDOW_UPDATEs does not start the clock over with each. The socket too: our writes
//   not drained for that long (less than 16 KB taken) close the connection the same way, so a
//   peer that reads its TCP socket a trickle at a time while writing frames (keepalive sees it
//   alive, our output stays below maxOutboundBufferBytes) is cut. A peer that does not
//   read the socket at all stops answering PINGs too: keepalive closes it.
//   The other way, the same clock: a unary or server-streaming request whose END_STREAM does not
//   come (src/grpc/call.ts takes no job slot before it does, and calls awaitEnd()) is reset when no
//   DATA came for that long, so a half-open request cannot keep its connection from eviction.
// One timer per connection, armed for the earliest of these deadlines and re-armed when it fires.
import { State, type Http2ServerConnection } from './connection.js';
import { ErrorCode } from './errors.js';
import { encodePing } from './frame/write.js';
import { STALL_PROGRESS } from './flow.js';
import type { Http2ServerStream } from './stream.js';

/** What a server counts over all its connections (ServerStats). */
export interface LifetimeCounters {
  /** Connections closed because a keepalive PING went unanswered. */
  keepaliveTimeouts: number;
  /** Connections ended with GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings"). */
  tooManyPings: number;
  /** Graceful GOAWAYs sent for maxConnectionIdleMs. */
  idleGoaways: number;
  /** Graceful GOAWAYs sent for maxConnectionAgeMs. */
  ageGoaways: number;
  /** Connections closed, calls cancelled, when maxConnectionAgeGraceMs ran out. */
  ageGraceCloses: number;
  /** Field blocks past maxHeaderListSize (431 or a reset stream; the 4th in a flood window ends the connection). */
  headersTooLarge: number;
  /** Connections destroyed because the peer kept writing after our last GOAWAY (past LINGER_BYTES). */
  lingerCuts: number;
  /** Streams reset because their DATA waited sendStallTimeoutMs for stream window. */
  sendStallResets: number;
  /** Connections closed because their DATA waited sendStallTimeoutMs for connection window. */
  sendStallCloses: number;
  /** Unary and server-streaming requests reset: no DATA for sendStallTimeoutMs before their END_STREAM. */
  requestStallResets: number;
  /** Running calls reset at a full job queue, their response stalled on flow control (server.ts onFull). */
  stalledShed: number;
}

export function newCounters(): LifetimeCounters {
  return {
    keepaliveTimeouts: 0, tooManyPings: 0, idleGoaways: 0, ageGoaways: 0, ageGraceCloses: 0, headersTooLarge: 0, lingerCuts: 0,
    sendStallResets: 0, sendStallCloses: 0, requestStallResets: 0, stalledShed: 0,
  };
}

const hasPending = (s: Http2ServerStream): boolean => s.pending > 0;

/** The payload of our keepalive PINGs. */
const KEEPALIVE_PING = Buffer.from('keepaliv', 'latin1');
/** Without calls and without permitKeepaliveWithoutCalls, one PING per this long is allowed (grpc's value). */
const NO_CALL_PING_INTERVAL_MS = 2 * 60 * 60 * 1000;
/** The longest delay setTimeout takes. */
const MAX_DELAY = 0x7fffffff;

export class Keepalive {
  /** HEADERS or DATA went out since the last PING received: the strikes start over. */
  sent = false;
  readonly counters: LifetimeCounters;
  #timer: NodeJS.Timeout | null = null;
  #due = Infinity;
  /** When our unanswered keepalive PING went out (0: none outstanding). */
  #pingAt = 0;
  #lastPingAt = 0;
  #strikes = 0;
  #ageAt = 0;
  #graceAt = 0;
  readonly #c: Http2ServerConnection;

  constructor(c: Http2ServerConnection, counters: LifetimeCounters) {
    this.#c = c;
    this.counters = counters;
    const age = c.opts.maxConnectionAgeMs;
    if (age > 0) this.#ageAt = Date.now() + age * (0.9 + 0.2 * Math.random());
    this.#check();
  }

  /** The last stream closed: the idle clock starts (c.idleSince). */
  idle(): void {
    const ms = this.#c.opts.maxConnectionIdleMs;
    if (ms > 0) this.#arm(Date.now() + ms);
  }

  /** A PING from the peer at `now`: true when it is one too many (too_many_pings). */
  strike(now: number): boolean {
    const c = this.#c;
    const last = this.#lastPingAt;
    this.#lastPingAt = now;
    if (this.sent) {
      this.sent = false;
      this.#strikes = 0;
      return false;
    }
    const min = c.streams.length === 0 && !c.opts.permitKeepaliveWithoutCalls ? NO_CALL_PING_INTERVAL_MS : c.opts.minPingIntervalMs;
    return now - last < min && ++this.#strikes > c.opts.maxPingStrikes;
  }

  /**
   * DATA of `s` (null: of the connection) now waits for window, or (s.awaitingEnd) its request for
   * its END_STREAM: the stall clock starts at `now`.
   */
  stall(s: Http2ServerStream | null, now = Date.now()): void {
    const ms = this.#c.opts.sendStallTimeoutMs;
    if (ms === 0) return;
    if (s === null) this.#c.stallAt = now;
    else s.stallAt = now;
    this.#arm(now + ms);
  }

  /** The socket stopped taking our writes (write() returned false): the stall clock starts. */
  writeStall(now = Date.now()): void {
    const c = this.#c;
    const ms = c.opts.sendStallTimeoutMs;
    if (ms === 0) return;
    c.writeStallAt = now;
    c.writeStallLen = c.socket.writableLength;
    this.#arm(now + ms);
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#due = Infinity;
  }

  /** Fire at `at` (or sooner, when already due sooner). */
  #arm(at: number): void {
    if (at >= this.#due) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#due = at;
    this.#timer = setTimeout(this.#check, Math.min(Math.max(at - Date.now(), 1), MAX_DELAY));
    this.#timer.unref();
  }

  readonly #check = (): void => {
    this.#timer = null;
    this.#due = Infinity;
    const c = this.#c;
    // Closing (GOAWAY with an error sent) or closed: nothing left to watch.
    if (c.state >= State.CLOSING) return;
    const o = c.opts;
    const now = Date.now();
    let next = Infinity;
    if (this.#graceAt > 0) {
      if (now >= this.#graceAt) {
        this.counters.ageGraceCloses++;
        c.destroy();
        return;
      }
      next = this.#graceAt;
    }
    if (this.#ageAt > 0) {
      if (now >= this.#ageAt) {
        this.#ageAt = 0;
        this.counters.ageGoaways++;
        c.shutdown();
        const grace = o.maxConnectionAgeGraceMs;
        if (grace > 0) next = this.#graceAt = now + grace;
      } else next = Math.min(next, this.#ageAt);
    }
    if (o.maxConnectionIdleMs > 0 && c.streams.length === 0 && c.state === State.ACTIVE && !c.graceful.pending) {
      const at = c.idleSince + o.maxConnectionIdleMs;
      if (now >= at) {
        this.counters.idleGoaways++;
        c.shutdown();
      } else next = Math.min(next, at);
    }
    const st = o.sendStallTimeoutMs;
    if (st > 0) {
      const a = c.streams;
      let at = c.stallAt;
      // Still DATA waiting for the connection window? (Its streams may have been reset meanwhile.)
      if (at > 0 && !a.some(hasPending)) at = c.stallAt = 0;
      if (at > 0) {
        if (now - at >= st) {
          this.counters.sendStallCloses++;
          c.fail(ErrorCode.ENHANCE_YOUR_CALM, 'send stall: no connection window');
          return;
        }
        next = Math.min(next, at + st);
      }
      // The socket: not drained since (a peer that reads its TCP socket a few octets at a time and
      // writes enough to look alive). 16 KB taken since the stamp starts the clock over.
      const w = c.writeStallAt;
      if (w > 0) {
        const len = c.socket.writableLength;
        if (c.writeStallLen - len >= STALL_PROGRESS) {
          c.writeStallAt = now;
          c.writeStallLen = len;
          next = Math.min(next, now + st);
        } else if (now - w >= st) {
          this.counters.sendStallCloses++;
          c.fail(ErrorCode.ENHANCE_YOUR_CALM, 'send stall: socket not read');
          return;
        } else next = Math.min(next, w + st);
      }
      // backwards: a reset stream leaves `a`
      for (let i = a.length - 1; i >= 0; i--) {
        const s = a[i]!;
        if (s.stallAt === 0) continue;
        if (now - s.stallAt >= st) {
          if (s.awaitingEnd) this.counters.requestStallResets++;
          else this.counters.sendStallResets++;
          c.resetStream(s, ErrorCode.ENHANCE_YOUR_CALM);
        } else next = Math.min(next, s.stallAt + st);
      }
    }
    const time = o.keepaliveTimeMs;
    if (time > 0) {
      // Anything read since our PING went out answers it (as grpc-go: any read is activity).
      if (this.#pingAt > 0 && c.lastRead >= this.#pingAt) this.#pingAt = 0;
      if (this.#pingAt > 0) {
        const dead = this.#pingAt + o.keepaliveTimeoutMs;
        if (now >= dead) {
          this.counters.keepaliveTimeouts++;
          c.recordGoaway(0, 'keepalive timeout');
          c.socket.destroy();
          return;
        }
        next = Math.min(next, dead);
      } else if (now - c.lastRead >= time) {
        this.#pingAt = now;
        c.out.push(encodePing(KEEPALIVE_PING, false));
        c.scheduleFlush();
        next = Math.min(next, now + o.keepaliveTimeoutMs);
      } else next = Math.min(next, c.lastRead + time);
    }
    if (next < Infinity) this.#arm(next);
  };
}
