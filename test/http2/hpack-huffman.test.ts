// The Huffman code table (RFC 7541 Appendix B) and the coder built on it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  huffmanMaxDecodedLength,
} from '../../src/http2/hpack/huffman.js';
import { EOS, HUFFMAN_CODES, HUFFMAN_LENGTHS } from '../../src/http2/hpack/huffman-table.js';
import { assertCompressionError, hex, prng, randLatin1 } from './hpack-support.js';

function encode(s: string): Buffer {
  const out = Buffer.alloc(huffmanEncodedLength(s));
  const end = huffmanEncode(s, out, 0);
  assert.equal(end, out.length);
  return out;
}

function decode(b: Buffer): string {
  const out = Buffer.alloc(huffmanMaxDecodedLength(b.length));
  const end = huffmanDecode(b, 0, b.length, out, 0);
  return out.toString('latin1', 0, end);
}

describe('Huffman code table', () => {
  it('has 257 symbols whose codes fit their lengths (5..30 bits)', () => {
    assert.equal(HUFFMAN_CODES.length, 257);
    assert.equal(HUFFMAN_LENGTHS.length, 257);
    for (let s = 0; s <= EOS; s++) {
      const len = HUFFMAN_LENGTHS[s]!;
      assert.ok(len >= 5 && len <= 30, `length of ${s}`);
      assert.ok(HUFFMAN_CODES[s]! < 2 ** len, `code of ${s} fits ${len} bits`);
    }
    assert.equal(HUFFMAN_CODES[EOS], 0x3fffffff);
  });

  it('is complete (Kraft sum exactly 1) and canonical: a mistyped code or length breaks this', () => {
    let kraft = 0;
    for (const len of HUFFMAN_LENGTHS) kraft += 2 ** (30 - len);
    assert.equal(kraft, 2 ** 30);
    // Canonical order: by length, then by symbol; each code is the previous one plus one,
    // shifted left by the length difference, starting from zero.
    const order = [...HUFFMAN_LENGTHS.keys()].sort(
      (a, b) => HUFFMAN_LENGTHS[a]! - HUFFMAN_LENGTHS[b]! || a - b,
    );
    let code = 0;
    let prevLen = HUFFMAN_LENGTHS[order[0]!]!;
    for (const [k, s] of order.entries()) {
      const len = HUFFMAN_LENGTHS[s]!;
      if (k > 0) code = (code + 1) * 2 ** (len - prevLen);
      assert.equal(HUFFMAN_CODES[s], code, `code of symbol ${s}`);
      prevLen = len;
    }
  });
});

describe('Huffman coder', () => {
  // RFC 7541 Appendix C.4 and C.6 strings.
  const vectors: [string, string][] = [
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'],
    ['307', '640e ff'],
    ['private', 'aec3 771a 4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
    ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
    ['gzip', '9bd9 ab'],
    [
      'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    ],
  ];
  for (const [text, bytes] of vectors) {
    it(`RFC string ${JSON.stringify(text.slice(0, 20))}: exact encoding and decoding`, () => {
      assert.equal(encode(text).toString('hex'), hex(bytes).toString('hex'));
      assert.equal(decode(hex(bytes)), text);
    });
  }

  it('round-trips each of the 256 octets alone, and all of them together', () => {
    let all = '';
    for (let c = 0; c < 256; c++) {
      const s = String.fromCharCode(c);
      assert.equal(decode(encode(s)), s, `octet ${c}`);
      all += s;
    }
    assert.equal(decode(encode(all)), all);
    assert.equal(decode(encode(all + all.split('').reverse().join(''))), all + all.split('').reverse().join(''));
  });

  it('round-trips random latin1 strings', () => {
    const rand = prng(7541);
    for (let i = 0; i < 500; i++) {
      const s = randLatin1(rand, 64);
      assert.equal(decode(encode(s)), s, `case ${i}`);
    }
  });

  it('decodes the empty string from zero octets', () => {
    assert.equal(decode(Buffer.alloc(0)), '');
    assert.equal(huffmanEncodedLength(''), 0);
  });

  it('writes each octet at its offset without touching its neighbours', () => {
    const out = Buffer.alloc(10, 0xaa);
    const end = huffmanEncode('302', out, 3);
    assert.equal(end, 5);
    assert.equal(out.toString('hex'), 'aaaaaa6402aaaaaaaaaa');
    const dec = Buffer.alloc(8, 0xbb);
    assert.equal(huffmanDecode(hex('00 6402 00'), 1, 3, dec, 2), 5);
    assert.equal(dec.toString('latin1', 2, 5), '302');
  });

  it('rejects EOS, padding over 7 bits, and padding that is not all ones', () => {
    assertCompressionError(() => decode(hex('ffff fffc')), 'EOS');
    assertCompressionError(() => decode(hex('1fff ffff ff')), "'a' then EOS");
    assertCompressionError(() => decode(hex('ff')), '8 bits of padding');
    assertCompressionError(() => decode(hex('6402 ff')), '8 bits of padding after 302');
    assertCompressionError(() => decode(hex('00')), "'0' then 000");
    assertCompressionError(() => decode(hex('60')), "'/' then 00");
    assert.equal(decode(hex('6402')), '302');
    assert.equal(decode(hex('1f')), 'a');
  });
});
