// Property and fuzz tests: random header lists round-trip encoder -> decoder over many blocks with
// the two dynamic tables in sync; random and mutated blocks never make the decoder throw anything
// but ConnectionError(COMPRESSION_ERROR) or HeaderListTooLargeError. Seeded: a failure names its
// seed and iteration.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError, ErrorCode } from '../../src/http2/errors.js';
import { HeaderListTooLargeError, HpackDecoder, HpackEncoder } from '../../src/http2/hpack/index.js';
import type { DynamicTable } from '../../src/http2/hpack/dynamic-table.js';
import { STATIC_NAMES } from '../../src/http2/hpack/static-table.js';
import { entries, prng, randInt, randLatin1 } from './hpack-support.js';

const GRPC_FIELDS = [
  [':method', 'POST'], [':scheme', 'http'], [':path', '/helloworld.Greeter/SayHello'],
  [':authority', 'localhost:50051'], ['content-type', 'application/grpc'], ['te', 'trailers'],
  ['grpc-accept-encoding', 'identity,deflate,gzip'], ['user-agent', 'grpc-node-js/1.14.0'],
  [':status', '200'], ['grpc-status', '0'], ['grpc-message', ''], ['grpc-timeout', '99m'],
];
const SIZES = [0, 32, 33, 64, 100, 256, 1000, 4096, 8192];
const CAP = 8192;

function randomName(rand: () => number): string {
  switch (randInt(rand, 4)) {
    case 0: return STATIC_NAMES[1 + randInt(rand, 61)]!;
    case 1: return GRPC_FIELDS[randInt(rand, GRPC_FIELDS.length)]![0]!;
    case 2: return 'x-' + randLatin1(rand, 12);
    default: return randLatin1(rand, 20);
  }
}

function randomValue(rand: () => number): string {
  const r = rand();
  if (r < 0.05) return randLatin1(rand, 3000);
  if (r < 0.15) return String(randInt(rand, 1000));
  return randLatin1(rand, 60);
}

/** A header list mixing fresh random fields with ones seen before (to hit the dynamic table). */
function randomList(rand: () => number, seen: string[][]): string[] {
  const list: string[] = [];
  const n = randInt(rand, 14);
  for (let i = 0; i < n; i++) {
    const r = rand();
    let f: string[];
    if (r < 0.4 && seen.length > 0) f = seen[randInt(rand, seen.length)]!;
    else if (r < 0.6) f = GRPC_FIELDS[randInt(rand, GRPC_FIELDS.length)]!;
    else {
      f = [randomName(rand), randomValue(rand)];
      seen.push(f);
      if (seen.length > 40) seen.shift();
    }
    list.push(f[0]!, f[1]!);
  }
  return list;
}

function tableInvariant(t: DynamicTable): void {
  let sum = 0;
  for (const [n, v] of entries(t)) sum += n.length + v.length + 32;
  assert.equal(t.size, sum, 'table size is the sum of its entries');
  assert.ok(t.size <= t.maxSize, 'table within its maximum size');
}

