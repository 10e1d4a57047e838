// Abuse limits: a reset budget against rapid reset (CVE-2023-44487) and reset floods
// (CVE-2019-9514), windowed counters for other frame floods (PING, SETTINGS, empty DATA) and a
// bounded memory of streams we reset recently.
//
// RFC 9113 section 10.5: "An endpoint MAY treat activity that is suspicious as a connection error
// of type ENHANCE_YOUR_CALM." A FloodCounter allows `limit` events per `windowMs`; the event past
// the limit reports true and the connection answers GOAWAY(ENHANCE_YOUR_CALM).

/**
 * The rapid-reset rule: a token bucket of resets that completed streams refill.
 *
 * Costs one token: every RST_STREAM the peer sends on a stream it opened, and every RST_STREAM
 * the peer makes us send (refused past SETTINGS_MAX_CONCURRENT_STREAMS, malformed requests, 431
 * refusals, frames on a stream it reset). Earns one token back, up to the capacity: every stream
 * whose response we completed (END_STREAM sent), and the passing of time, `capacity` tokens per
 * `windowMs` (Http2Options.maxResetsPerWindow per floodWindowMs). A reset with no token left is
 * ENHANCE_YOUR_CALM.
 *
 * Why: the attack works because a reset stream frees its SETTINGS_MAX_CONCURRENT_STREAMS slot at
 * once, so a peer can start handlers far faster than the concurrency limit would let it; each
 * reset is work done for no response. A plain "N resets per window" counter catches that, but it
 * also cuts honest clients that cancel a lot: grpc-js sends RST_STREAM(CANCEL) on every cancelled
 * call and every deadline, so a busy client reaches 200 resets in 10 s while doing nothing wrong.
 * Here an honest client that mostly completes its calls never runs dry, however many it cancels,
 * while a peer that only opens and resets streams is cut after `capacity` resets (plus the slow
 * time refill), as before. The cap keeps credit from being banked: a long honest history buys at
 * most `capacity` resets in a row. A peer mixing completed and reset streams gets at most one
 * reset stream per completed one: the reset streams' work is bounded by the completed streams'
 * work, which the concurrency limit and the job queue already bound (at most twice an honest
 * full-speed client's load). The alternative, counting only streams reset before any response
 * octet, would not help (a deadline usually fires before the slow handler answers) and lets a peer
 * reset for free once a handler has sent its headers.
 */
export class ResetBudget {
  #tokens: number;
  #last = 0;
  // Not parameter properties (see Http2ServerConnection's #onStream).
  readonly #capacity: number;
  readonly #windowMs: number;

  constructor(capacity: number, windowMs: number) {
    this.#tokens = this.#capacity = capacity;
    this.#windowMs = windowMs;
  }

  /** One reset at time `now` (ms): true when no token was left (the connection should end). */
  spend(now: number): boolean {
    if (this.#tokens < this.#capacity) {
      const t = this.#tokens + ((now - this.#last) * this.#capacity) / this.#windowMs;
      this.#tokens = t < this.#capacity ? t : this.#capacity;
    }
    this.#last = now;
    if (this.#tokens < 1) return true;
    this.#tokens -= 1;
    return false;
  }

  /** A stream completed normally: one token back, up to the capacity. */
  earn(): void {
    if (this.#tokens < this.#capacity) {
      const t = this.#tokens + 1;
      this.#tokens = t < this.#capacity ? t : this.#capacity;
    }
  }

  /** Tokens left (for tests and metrics). */
  get available(): number {
    return this.#tokens;
  }
}

export class FloodCounter {
  #count = 0;
  private windowStart = 0;

  readonly #windowMs: number;

  constructor(
    readonly limit: number,
    windowMs: number,
  ) {
    this.#windowMs = windowMs;
  }

  /** Count one event at time `now` (ms); true when this event is past the limit. */
  hit(now: number): boolean {
    if (now - this.windowStart >= this.#windowMs) {
      this.windowStart = now;
      this.#count = 0;
    }
    return ++this.#count > this.limit;
  }

  get current(): number {
    return this.#count;
  }
}

/**
 * The last `capacity` stream ids we sent RST_STREAM on. RFC 9113 section 5.1 (closed): "An
 * endpoint MUST ignore frames that it receives on closed streams after it has sent a RST_STREAM
 * frame. An endpoint MAY choose to limit the period over which it ignores frames and treat frames
 * that arrive after this time as being in error." We limit it by count, not time: a fixed ring.
 */
export class RecentIds {
  // A ring without a Set: add() is on every stream close (hot), has() only on frames for streams
  // that are gone (rare), where a scan of a few hundred ints is cheap. The ring is made at the
  // first add and doubles up to `capacity` as ids come, so that a connection that never had a
  // stream (an idle one) holds none, and one that had a few holds a small one.
  private ring: Int32Array | null = null;
  #next = 0;
  readonly #capacity: number;

  constructor(capacity = 256) {
    this.#capacity = capacity;
  }

  add(id: number): void {
    let r = this.ring;
    if (r === null) r = this.ring = new Int32Array(this.#capacity < 16 ? this.#capacity : 16);
    r[this.#next] = id;
    if (++this.#next === r.length) {
      if (r.length < this.#capacity) {
        // full before its first wrap: the ids are in order, so the larger ring goes on after them
        const larger = new Int32Array(Math.min(r.length * 2, this.#capacity));
        larger.set(r);
        this.ring = larger;
      } else {
        this.#next = 0;
      }
    }
  }

  has(id: number): boolean {
    const r = this.ring;
    if (id === 0 || r === null) return false;
    for (let i = 0; i < r.length; i++) if (r[i] === id) return true;
    return false;
  }
}
