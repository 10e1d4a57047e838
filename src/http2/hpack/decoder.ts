// RFC 7541 section 3 and section 6: decoding a header block into a flat [name, value, ...] list.

import { ConnectionError, ErrorCode } from '../errors.js';
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { huffmanDecode, huffmanMaxDecodedLength } from './huffman.js';
import { type Cursor, decodeInteger } from './integer.js';
import { STATIC_COUNT, STATIC_NAMES, STATIC_VALUES } from './static-table.js';

/**
 * The decoded header list is larger than `maxHeaderListSize` (RFC 7541 section 4.1 sizing). The
 * block was read to the end, so the dynamic table is in sync and the connection can go on; past
 * the field that crossed the limit (`size` counts up to it) only what the table needs was decoded.
 */
export class HeaderListTooLargeError extends Error {
  override name = 'HeaderListTooLargeError';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`header list of ${size} octets is larger than the limit of ${limit}`);
  }
}

/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 section 6.5.2). */
const INITIAL_TABLE_SIZE = 4096;
// Buffer.allocUnsafe does not use `this`: called through one short name in bundles.
const allocUnsafe = Buffer.allocUnsafe;
const SCRATCH_SIZE = 1024;
/** A scratch buffer grown past this for one huge Huffman literal is dropped after the block. */
const SCRATCH_KEEP = 64 * 1024;

const EMPTY = Buffer.alloc(0);
/**
 * Where Huffman strings are decoded: one buffer for all decoders (a string is made from it before
 * the next is decoded), made at the first Huffman string, replaced when it grows.
 */
let scratch = EMPTY;

function compressionError(message: string): ConnectionError {
  return new ConnectionError(ErrorCode.COMPRESSION_ERROR, message);
}

export class HpackDecoder {
  /** The dynamic table (exposed for tests and diagnostics; do not modify). */
  readonly table: DynamicTable;
  /** Octets (name + value + 32 per field) above which decode throws HeaderListTooLargeError. */
  maxHeaderListSize: number;
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest size update the peer may send. */
  private setting: number;
  /** The setting went below the table's size: the next block must start with a size update. */
  private updateRequired = false;
  private readonly cur: Cursor = { pos: 0 };
  // The last string read by #readString: strLen octets of strBuf (the block, or the shared scratch
  // buffer after Huffman decoding) from strStart.
  private strLen = 0;
  private strStart = 0;
  private strBuf: Buffer = EMPTY;
  /** takeString's last value for each static name index. */
  readonly #last: string[] = [];
  // Per block: the list so far (its first #n entries; the array is kept from block to block),
  // running header list size, and whether it went over the limit.
  readonly #list: string[] = [];
  #n = 0;
  private listSize = 0;
  #over = false;
  /** JS strings made so far (a work counter for tests: a block past the limit makes next to none). */
  strings = 0;

  /**
   * `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE in force: the largest size update accepted.
   * The table itself starts at min(maxTableSize, 4096): HTTP/2's initial size, which the peer's
   * encoder keeps until it signals a change ("A change in the maximum size of the dynamic table is
   * signaled via a dynamic table size update", RFC 7541 section 4.2), whatever the setting allows.
   */
  constructor(maxTableSize = 4096, maxHeaderListSize = Infinity) {
    this.table = new DynamicTable(Math.min(maxTableSize, INITIAL_TABLE_SIZE));
    this.setting = maxTableSize;
    this.maxHeaderListSize = maxHeaderListSize;
  }

  /**
   * Our advertised SETTINGS_HEADER_TABLE_SIZE, once the peer has acknowledged it. When it is below
   * the size the peer's encoder uses now, the peer must send a size update: "This dynamic table
   * size update MUST occur at the beginning of the first header block following the change to the
   * dynamic table size." (RFC 7541 section 4.2)
   */
  setMaxTableSize(n: number): void {
    this.setting = n;
    this.updateRequired = n < this.table.maxSize;
  }

