// Custom metadata of a call: lower-case keys, string values for ASCII keys and Buffer values for
// keys ending in "-bin", several values per key. The API mirrors grpc-js's Metadata.

export type MetadataValue = string | Buffer;

export const KEY_RE = /^[0-9a-z_.-]+$/;
// Printable ASCII (0x20-0x7e) per the gRPC over HTTP/2 spec's ASCII-Value.
export const ASCII_VALUE_RE = /^[\x20-\x7e]*$/;

export function isBinaryKey(key: string): boolean {
  return key.endsWith('-bin');
}

export function validateKey(key: string): string {
  const k = key.toLowerCase();
  if (!KEY_RE.test(k)) throw new TypeError(`metadata key "${key}" contains characters outside [0-9a-z_.-]`);
  return k;
}

function validateValue(key: string, value: MetadataValue): void {
  if (isBinaryKey(key)) {
    if (!Buffer.isBuffer(value)) throw new TypeError(`metadata key "${key}" ends in -bin: its values must be Buffers`);
  } else if (typeof value !== 'string' || !ASCII_VALUE_RE.test(value)) {
    throw new TypeError(`metadata key "${key}": values must be printable ASCII strings`);
  }
}

export class Metadata {
  readonly #map = new Map<string, MetadataValue[]>();

  set(key: string, value: MetadataValue): void {
    const k = validateKey(key);
    validateValue(k, value);
    this.#map.set(k, [value]);
  }

  add(key: string, value: MetadataValue): void {
    const k = validateKey(key);
    validateValue(k, value);
    const list = this.#map.get(k);
    if (list === undefined) this.#map.set(k, [value]);
    else list.push(value);
  }

  remove(key: string): void {
    this.#map.delete(key.toLowerCase());
  }

  get(key: string): MetadataValue[] {
    return this.#map.get(key.toLowerCase()) ?? [];
  }

  /** The first value of each key, as grpc-js's getMap(). */
  getMap(): Record<string, MetadataValue> {
    const out: Record<string, MetadataValue> = {};
    for (const [k, v] of this.#map) if (v.length > 0) out[k] = v[0]!;
    return out;
  }

  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  entries(): IterableIterator<[string, MetadataValue[]]> {
    return this.#map.entries();
  }

  get size(): number {
    return this.#map.size;
  }

  clone(): Metadata {
    const m = new Metadata();
    for (const [k, v] of this.#map) m.#map.set(k, v.slice());
    return m;
  }

  /** Copy every value of `other` into this one (added after existing values). */
  merge(other: Metadata): void {
    for (const [k, v] of other.#map) {
      const list = this.#map.get(k);
      if (list === undefined) this.#map.set(k, v.slice());
      else list.push(...v);
    }
  }

  toJSON(): Record<string, MetadataValue[]> {
    return Object.fromEntries(this.#map);
  }
}
