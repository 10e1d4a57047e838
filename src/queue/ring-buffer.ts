// A fixed-capacity FIFO ring buffer: the slot array is allocated once in the constructor and never
// grows, so pushing and shifting allocate nothing.
//
// Capacity is a power of two so a counter maps to its slot with a mask instead of a modulo.
// `head` and `tail` are free-running unsigned 32-bit counters (they are never reduced modulo the
// capacity, only masked when used as an index):
//
//     capacity = 8, mask = 7          slot = counter & mask
//
//       slot:  0   1   2   3   4   5   6   7
//            [ . | . | A | B | C | . | . | . ]       head = 2, tail = 5
//                      ^head       ^tail             length = tail - head = 3
//
//     wrapped (head = 14, tail = 19):
//            [ F | G | H | . | . | . | D | E ]       14 & 7 = 6, 19 & 7 = 3
//                          ^tail       ^head         length = 19 - 14 = 5
//
//     EMPTY  <=>  tail - head == 0          (head and tail on the same slot, nothing stored)
//     FULL   <=>  tail - head == capacity   (head and tail ALSO on the same slot, all stored)
//
// Because the counters are not reduced, "same slot" is ambiguous but the difference is not: every
// slot is usable (no sacrificial empty slot) and no separate count is kept. The difference is
// computed as `(tail - head) >>> 0`, which stays right when the counters wrap past 2^32: the
// capacity (at most 2^30) divides 2^32, so masking a wrapped counter still names the right slot.
//
// Items are objects, so `null` is free to mark a hole: an item removed from the middle (see
// `clearAt`). Holes still count towards `length` until they reach the head and are shifted out,
// or until `compact()` squeezes them out. Callers that need a live count keep it themselves
// (JobQueue does).

const MAX_CAPACITY = 2 ** 30;

/** Smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`capacity must be a positive integer, got ${n}`);
  if (n > MAX_CAPACITY) throw new RangeError(`capacity ${n} is above the maximum ${MAX_CAPACITY}`);
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

export class RingBuffer<T extends object> {
  /** Number of slots: a power of two, fixed at construction. */
  readonly capacity: number;
  readonly #mask: number;
  private readonly slots: (T | null)[];
  #head: number;
  #tail: number;

  /**
   * @param minCapacity rounded up to a power of two.
   * @param startCounter where head and tail start (default 0). Only tests pass it, to put the
   *   counters near 2^32 and exercise their wraparound.
   */
  constructor(minCapacity: number, startCounter = 0) {
    this.capacity = nextPowerOfTwo(minCapacity);
    this.#mask = this.capacity - 1;
    // fill() makes a packed array of the final size: no sparse elements, no later growth.
    this.slots = new Array<T | null>(this.capacity).fill(null);
    this.#head = startCounter >>> 0;
    this.#tail = this.#head;
  }

  /** Occupied slots, holes included. */
  get length(): number {
    return (this.#tail - this.#head) >>> 0;
  }

  isEmpty(): boolean {
    return this.#tail === this.#head;
  }

  isFull(): boolean {
    return ((this.#tail - this.#head) >>> 0) === this.capacity;
  }

  /** Append at the tail. Returns false (and stores nothing) when full. */
  push(item: T): boolean {
    if (((this.#tail - this.#head) >>> 0) === this.capacity) return false;
    this.slots[this.#tail & this.#mask] = item;
    this.#tail = (this.#tail + 1) >>> 0;
    return true;
  }

  /**
   * Remove and return the oldest slot's content (null for a hole), or undefined when empty.
   * The slot is cleared so the buffer keeps no reference to the item.
   */
  shift(): T | null | undefined {
    if (this.#tail === this.#head) return undefined;
    const i = this.#head & this.#mask;
    const item = this.slots[i]!;
    this.slots[i] = null;
    this.#head = (this.#head + 1) >>> 0;
    return item;
  }

  /** Content of the i-th occupied slot from the head (0 = oldest), or undefined out of range. */
  at(i: number): T | null | undefined {
    if (i < 0 || i >= this.length) return undefined;
    return this.slots[(this.#head + i) & this.#mask];
  }

  /** Position (from the head) of `item`, or -1. Linear scan, no allocation. */
  indexOf(item: T): number {
    const n = this.length;
    for (let i = 0; i < n; i++) if (this.slots[(this.#head + i) & this.#mask] === item) return i;
    return -1;
  }

  /** Turn the i-th occupied slot into a hole. Returns the item it held (or undefined). */
  clearAt(i: number): T | null | undefined {
    if (i < 0 || i >= this.length) return undefined;
    const s = (this.#head + i) & this.#mask;
    const item = this.slots[s];
    this.slots[s] = null;
    return item;
  }

  /**
   * Squeeze out the holes in place, keeping order: afterwards `length` is the number of real
   * items. O(length), allocation free. Returns the number of holes removed.
   */
  compact(): number {
    const n = this.length;
    let w = this.#head;
    for (let r = 0; r < n; r++) {
      const ri = (this.#head + r) & this.#mask;
      const item = this.slots[ri];
      if (item === null) continue;
      const wi = w & this.#mask;
      if (wi !== ri) {
        this.slots[wi] = item;
        this.slots[ri] = null;
      }
      w = (w + 1) >>> 0;
    }
    const removed = (this.#tail - w) >>> 0;
    this.#tail = w;
    return removed;
  }

  /** Drop everything (slots cleared so nothing is retained). */
  clear(): void {
    while (this.#tail !== this.#head) this.shift();
  }
}
