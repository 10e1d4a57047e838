// RFC 7541 Appendix C vectors (decode, table states, and encode where our choices are the
// RFC's), plus the decoder's error cases and the header list limit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderListTooLargeError, HpackDecoder, HpackEncoder } from '../../src/http2/hpack/index.js';
import { decodeInteger, encodeInteger } from '../../src/http2/hpack/integer.js';
import { STATIC_COUNT, STATIC_NAMES, STATIC_VALUES } from '../../src/http2/hpack/static-table.js';
import { assertCompressionError, entries, hex } from './hpack-support.js';

interface Step {
  block: string;
  headers: string[];
  table: [string, string][];
  size: number;
}

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOC = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';

const REQ1 = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'];
const REQ2 = [...REQ1, 'cache-control', 'no-cache'];
const REQ3 = [':method', 'GET', ':scheme', 'https', ':path', '/index.html', ':authority', 'www.example.com', 'custom-key', 'custom-value'];
const REQ_TABLES: [string, string][][] = [
  [[':authority', 'www.example.com']],
  [['cache-control', 'no-cache'], [':authority', 'www.example.com']],
  [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']],
];
const REQ_SIZES = [57, 110, 164];

const RESP1 = [':status', '302', 'cache-control', 'private', 'date', DATE1, 'location', LOC];
const RESP2 = [':status', '307', 'cache-control', 'private', 'date', DATE1, 'location', LOC];
const RESP3 = [':status', '200', 'cache-control', 'private', 'date', DATE2, 'location', LOC, 'content-encoding', 'gzip', 'set-cookie', COOKIE];
const RESP_TABLES: [string, string][][] = [
  [['location', LOC], ['date', DATE1], ['cache-control', 'private'], [':status', '302']],
  [[':status', '307'], ['location', LOC], ['date', DATE1], ['cache-control', 'private']],
  [['set-cookie', COOKIE], ['content-encoding', 'gzip'], ['date', DATE2]],
];
const RESP_SIZES = [222, 222, 215];

function steps(blocks: string[], lists: string[][], tables: [string, string][][], sizes: number[]): Step[] {
  return blocks.map((block, i) => ({ block, headers: lists[i]!, table: tables[i]!, size: sizes[i]! }));
}

const C3 = steps(
  [
    '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '8286 84be 5808 6e6f 2d63 6163 6865',
    '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
  ],
  [REQ1, REQ2, REQ3], REQ_TABLES, REQ_SIZES,
);
const C4 = steps(
  [
    '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
    '8286 84be 5886 a8eb 1064 9cbf',
    '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
  ],
  [REQ1, REQ2, REQ3], REQ_TABLES, REQ_SIZES,
);
const C5 = steps(
  [
    `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
     2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
     6c65 2e63 6f6d`,
    '4803 3330 37c1 c0bf',
    `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
     54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
     5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
     3d31`,
  ],
  [RESP1, RESP2, RESP3], RESP_TABLES, RESP_SIZES,
);
const C6 = steps(
  [
    `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
     2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
    '4883 640e ffc1 c0bf',
    `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
     77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
     9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
  ],
  [RESP1, RESP2, RESP3], RESP_TABLES, RESP_SIZES,
);

function checkDecode(tableSize: number, series: Step[]): void {
  const d = new HpackDecoder(tableSize);
  for (const [i, s] of series.entries()) {
    assert.deepEqual(d.decode(hex(s.block)), s.headers, `block ${i + 1}`);
    assert.deepEqual(entries(d.table), s.table, `table after block ${i + 1}`);
    assert.equal(d.table.size, s.size, `table size after block ${i + 1}`);
  }
}

/** Encode the series; exact bytes when `exact`, and always decodable to the same lists and tables. */
function checkEncode(tableSize: number, series: Step[], exact: boolean): void {
  const e = new HpackEncoder(tableSize);
  const d = new HpackDecoder(tableSize);
  for (const [i, s] of series.entries()) {
    const block = e.encode(s.headers);
    if (exact) assert.equal(block.toString('hex'), hex(s.block).toString('hex'), `block ${i + 1}`);
    assert.deepEqual(d.decode(block), s.headers, `round trip of block ${i + 1}`);
    assert.deepEqual(entries(e.table), s.table, `encoder table after block ${i + 1}`);
    assert.deepEqual(entries(d.table), s.table, `decoder table after block ${i + 1}`);
    assert.equal(e.table.size, s.size);
  }
}

describe('RFC 7541 Appendix C', () => {
  it('C.1 integers: 10 and 1337 with a 5-bit prefix, 42 with an 8-bit prefix', () => {
    const cases: [number, number, string][] = [[10, 5, '0a'], [1337, 5, '1f9a0a'], [42, 8, '2a']];
    for (const [value, bits, bytes] of cases) {
      const buf = Buffer.alloc(8);
      const end = encodeInteger(buf, 0, value, bits, 0);
      assert.equal(buf.subarray(0, end).toString('hex'), bytes);
      const c = { pos: 0 };
      assert.equal(decodeInteger(hex(bytes), c, bytes.length / 2, bits), value);
      assert.equal(c.pos, bytes.length / 2);
    }
    // The flag bits above the prefix are ignored by the decoder.
    assert.equal(decodeInteger(hex('ff9a0a'), { pos: 0 }, 3, 5), 1337);
  });

  it('C.2 header field representations', () => {
    const cases: [string, string[], [string, string][], number][] = [
      ['400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572', ['custom-key', 'custom-header'], [['custom-key', 'custom-header']], 55],
      ['040c 2f73 616d 706c 652f 7061 7468', [':path', '/sample/path'], [], 0],
      ['1008 7061 7373 776f 7264 0673 6563 7265 74', ['password', 'secret'], [], 0],
      ['82', [':method', 'GET'], [], 0],
    ];
    for (const [block, headers, table, size] of cases) {
      const d = new HpackDecoder();
      assert.deepEqual(d.decode(hex(block)), headers);
      assert.deepEqual(entries(d.table), table);
      assert.equal(d.table.size, size);
    }
  });

  it('C.3 requests without Huffman: decode', () => checkDecode(4096, C3));
  it('C.3 requests: our encoding round-trips with the same table states', () => checkEncode(4096, C3, false));
  it('C.4 requests with Huffman: decode', () => checkDecode(4096, C4));
  it('C.4 requests with Huffman: encode gives the exact bytes', () => checkEncode(4096, C4, true));
  it('C.5 responses without Huffman, 256-octet table: decode with evictions', () => checkDecode(256, C5));
  it('C.5 responses: our encoding round-trips with the same table states', () => checkEncode(256, C5, false));
  it('C.6 responses with Huffman, 256-octet table: decode', () => checkDecode(256, C6));
  it('C.6 responses with Huffman: encode gives the exact bytes', () => checkEncode(256, C6, true));
});

describe('static table', () => {
  it('has the 61 entries of Appendix A', () => {
    assert.equal(STATIC_COUNT, 61);
    assert.equal(STATIC_NAMES[1], ':authority');
    assert.equal(`${STATIC_NAMES[16]}: ${STATIC_VALUES[16]}`, 'accept-encoding: gzip, deflate');
    assert.equal(STATIC_NAMES[31], 'content-type');
    assert.equal(STATIC_NAMES[61], 'www-authenticate');
    const d = new HpackDecoder();
    for (let i = 1; i <= 61; i++) {
      assert.deepEqual(d.decode(Buffer.from([0x80 | i])), [STATIC_NAMES[i], STATIC_VALUES[i]]);
    }
  });
});

describe('decoder errors are COMPRESSION_ERROR', () => {
  const bad: [string, string][] = [
    ['80', 'indexed field with index 0'],
    ['be', 'index 62 with an empty dynamic table'],
    ['ff80', 'index past the tables (truncated integer too)'],
    ['ffff', 'integer cut off by the end of the block'],
    ['ffffffffff0f', 'integer above 2^31-1'],
    ['ff80808080808000', 'integer with too many continuation octets'],
    ['41', 'literal without its value'],
    ['4105 6162', 'string literal longer than the block'],
    ['40', 'literal without its name string'],
    ['00 03 6162 63', 'literal whose value is missing'],
    ['418c f1e3 c2e5', 'Huffman string cut off'],
    ['4184 ffff fffc', 'Huffman string holding EOS (30 ones)'],
    ['4181 ff', 'Huffman padding of 8 bits'],
    ['4181 00', "Huffman padding not all ones ('0' then 000)"],
    ['4182 1fff', "Huffman padding of 11 ones after 'a'"],
    ['82 20', 'size update after a header field'],
    ['3fe2 1f', 'size update to 4097, above the setting of 4096'],
  ];
  for (const [block, what] of bad) {
    it(what, () => assertCompressionError(() => new HpackDecoder().decode(hex(block))));
  }

  it('accepts a Huffman padding of 7 ones', () => {
    // 'a' = 00011, then 111 padding -> one octet 0x1f.
    assert.deepEqual(new HpackDecoder().decode(hex('4181 1f')), [':authority', 'a']);
  });
});

describe('dynamic table size updates', () => {
  it('accepts updates at the start of a block, evicting to the new size', () => {
    const d = new HpackDecoder();
    d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    assert.equal(d.table.count, 1);
    // Two updates (0 then 4096) then an indexed field.
    assert.deepEqual(d.decode(hex('20 3fe1 1f 82')), [':method', 'GET']);
    assert.equal(d.table.count, 0);
    assert.equal(d.table.maxSize, 4096);
  });

  it('an update above our setting is an error, at or below it is not', () => {
    const d = new HpackDecoder(4096);
    d.setMaxTableSize(8192);
    d.decode(hex('3fe1 3f')); // 8192
    assert.equal(d.table.maxSize, 8192);
    assertCompressionError(() => d.decode(hex('3fe2 3f'))); // 8193
  });

  it('a setting above 4096 allows larger updates but the table starts at 4096 until one arrives', () => {
    const e = new HpackEncoder(65536, 65536);
    const d = new HpackDecoder(65536);
    assert.equal(e.table.maxSize, 4096);
    assert.equal(d.table.maxSize, 4096);
    // 100 entries of 64 octets: the encoder evicts at 4096, and so must the decoder.
    for (let i = 0; i < 100; i++) {
      const list = [`x-k${String(i).padStart(3, '0')}`, 'v'.repeat(26)];
      assert.deepEqual(d.decode(e.encode(list)), list);
    }
    assert.equal(e.table.size, 4096);
    assert.deepEqual(entries(d.table), entries(e.table));
    e.setMaxTableSize(65536);
    assert.deepEqual(d.decode(e.encode(['x-k', 'v'])), ['x-k', 'v']);
    assert.equal(d.table.maxSize, 65536);
    assert.deepEqual(entries(d.table), entries(e.table));
  });

  it('after we lower the setting below the table size, the next block must start with an update', () => {
    const d = new HpackDecoder();
    d.setMaxTableSize(100);
    assertCompressionError(() => d.decode(hex('82')));
    const d2 = new HpackDecoder();
    d2.setMaxTableSize(100);
    assert.deepEqual(d2.decode(hex('3f45 82')), [':method', 'GET']); // 100
    assert.equal(d2.table.maxSize, 100);
    assert.deepEqual(d2.decode(hex('82')), [':method', 'GET']);
  });

  it('the encoder signals the smallest size set between blocks, then the final one', () => {
    const e = new HpackEncoder();
    e.encode([':authority', 'example.com']);
    assert.equal(e.table.count, 1);
    e.setMaxTableSize(100);
    e.setMaxTableSize(0);
    e.setMaxTableSize(4096);
    assert.equal(e.table.count, 0);
    assert.equal(e.encode([':method', 'GET']).toString('hex'), '203fe11f82');
    e.setMaxTableSize(1000);
    assert.equal(e.encode([]).toString('hex'), '3fc907'); // 1000 = 31 + 969
    e.setMaxTableSize(1000);
    assert.equal(e.encode([]).length, 0);
  });

  it('the encoder keeps its table within its cap whatever the peer allows', () => {
    const e = new HpackEncoder(4096, 4096);
    e.setMaxTableSize(1 << 20);
    assert.equal(e.table.maxSize, 4096);
    assert.equal(e.encode([':method', 'GET']).toString('hex'), '82');
    const big = new HpackEncoder(4096, 1 << 16);
    big.setMaxTableSize(1 << 20);
    assert.equal(big.table.maxSize, 1 << 16);
  });
});

describe('header list size limit', () => {
  it('throws HeaderListTooLargeError after decoding the whole block, tables still in sync', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder(4096, 200);
    const list = ['x-a', 'a'.repeat(60), 'x-b', 'b'.repeat(60), 'x-c', 'c'.repeat(60)];
    const block = e.encode(list);
    assert.throws(
      () => d.decode(block),
      (err: unknown) => err instanceof HeaderListTooLargeError && err.size === 3 * (3 + 60 + 32) && err.limit === 200,
    );
    assert.deepEqual(entries(d.table), entries(e.table));
    // The next block refers to the entries the rejected block added.
    const again = e.encode(['x-c', 'c'.repeat(60), 'x-a', 'a'.repeat(60)]);
    assert.equal(again.length, 2);
    assert.deepEqual(d.decode(again), ['x-c', 'c'.repeat(60), 'x-a', 'a'.repeat(60)]);
  });

  // CVE-2016-6581 (HPACK bomb): one large entry referenced thousands of times. Once the list is
  // past the limit the rest of the block costs no lookups and no strings, while the table still
  // follows every insertion.
  it('past the limit a block makes no more strings, and the table still follows it', () => {
    const d = new HpackDecoder(4096, 8192);
    const bomb = 'b'.repeat(4000);
    // literal with incremental indexing, new name: x-bomb lands at index 62
    const insert = Buffer.concat([hex('40 06'), Buffer.from('x-bomb'), Buffer.from(encodeIntegerBytes(bomb.length, 7)), Buffer.from(bomb)]);
    assert.deepEqual(d.decode(insert), ['x-bomb', bomb]);
    const e = new HpackEncoder();
    // never-indexed Huffman literals: each would be decoded and made a string within the limit
    const tail = e.encode(Array.from({ length: 200 }, (_, i) => [`x-n${i}`, `value number ${i}`]).flat(), () => true);
    const after = Buffer.concat([hex('40 05'), Buffer.from('x-new'), hex('03'), Buffer.from('yes')]);
    const block = Buffer.concat([Buffer.alloc(16000, 0x80 | 62), tail, after]);
    const before = d.strings;
    assert.throws(() => d.decode(block), HeaderListTooLargeError);
    // two strings: the name and value of the entry added to the table, none for the rest
    assert.equal(d.strings - before, 2);
    assert.deepEqual(entries(d.table), [['x-new', 'yes'], ['x-bomb', bomb]]);
    assert.deepEqual(d.decode(hex('be bf')), ['x-new', 'yes', 'x-bomb', bomb]);
    // an index beyond the tables is still a decoding error past the limit
    assertCompressionError(() => d.decode(Buffer.concat([Buffer.alloc(100, 0x80 | 62), hex('ff 80 01')])));
  });

  it('a list exactly at the limit passes', () => {
    // (7 + 3 + 32) + (5 + 1 + 32) = 80
    assert.deepEqual(new HpackDecoder(4096, 80).decode(hex('82 84')), [':method', 'GET', ':path', '/']);
    assert.throws(() => new HpackDecoder(4096, 79).decode(hex('82 84')), HeaderListTooLargeError);
  });

  it('a single huge literal (raw and Huffman) is rejected and does not break the table', () => {
    for (const huffman of [false, true]) {
      const d = new HpackDecoder(4096, 8192);
      const value = 'z'.repeat(1 << 20);
      const len = Buffer.alloc(8);
      let n: number;
      let payload: Buffer;
      if (huffman) {
        // 'z' is 7 bits; 8 of them fill 7 octets exactly.
        payload = Buffer.alloc((value.length / 8) * 7);
        for (let i = 0; i < payload.length; i += 7) hex('f7 efdf bf7e fdfb').copy(payload, i);
        n = encodeInteger(len, 0, payload.length, 7, 0x80);
      } else {
        payload = Buffer.from(value, 'latin1');
        n = encodeInteger(len, 0, payload.length, 7, 0);
      }
      // ':authority' literal with incremental indexing (larger than the table: empties it), then
      // a new entry that must land at index 62.
      const block = Buffer.concat([hex('82 41'), len.subarray(0, n), payload, hex('4003 782d 7901 31')]);
      assert.throws(() => d.decode(block), HeaderListTooLargeError);
      assert.deepEqual(entries(d.table), [['x-y', '1']]);
      assert.deepEqual(d.decode(hex('be')), ['x-y', '1']);
    }
  });
});

