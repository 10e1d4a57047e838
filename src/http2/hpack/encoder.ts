// RFC 7541 section 6: encoding a flat [name, value, ...] list into one header block.
//
// Choices: a full static or dynamic match is sent indexed; otherwise a literal, with the name
// indexed when the static or dynamic table has it, added to the dynamic table (incremental
// indexing) unless the entry would take more than 3/4 of the table; a string is Huffman-coded
// unless that is longer than the raw octets (ties go to Huffman, as in RFC 7541 Appendix C).
// Blocks are written into one growable scratch buffer, which the connection copies straight into
// its output (encodeRaw); encode() returns a copy.

import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { encodeInteger } from './integer.js';
import { STATIC_COUNT, STATIC_LOOKUP } from './static-table.js';

const SCRATCH_SIZE = 4096;
// Buffer.allocUnsafe does not use `this`: called through one short name in bundles.
const allocUnsafe = Buffer.allocUnsafe;
/** A scratch buffer grown past this for one huge block is dropped before the next one. */
const SCRATCH_KEEP = 64 * 1024;
/** Integers take at most 6 octets; a field has up to three (index/name length, value length). */
const FIELD_OVERHEAD = 18;

/**
 * Where blocks are written (encodeRaw): one buffer for all encoders, as a block is copied out
 * before the next is encoded; made at the first block, replaced when it grows.
 */
let shared: Buffer | null = null;

export class HpackEncoder {
  /** The dynamic table (exposed for tests and diagnostics; do not modify). */
  readonly table: DynamicTable;
  readonly #sizeCap: number;
  /** Size updates owed at the start of the next block: the smallest size set since, and the last. */
  private updatePending = false;
  private updateMin = 0;

  /**
   * `maxTableSize` is the peer's SETTINGS_HEADER_TABLE_SIZE as known now (HTTP/2: 4096 until the
   * peer's SETTINGS arrive). As in the decoder, the table starts at min(maxTableSize, 4096), the
   * size both sides assume without a size update; setMaxTableSize grows it, with an update.
   * `sizeCap` bounds what setMaxTableSize will use, whatever the peer allows: "the encoder can
   * choose to use less capacity than this maximum size" (RFC 7541 section 4.2), which saves
   * memory on small boards.
   */
  constructor(maxTableSize = 4096, sizeCap = 4096) {
    this.#sizeCap = sizeCap;
    this.table = new DynamicTable(Math.min(maxTableSize, 4096), true);
  }

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE. The table shrinks at once; the next block starts with
   * the size update(s): "If the maximum size is reduced and increased again between two header
   * blocks, the smallest maximum table size that occurs must be signaled" (RFC 7541 section 4.2),
   * so the block carries that smallest size, then the final one.
   */
  setMaxTableSize(n: number): void {
    const size = Math.min(n, this.#sizeCap);
    if (!this.updatePending) {
      if (size === this.table.maxSize) return;
      this.updatePending = true;
      this.updateMin = size;
    } else if (size < this.updateMin) {
      this.updateMin = size;
    }
    this.table.setMaxSize(size);
  }

  /**
   * Encode one header list (flat [name, value, ...], latin1 strings) as a header block.
   * `neverIndex(name)` true sends that field as "literal never indexed" (RFC 7541 section 6.2.3),
   * e.g. for credentials.
   */
  encode(headers: string[], neverIndex?: (name: string) => boolean): Buffer {
    const n = this.encodeRaw(headers, neverIndex); // first: it may replace scratch
    return Buffer.from(this.scratch.subarray(0, n));
  }

  /**
   * As encode(), into the encoder's own buffer: the block is octets 0 to the returned length of
   * `scratch`, valid until the next call (the connection copies it into its output at once).
   */
  encodeRaw(headers: string[], neverIndex?: (name: string) => boolean): number {
    if (shared === null || shared.length > SCRATCH_KEEP) shared = allocUnsafe(SCRATCH_SIZE);
    let pos = 0;
    if (this.updatePending) {
      this.ensure(0, 12);
      const final = this.table.maxSize;
      // RFC 7541 section 6.3, dynamic table size update: '001' and a 5-bit prefix integer.
      if (this.updateMin < final) pos = encodeInteger(this.scratch, pos, this.updateMin, 5, 0x20);
      pos = encodeInteger(this.scratch, pos, final, 5, 0x20);
      this.updatePending = false;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      this.ensure(pos, FIELD_OVERHEAD + name.length + value.length);
      pos = this.#field(pos, name, value, neverIndex !== undefined && neverIndex(name));
    }
    return pos;
  }

  #field(pos: number, name: string, value: string, never: boolean): number {
    const buf = this.scratch;
    const table = this.table;
    const st = STATIC_LOOKUP.get(name);
    if (!never) {
      // RFC 7541 section 6.1, indexed header field: '1' and a 7-bit index.
      const si = st === undefined ? undefined : st.values.get(value);
      if (si !== undefined) return encodeInteger(buf, pos, si, 7, 0x80);
      const di = table.findPair(name, value);
      if (di !== 0) return encodeInteger(buf, pos, STATIC_COUNT + di, 7, 0x80);
    }
    let nameIndex = 0;
    if (st !== undefined) nameIndex = st.index;
    else {
      const dn = table.findName(name);
      if (dn !== 0) nameIndex = STATIC_COUNT + dn;
    }
    if (never) {
      // RFC 7541 section 6.2.3, literal never indexed: '0001' and a 4-bit name index.
      pos = encodeInteger(buf, pos, nameIndex, 4, 0x10);
    } else if ((name.length + value.length + ENTRY_OVERHEAD) * 4 <= table.maxSize * 3) {
      // RFC 7541 section 6.2.1, literal with incremental indexing: '01' and a 6-bit name index.
      pos = encodeInteger(buf, pos, nameIndex, 6, 0x40);
      table.add(name, value);
    } else {
      // RFC 7541 section 6.2.2, literal without indexing: '0000' and a 4-bit name index.
      pos = encodeInteger(buf, pos, nameIndex, 4, 0x00);
    }
    if (nameIndex === 0) pos = this.#string(pos, name);
    return this.#string(pos, value);
  }

  /** RFC 7541 section 5.2, string literal: 'H' flag, 7-bit prefix length, octets. */
  #string(pos: number, s: string): number {
    const hlen = huffmanEncodedLength(s);
    if (hlen <= s.length && s.length !== 0) {
      pos = encodeInteger(this.scratch, pos, hlen, 7, 0x80);
      return huffmanEncode(s, this.scratch, pos);
    }
    pos = encodeInteger(this.scratch, pos, s.length, 7, 0x00);
    return pos + this.scratch.write(s, pos, 'latin1');
  }

  /** The buffer the last block was written into (octets 0 to encodeRaw's result). */
  get scratch(): Buffer {
    return shared!;
  }

  /** Make room for `n` more octets after `pos`, keeping the first `pos`. */
  private ensure(pos: number, n: number): void {
    const cur = shared!;
    if (pos + n <= cur.length) return;
    const next = allocUnsafe(Math.max(pos + n, cur.length * 2));
    cur.copy(next, 0, 0, pos);
    shared = next;
  }
}