  /**
   * Decode one complete header block (octets `start` to `end` of `block`). Throws
   * ConnectionError(COMPRESSION_ERROR) on a malformed block, and HeaderListTooLargeError (after
   * decoding the whole block) when the list is too large.
   */
  decode(block: Buffer, start = 0, end = block.length): string[] {
    const c = this.cur;
    this.#n = 0;
    c.pos = start;
    this.listSize = 0;
    this.#over = false;
    let fieldSeen = false;
    while (c.pos < end) {
      const b = block[c.pos]!;
      if ((b & 0xe0) === 0x20) {
        // RFC 7541 section 6.3, dynamic table size update: '001' and a 5-bit prefix integer.
        if (fieldSeen) {
          throw compressionError('dynamic table size update after a header field');
        }
        const size = decodeInteger(block, c, end, 5);
        // "The new maximum size MUST be lower than or equal to the limit determined by the
        // protocol using HPACK. A value that exceeds this limit MUST be treated as a decoding
        // error." (RFC 7541 section 6.3)
        if (size > this.setting) {
          throw compressionError(`dynamic table size update to ${size} above ${this.setting}`);
        }
        this.table.setMaxSize(size);
        this.updateRequired = false;
        continue;
      }
      if (!fieldSeen) {
        if (this.updateRequired) {
          throw compressionError('header block does not start with the required size update');
        }
        fieldSeen = true;
      }
      if (b & 0x80) {
        if (this.#over) {
          // Past the limit (an HPACK bomb repeats one large entry): one-octet indexes in range are
          // passed over in a tight loop; anything else takes the general path below.
          const max = STATIC_COUNT + this.table.count;
          let p = c.pos;
          let i = b & 0x7f;
          while (i !== 0 && i !== 0x7f && i <= max) {
            if (++p === end) break;
            const x = block[p]!;
            if (x < 0x80) break;
            i = x & 0x7f;
          }
          if (p !== c.pos) {
            c.pos = p;
            continue;
          }
        }
        // RFC 7541 section 6.1, indexed header field: '1' and a 7-bit index.
        const index = decodeInteger(block, c, end, 7);
        // "The index value of 0 is not used. It MUST be treated as a decoding error if found in
        // an indexed header field representation." (RFC 7541 section 6.1)
        if (index === 0) throw compressionError('indexed header field with index 0');
        if (this.#over) {
          // past the limit (an HPACK bomb repeats one large entry): checked, nothing looked up
          if (index - STATIC_COUNT > this.table.count) this.nameAt(index);
          continue;
        }
        const name = this.nameAt(index);
        const value = index <= STATIC_COUNT ? STATIC_VALUES[index]! : this.table.valueAt(index - STATIC_COUNT);
        this.#emit(name, value, name.length + value.length);
      } else if (b & 0x40) {
        // RFC 7541 section 6.2.1, literal with incremental indexing: '01' and a 6-bit name index.
        this.literal(block, end, 6, true);
      } else {
        // RFC 7541 sections 6.2.2 and 6.2.3, literal without indexing ('0000') or never indexed
        // ('0001'): a 4-bit name index. Both go to the list alone; the never-indexed flag only
        // matters to an intermediary re-encoding the field, which we are not.
        this.literal(block, end, 4, false);
      }
    }
    if (scratch.length > SCRATCH_KEEP) scratch = allocUnsafe(SCRATCH_SIZE);
    this.strBuf = EMPTY; // keeps neither the block nor a dropped scratch buffer
    if (this.#over) throw new HeaderListTooLargeError(this.listSize, this.maxHeaderListSize);
    // An array of the exact length: one grown by push() from empty has room for 16 entries, then
    // 40 (8 fields fit; a gRPC client's 9 or more make it allocate twice).
    return this.#list.slice(0, this.#n);
  }

  /**
   * Name of static or dynamic entry `index` (>= 1). "Indices strictly greater than the sum of the
   * lengths of both tables MUST be treated as a decoding error." (RFC 7541 section 2.3.3)
   */
  private nameAt(index: number): string {
    if (index <= STATIC_COUNT) return STATIC_NAMES[index]!;
    if (index - STATIC_COUNT > this.table.count) {
      throw compressionError(`index ${index} beyond the tables (${STATIC_COUNT + this.table.count})`);
    }
    return this.table.nameAt(index - STATIC_COUNT);
  }

  private literal(block: Buffer, end: number, prefixBits: number, indexing: boolean): void {
    const c = this.cur;
    const nameIndex = decodeInteger(block, c, end, prefixBits);
    let name = '';
    let nameLen: number;
    const limit = this.maxHeaderListSize;
    if (this.#over && !indexing) {
      // past the limit, a field that goes nowhere: its strings are skipped, not even decoded
      if (nameIndex !== 0) this.nameAt(nameIndex);
      else this.#readString(block, end, true);
      this.#readString(block, end, true);
      return;
    }
    if (nameIndex !== 0) {
      name = this.nameAt(nameIndex);
      nameLen = name.length;
    } else {
      this.#readString(block, end);
      nameLen = this.strLen;
      // Keep the name only when it can still be in the list or in the table: a huge literal
      // never becomes a string.
      const fits = !this.#over && this.listSize + nameLen + ENTRY_OVERHEAD <= limit;
      if (fits || (indexing && nameLen + ENTRY_OVERHEAD <= this.table.maxSize)) name = this.takeString();
    }
    this.#readString(block, end);
    const valueLen = this.strLen;
    const entrySize = nameLen + valueLen + ENTRY_OVERHEAD;
    const toTable = indexing && entrySize <= this.table.maxSize;
    const fits = !this.#over && this.listSize + entrySize <= limit;
    const value = toTable || fits ? this.takeString(nameIndex <= STATIC_COUNT ? nameIndex : 0) : '';
    if (indexing) {
      // An entry larger than the table empties it (RFC 7541 section 4.4); its strings are not needed.
      if (toTable) this.table.add(name, value);
      else this.table.clear();
    }
    this.#emit(name, value, nameLen + valueLen);
  }

  /** Count a field toward the list size and keep it while the list is within the limit. */
  #emit(name: string, value: string, octets: number): void {
    this.listSize += octets + ENTRY_OVERHEAD;
    if (this.#over) return;
    if (this.listSize > this.maxHeaderListSize) {
      this.#over = true;
      this.#n = 0;
      return;
    }
    const l = this.#list;
    l[this.#n++] = name;
    l[this.#n++] = value;
  }

  /**
   * Read a string literal (RFC 7541 section 5.2: 'H' flag, 7-bit prefix length, octets), decoding
   * Huffman into the scratch buffer, without making a JS string yet.
   */
  #readString(block: Buffer, end: number, skip = false): void {
    const c = this.cur;
    if (c.pos >= end) throw compressionError('header block ends before a string literal');
    const huffman = (block[c.pos]! & 0x80) !== 0;
    const len = decodeInteger(block, c, end, 7);
    if (len > end - c.pos) throw compressionError('string literal runs past the header block');
    const start = c.pos;
    c.pos = start + len;
    if (skip) return;
    if (!huffman) {
      this.strBuf = block;
      this.strStart = start;
      this.strLen = len;
      return;
    }
    const room = huffmanMaxDecodedLength(len);
    if (room > scratch.length) scratch = allocUnsafe(Math.max(room, scratch.length * 2, SCRATCH_SIZE));
    this.strBuf = scratch;
    this.strStart = 0;
    this.strLen = huffmanDecode(block, start, start + len, scratch, 0);
  }

  /**
   * The last string read, as latin1. A value of a literal whose name is static entry `key` (> 0)
   * that repeats the last one taken for it is that same string: clients built on nghttp2 send
   * :path and content-length as literals without indexing in every request.
   */
  private takeString(key = 0): string {
    const n = this.strLen;
    const b = this.strBuf;
    const o = this.strStart;
    const last = this.#last[key];
    if (last?.length === n) {
      let i = 0;
      while (i < n && last.charCodeAt(i) === b[o + i]) i++;
      if (i === n) return last;
    }
    const s = b.toString('latin1', o, o + n);
    this.strings++;
    // Short values only: at most 61 strings of 255 octets are kept per connection.
    if (key !== 0 && n < 256) this.#last[key] = s;
    return s;
  }
}
