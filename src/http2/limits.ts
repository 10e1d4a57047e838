// Abuse limits: windowed counters for frame floods (rapid reset CVE-2023-44487, PING, SETTINGS,
// empty DATA) and a bounded memory of streams we reset recently.
//
// RFC 9113 section 10.5: "An endpoint MAY treat activity that is suspicious as a connection error
// of type ENHANCE_YOUR_CALM." Each counter allows `limit` events per `windowMs`; the event past
// the limit reports true and the connection answers GOAWAY(ENHANCE_YOUR_CALM).

export class FloodCounter {
  private count = 0;
  private windowStart = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Count one event at time `now` (ms); true when this event is past the limit. */
  hit(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count > this.limit;
  }

  get current(): number {
    return this.count;
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
  // that are gone (rare), where a scan of a few hundred ints is cheap.
  private readonly ring: Int32Array;
  private next = 0;

  constructor(capacity = 256) {
    this.ring = new Int32Array(capacity);
  }

  add(id: number): void {
    this.ring[this.next] = id;
    this.next = this.next + 1 === this.ring.length ? 0 : this.next + 1;
  }

  has(id: number): boolean {
    if (id === 0) return false;
    const r = this.ring;
    for (let i = 0; i < r.length; i++) if (r[i] === id) return true;
    return false;
  }
}
