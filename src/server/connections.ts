// The open connections of a server, and the cap on them (ServerOptions.maxConnections).
//
// Every accepted socket joins the set at once, before a byte is read from it: a connection still
// in its TLS handshake, its HTTP/2 preface or a protocol sniff counts toward the cap. At the cap a
// new connection is still served when one can make room: the member idle the longest (no open
// call) is evicted (HTTP/2: GOAWAY(NO_ERROR) with the last stream id processed, then closed), and
// leaves the count at once. A member that has not finished its handshake is idle since it was
// accepted: a flood of idle or half-open connections is evicted oldest first, so it never locks
// an honest client out (its new connection evicts the oldest of them, and its own connection is
// the newest idle one, the last to go). Only when every member has a call open is the new
// connection refused; the accept path refuses it in its protocol (HTTP/2: GOAWAY with a debug
// text that says why).
//
// Members are protocol-neutral (Member): HTTP/2 connections (Http2ServerConnection), a TLS socket
// in its handshake (the Server's placeholder), and anything else that can say how long it has
// been idle and how to close (an HTTP/1.1 connection, say).
import { v8gc } from './builtins.js';

/**
 * Memory after a burst (issue 14): connections that have closed leave garbage in V8's old space
 * (their objects, and the socket read buffers they still held, which count as external memory and
 * sit in malloc's heap) until the next full GC. A server gone quiet allocates nothing, so V8 has no
 * reason to run one: its memory reducer does, 8 s after a mark-compact, but once done it re-arms only
 * at a mark-compact that finds the heap's committed memory 10 MB (and 10%) above what it was at its
 * last run, which floods of short connections on a small heap rarely reach. So after
 * RECLAIM_AFTER closes, two full GCs run once no connection has closed for RECLAIM_QUIET_MS (the
 * first frees the objects and their buffers, the second lets V8 unmap the pages that frees; with one,
 * RSS stayed up until the memory reducer came): never while connections keep closing (a flood that
 * goes on; V8 collects as usual meanwhile), at most once per RECLAIM_AFTER closes. gc() comes from
 * v8gc() (no --expose-gc needed); ServerOptions.reclaimMemory false turns the reclaim off.
 *
 * Why 5.5 s of quiet: a GC shrinks V8's young generation back to its initial size only when the
 * allocation rate it measures over the last 5 s (V8's GCTracer window) is low; a GC 2 s after a flood
 * still sees the flood's rate, and instead grows the young generation to its cap or keeps it there (on
 * pi-zero-2w, 2 MB resident against 0.26 MB idle after `npm run soak`'s rows). Past those 5 s it is
 * back at 0.26 MB after every row (firmware-notes section 9).
 */
export const RECLAIM_AFTER = 128;
const RECLAIM_QUIET_MS = 5500;

/** What the set needs of one connection, whatever its protocol. */
export interface Member {
  /**
   * Since when (Date.now()) the connection has had no call open; Infinity while it has one. A
   * connection still in its handshake is idle since it was accepted.
   */
  readonly idleSince: number;
  /** Make room: tell the peer (HTTP/2: GOAWAY(NO_ERROR)) and close. */
  evict(): void;
  /** Graceful stop: no new call, close once the open ones are done. */
  shutdown(): void;
  /** Close now, cancelling the open calls. */
  destroy(): void;
}

export class ConnectionSet {
  /** Connections refused at the cap (every member busy). */
  refused = 0;
  /** Idle connections closed to make room for a new one. */
  evicted = 0;
  /** Members gone since the last reclaim (RECLAIM_AFTER; a plain-TCP connection leaves twice: its sniff, then itself). */
  #gone = 0;
  /** One timer, made at the first reclaim and refreshed after (a fired timer refreshed runs again). */
  #reclaim: NodeJS.Timeout | null = null;
  /** The members that count toward the cap. */
  readonly #open = new Set<Member>();
  /** Evicted members still closing: no longer counted, still waited for by a stop. */
  readonly #leaving = new Set<Member>();
  readonly #max: number;
  /** ServerOptions.reclaimMemory, and false once V8 has given no gc(). */
  #reclaims: boolean;

  constructor(max: number, reclaimMemory = true) {
    this.#max = max;
    this.#reclaims = reclaimMemory;
  }

  /** Connections counted toward the cap. */
  get size(): number {
    return this.#open.size;
  }

  /** Every connection not closed yet, evicted ones included. */
  get total(): number {
    return this.#open.size + this.#leaving.size;
  }

  /**
   * Room for one more connection? At the cap, evicts the member idle the longest; false (counted
   * as a refusal) when every member has a call open: the caller refuses the new connection.
   */
  makeRoom(): boolean {
    if (this.#open.size < this.#max) return true;
    let victim: Member | null = null;
    let oldest = Infinity;
    for (const m of this.#open) {
      const t = m.idleSince;
      if (t < oldest) {
        oldest = t;
        victim = m;
      }
    }
    if (victim === null) {
      this.refused++;
      return false;
    }
    this.evicted++;
    this.#open.delete(victim);
    this.#leaving.add(victim);
    victim.evict();
    return true;
  }

  /** A new member (after makeRoom()), or one taking the place of another (a TLS socket done with its handshake). */
  add(m: Member): void {
    this.#open.add(m);
  }

  /** A connection that closes on its own (refused): not counted, but waited for by a stop. */
  closing(m: Member): void {
    this.#leaving.add(m);
  }

  /** The member closed (or handed its place to another). */
  delete(m: Member): void {
    if (!this.#open.delete(m)) this.#leaving.delete(m);
    if (++this.#gone < RECLAIM_AFTER || !this.#reclaims) return;
    if (this.#reclaim === null) (this.#reclaim = setTimeout(ConnectionSet.#collect, RECLAIM_QUIET_MS, this)).unref();
    else this.#reclaim.refresh();
  }

  static #collect(set: ConnectionSet): void {
    set.#gone = 0;
    const gc = v8gc();
    if (!gc) return void (set.#reclaims = false);
    gc();
    gc();
  }

  /** Every connection not closed yet, evicted ones included (src/observe reads their counters). */
  members(): Member[] {
    return [...this.#open, ...this.#leaving];
  }

  shutdownAll(): void {
    for (const m of this.#open) m.shutdown();
    for (const m of this.#leaving) m.shutdown();
  }

  destroyAll(): void {
    for (const m of [...this.#open, ...this.#leaving]) m.destroy();
  }
}

/**
 * A socket whose protocol has not begun yet (a TLS handshake, a protocol sniff): counted from
 * accept, idle since then, and closed outright by evict, shutdown or destroy. Its owner replaces it
 * (delete, then add) by the protocol's connection once the handshake is done.
 */
export class SocketMember implements Member {
  readonly idleSince = Date.now();
  readonly #socket: { destroy(): unknown };

  constructor(socket: { destroy(): unknown }) {
    this.#socket = socket;
  }

  evict(): void {
    this.#socket.destroy();
  }

  shutdown(): void {
    this.#socket.destroy();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
