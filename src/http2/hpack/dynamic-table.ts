// RFC 7541 section 2.3.2 and section 4: the dynamic table, a FIFO of (name, value) entries kept in
// a ring buffer. Index 1 is the newest entry. Strings are latin1, so a string's length is its octet
// count.

/**
 * "The size of an entry is the sum of its name's length in octets, its value's length in octets,
 * and 32." (RFC 7541 section 4.1)
 */
export const ENTRY_OVERHEAD = 32;

const NONE: string[] = [];

export class DynamicTable {
  /** Sum of the entries' sizes. */
  size = 0;
  /** Number of entries. */
  count = 0;
  /** Entries ever inserted; the newest entry's absolute id is `inserted`. */
  inserted = 0;
  #names: string[];
  #values: string[];
  #mask: number;
  /** Ring position of the next insertion; the newest entry sits at (tail - 1) & mask. */
  #tail = 0;
  /** Encoder side only: absolute id of the newest entry for each (name, value) and each name. */
  private readonly pairs: Map<string, Map<string, number>> | null;
  private readonly byName: Map<string, number> | null;

  /** Not a parameter property (see Http2ServerConnection's #onStream). */
  maxSize: number;

  constructor(maxSize: number, withLookup = false) {
    this.maxSize = maxSize;
    // no ring until the first entry (NONE is never written: add() grows it first)
    this.#names = this.#values = NONE;
    this.#mask = 0;
    this.pairs = withLookup ? new Map() : null;
    this.byName = withLookup ? new Map() : null;
  }

  /** Name of entry `i` (1 = newest); the caller checks 1 <= i <= count. */
  nameAt(i: number): string {
    return this.#names[(this.#tail - i) & this.#mask]!;
  }

  valueAt(i: number): string {
    return this.#values[(this.#tail - i) & this.#mask]!;
  }

  /**
   * "Whenever the maximum size for the dynamic table is reduced, entries are evicted from the end
   * of the dynamic table until the size of the dynamic table is less than or equal to the maximum
   * size." (RFC 7541 section 4.3)
   */
  setMaxSize(n: number): void {
    this.maxSize = n;
    while (this.size > n) this.evictOldest();
  }

  /**
   * Add an entry, evicting as needed. "If the size of the new entry is less than or equal to the
   * maximum size, that entry is added to the table. It is not an error to attempt to add an entry
   * that is larger than the maximum size; an attempt to add an entry larger than the maximum size
   * causes the table to be emptied of all existing entries and results in an empty table."
   * (RFC 7541 section 4.4)
   */
  add(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.maxSize) {
      this.clear();
      return;
    }
    while (this.size + entrySize > this.maxSize) this.evictOldest();
    if (this.count === this.#names.length) this.#grow();
    const at = this.#tail;
    this.#names[at] = name;
    this.#values[at] = value;
    this.#tail = (at + 1) & this.#mask;
    this.count++;
    this.size += entrySize;
    const id = ++this.inserted;
    if (this.pairs !== null) {
      let vals = this.pairs.get(name);
      if (vals === undefined) {
        vals = new Map();
        this.pairs.set(name, vals);
      }
      vals.set(value, id);
      this.byName!.set(name, id);
    }
  }

  /** Evict every entry (an oversized add); the maximum size stays. */
  clear(): void {
    while (this.count > 0) this.evictOldest();
  }

  /** Encoder: the index (1 = newest) of an entry equal to (name, value), or 0. */
  findPair(name: string, value: string): number {
    const id = this.pairs!.get(name)?.get(value);
    return id === undefined ? 0 : this.inserted - id + 1;
  }

  /** Encoder: the index of the newest entry named `name`, or 0. */
  findName(name: string): number {
    const id = this.byName!.get(name);
    return id === undefined ? 0 : this.inserted - id + 1;
  }

  private evictOldest(): void {
    const at = (this.#tail - this.count) & this.#mask;
    const name = this.#names[at]!;
    const value = this.#values[at]!;
    this.#names[at] = '';
    this.#values[at] = '';
    this.size -= name.length + value.length + ENTRY_OVERHEAD;
    const id = this.inserted - this.count + 1;
    this.count--;
    if (this.pairs !== null) {
      const vals = this.pairs.get(name);
      if (vals !== undefined && vals.get(value) === id) {
        vals.delete(value);
        if (vals.size === 0) this.pairs.delete(name);
      }
      if (this.byName!.get(name) === id) this.byName!.delete(name);
    }
  }

  #grow(): void {
    const cap = this.#names.length === 0 ? 16 : this.#names.length * 2;
    const names = new Array<string>(cap).fill('');
    const values = new Array<string>(cap).fill('');
    // Copy oldest..newest to 0..count-1.
    for (let k = 0; k < this.count; k++) {
      const from = (this.#tail - this.count + k) & this.#mask;
      names[k] = this.#names[from]!;
      values[k] = this.#values[from]!;
    }
    this.#names = names;
    this.#values = values;
    this.#mask = cap - 1;
    this.#tail = this.count;
  }
}