function encodeIntegerBytes(value: number, prefixBits: number): number[] {
  const out = Buffer.alloc(8);
  const n = encodeInteger(out, 0, value, prefixBits, 0);
  return [...out.subarray(0, n)];
}

describe('encoder choices', () => {
  it('repeated gRPC response headers become one indexed octet each', () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const head = [':status', '200', 'content-type', 'application/grpc', 'grpc-encoding', 'identity', 'grpc-accept-encoding', 'identity,deflate,gzip'];
    const trailers = ['grpc-status', '0', 'grpc-message', 'OK'];
    assert.deepEqual(d.decode(e.encode(head)), head);
    assert.deepEqual(d.decode(e.encode(trailers)), trailers);
    for (let i = 0; i < 3; i++) {
      const h = e.encode(head);
      const t = e.encode(trailers);
      assert.equal(h.length, 4);
      assert.equal(t.length, 2);
      assert.deepEqual(d.decode(h), head);
      assert.deepEqual(d.decode(t), trailers);
    }
  });

  it('neverIndex names use the never-indexed form and stay out of the table', () => {
    const e = new HpackEncoder();
    const never = (name: string): boolean => name === 'authorization' || name === 'x-token';
    const block = e.encode(['authorization', 'Bearer abc', 'x-token', 'secret', 'x-other', 'v'], never);
    assert.equal(block[0]! & 0xf0, 0x10);
    assert.equal(block[0]! & 0x0f, 15); // authorization, static index 23 (15 + 8)
    assert.deepEqual(entries(e.table), [['x-other', 'v']]);
    assert.deepEqual(new HpackDecoder().decode(block), ['authorization', 'Bearer abc', 'x-token', 'secret', 'x-other', 'v']);
    // The second time it is still a literal, not an index.
    assert.equal(e.encode(['x-token', 'secret'], never)[0]! & 0xf0, 0x10);
  });

  it('does not index an entry larger than 3/4 of the table', () => {
    const e = new HpackEncoder(256);
    e.encode(['x-big', 'v'.repeat(200)]);
    assert.equal(e.table.count, 0);
    e.encode(['x-small', 'v'.repeat(100)]);
    assert.equal(e.table.count, 1);
  });
});