describe('HPACK round trip (property)', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}: 60 blocks with random lists, sizes and size updates stay in sync`, () => {
      const rand = prng(seed);
      const e = new HpackEncoder(4096, CAP);
      const d = new HpackDecoder(4096);
      const seen: string[][] = [];
      const never = (name: string): boolean => name.startsWith('x-') && name.length % 3 === 0;
      for (let block = 0; block < 60; block++) {
        if (rand() < 0.15) {
          const changes = 1 + randInt(rand, 3);
          for (let k = 0; k < changes; k++) {
            const size = rand() < 0.8 ? SIZES[randInt(rand, SIZES.length)]! : randInt(rand, CAP + 1);
            e.setMaxTableSize(size);
            d.setMaxTableSize(size);
          }
        }
        const list = randomList(rand, seen);
        const bytes = e.encode(list, rand() < 0.5 ? never : undefined);
        const what = `seed ${seed} block ${block}`;
        assert.deepEqual(d.decode(bytes), list, what);
        assert.deepEqual(entries(d.table), entries(e.table), what);
        assert.equal(d.table.size, e.table.size, what);
        assert.equal(d.table.maxSize, e.table.maxSize, what);
        tableInvariant(d.table);
      }
    });
  }
});

// A decoder with a small header-list limit skips the rest of a block once past it (no lookups, no
// strings for fields that go nowhere): its table must still follow the encoder's exactly.
describe('HPACK past the header-list limit (property)', () => {
  for (let seed = 1; seed <= 20; seed++) {
    it(`seed ${seed}: 60 blocks against a decoder with a small limit keep the tables in sync`, () => {
      const rand = prng(1000 + seed);
      const e = new HpackEncoder(4096, CAP);
      const limit = 40 + randInt(rand, 400);
      const d = new HpackDecoder(4096, limit);
      const seen: string[][] = [];
      const never = (name: string): boolean => name.startsWith('x-') && name.length % 3 === 0;
      let over = 0;
      for (let block = 0; block < 60; block++) {
        const list = randomList(rand, seen);
        const bytes = e.encode(list, rand() < 0.5 ? never : undefined);
        const what = `seed ${seed} block ${block} (limit ${limit})`;
        let size = 0;
        for (let i = 0; i < list.length; i += 2) size += list[i]!.length + list[i + 1]!.length + 32;
        if (size <= limit) {
          assert.deepEqual(d.decode(bytes), list, what);
        } else {
          assert.throws(() => d.decode(bytes), HeaderListTooLargeError, what);
          over++;
        }
        assert.deepEqual(entries(d.table), entries(e.table), what);
        tableInvariant(d.table);
      }
      assert.ok(over > 0, 'some blocks went past the limit');
    });
  }
});

/** Decode and accept only the two documented outcomes besides success. */
function decodeAllowed(d: HpackDecoder, block: Buffer, what: string): 'ok' | 'compression' | 'too-large' {
  try {
    const out = d.decode(block);
    assert.ok(Array.isArray(out) && out.length % 2 === 0, what);
    for (const s of out) assert.equal(typeof s, 'string', what);
    tableInvariant(d.table);
    return 'ok';
  } catch (err) {
    if (err instanceof ConnectionError && err.code === ErrorCode.COMPRESSION_ERROR) return 'compression';
    if (err instanceof HeaderListTooLargeError) {
      tableInvariant(d.table);
      return 'too-large';
    }
    assert.fail(`${what}: unexpected ${String(err)}`);
  }
}

function mutate(rand: () => number, block: Buffer): Buffer {
  const b = Buffer.from(block);
  switch (randInt(rand, 5)) {
    case 0: { // flip 1-3 bits
      if (b.length === 0) return Buffer.from([randInt(rand, 256)]);
      const flips = 1 + randInt(rand, 3);
      for (let i = 0; i < flips; i++) b[randInt(rand, b.length)]! ^= 1 << randInt(rand, 8);
      return b;
    }
    case 1: // truncate
      return b.subarray(0, randInt(rand, b.length + 1));
    case 2: { // insert random octets
      const at = randInt(rand, b.length + 1);
      const ins = Buffer.from(Array.from({ length: 1 + randInt(rand, 6) }, () => randInt(rand, 256)));
      return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
    }
    case 3: { // overwrite one octet with an interesting value
      if (b.length === 0) return b;
      b[randInt(rand, b.length)] = [0x00, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xbe, 0xff][randInt(rand, 8)]!;
      return b;
    }
    default: { // duplicate a slice
      const s = randInt(rand, b.length + 1);
      const e = s + randInt(rand, b.length - s + 1);
      return Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]);
    }
  }
}

describe('HPACK decoder fuzz', () => {
  it('random octets: only COMPRESSION_ERROR or HeaderListTooLargeError (3000 cases)', () => {
    const rand = prng(0xc0ffee);
    const counts = { ok: 0, compression: 0, 'too-large': 0 };
    for (let i = 0; i < 3000; i++) {
      const d = new HpackDecoder(SIZES[randInt(rand, SIZES.length)]!, rand() < 0.3 ? randInt(rand, 100) : Infinity);
      const len = randInt(rand, rand() < 0.5 ? 6 : 48);
      const biased = rand() < 0.5;
      const block = Buffer.alloc(len);
      for (let k = 0; k < len; k++) {
        block[k] = biased && rand() < 0.5 ? [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xff][randInt(rand, 8)]! : randInt(rand, 256);
      }
      for (let rep = 0; rep < 2; rep++) counts[decodeAllowed(d, block, `random case ${i}`)]++;
    }
    // The generator reaches all three outcomes (else it tests little).
    assert.ok(counts.ok > 0 && counts.compression > 0 && counts['too-large'] > 0, JSON.stringify(counts));
  });

  it('mutated valid sessions: only COMPRESSION_ERROR or HeaderListTooLargeError (2000 cases)', () => {
    const rand = prng(0xbadc0de);
    const counts = { ok: 0, compression: 0, 'too-large': 0 };
    for (let i = 0; i < 2000; i++) {
      const tableSize = SIZES[3 + randInt(rand, SIZES.length - 3)]!;
      // Both tables start at min(tableSize, 4096); a larger size comes with a size update.
      const e = new HpackEncoder(tableSize, CAP);
      if (tableSize > 4096) e.setMaxTableSize(tableSize);
      const seen: string[][] = [];
      const blocks: Buffer[] = [];
      for (let k = 0; k < 4; k++) blocks.push(e.encode(randomList(rand, seen)));
      const target = randInt(rand, blocks.length);
      const d = new HpackDecoder(tableSize, rand() < 0.3 ? 200 + randInt(rand, 800) : Infinity);
      const what = `mutation case ${i}`;
      for (let k = 0; k < target; k++) {
        const r = decodeAllowed(d, blocks[k]!, what);
        assert.notEqual(r, 'compression', `${what}: valid block ${k} rejected`);
      }
      counts[decodeAllowed(d, mutate(rand, blocks[target]!), what)]++;
      // Whatever happened, the decoder still only fails in the documented ways afterwards.
      for (let k = target + 1; k < blocks.length; k++) decodeAllowed(d, blocks[k]!, what);
    }
    assert.ok(counts.ok > 0 && counts.compression > 0 && counts['too-large'] > 0, JSON.stringify(counts));
  });
});
