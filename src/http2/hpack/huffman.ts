// RFC 7541 section 5.2: Huffman-coded string literals, with the code of Appendix B.
//
// Decoding walks a state machine four bits at a time. A state is an internal node of the code
// tree (256 of them); the table gives for each state and nibble the next state and the symbol
// completed on the way, if any (codes are at least 5 bits long, so a nibble completes at most
// one). No allocation per bit or per symbol. The tree is built at load; a state's row of the
// table when a string first reaches that state (filling all 4096 entries at load ran long enough
// for V8 to optimize the builder with TurboFan at every start: ~4 ms and ~3 MB of resident memory
// for a one-off loop).

import { ConnectionError, ErrorCode } from '../errors.js';
import { EOS, HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman-table.js';

const EMIT = 1 << 16;
const FAIL = 1 << 17;

/** Code lengths as a typed array for the encoder's hot loop. */
const LENGTHS = Uint8Array.from(HUFFMAN_LENGTHS);
const CODES = Uint32Array.from(HUFFMAN_CODES);

/** transitions[state * 16 + nibble] = next state | symbol << 8 | EMIT | FAIL */
const transitions = new Uint32Array(256 * 16);
/** accepting[state]: the bits since the last symbol may end the string as padding. */
const accepting = new Uint8Array(256);
/** rowBuilt[state]: transitions[state * 16 ..+ 16] are filled. */
const rowBuilt = new Uint8Array(256);
/** child[node * 2 + bit]: > 0 an internal node, < 0 a leaf (-1 - symbol), 0 unset. */
const child = new Int16Array(256 * 2);

const NOT_PREFIX = 'Huffman table is not a prefix code';

function buildTree(): void {
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let b = len - 1; b >= 1; b--) {
      const bit = (code >>> b) & 1;
      let next = child[node * 2 + bit]!;
      if (next < 0) throw new Error(NOT_PREFIX);
      if (next === 0) {
        if (nodes === 256) throw new Error('Huffman table has too many nodes');
        next = nodes++;
        child[node * 2 + bit] = next;
        depth[next] = depth[node]! + 1;
        allOnes[next] = allOnes[node]! & bit;
      }
      node = next;
    }
    if (child[node * 2 + (code & 1)] !== 0) throw new Error(NOT_PREFIX);
    child[node * 2 + (code & 1)] = -1 - sym;
  }
  for (let s = 0; s < nodes; s++) {
    // "A padding strictly longer than 7 bits MUST be treated as a decoding error. A padding not
    // corresponding to the most significant bits of the code for the EOS symbol MUST be treated
    // as a decoding error." (RFC 7541 section 5.2) EOS is all ones, so padding is 0..7 one-bits.
    accepting[s] = allOnes[s] === 1 && depth[s]! <= 7 ? 1 : 0;
  }
}
buildTree();

/** Fill the transitions of state `s`. */
function buildRow(s: number): void {
  for (let nib = 0; nib < 16; nib++) {
    let node = s;
    let entry = 0;
    for (let b = 3; b >= 0; b--) {
      const next = child[node * 2 + ((nib >> b) & 1)]!;
      if (next === 0) {
        entry = FAIL; // unreachable for a complete code
        break;
      }
      if (next < 0) {
        const sym = -1 - next;
        // "A Huffman-encoded string literal containing the EOS symbol MUST be treated as a
        // decoding error." (RFC 7541 section 5.2)
        if (sym === EOS) {
          entry = FAIL;
          break;
        }
        entry = EMIT | (sym << 8);
        node = 0;
      } else {
        node = next;
      }
    }
    transitions[s * 16 + nib] = entry & FAIL ? FAIL : entry | node;
  }
  rowBuilt[s] = 1;
}

/** The most octets `n` Huffman-coded octets can decode to (the shortest code is 5 bits). */
export function huffmanMaxDecodedLength(n: number): number {
  return Math.floor((n * 8) / 5);
}

/**
 * Decode src[start..end) into out from outPos (the caller ensures huffmanMaxDecodedLength room).
 * Returns the position after the last decoded octet. Throws COMPRESSION_ERROR on EOS or bad padding.
 */
export function huffmanDecode(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  outPos: number,
): number {
  let state = 0;
  let o = outPos;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (rowBuilt[state] === 0) buildRow(state);
    let e = transitions[(state << 4) | (b >> 4)]!;
    if (e & FAIL) throw huffmanError('EOS symbol in a Huffman string');
    if (e & EMIT) out[o++] = e >> 8;
    state = e & 0xff;
    if (rowBuilt[state] === 0) buildRow(state);
    e = transitions[(state << 4) | (b & 0x0f)]!;
    if (e & FAIL) throw huffmanError('EOS symbol in a Huffman string');
    if (e & EMIT) out[o++] = e >> 8;
    state = e & 0xff;
  }
  if (accepting[state] === 0) throw huffmanError('invalid Huffman padding');
  return o;
}

function huffmanError(message: string): ConnectionError {
  return new ConnectionError(ErrorCode.COMPRESSION_ERROR, message);
}

/** Octets the Huffman coding of `s` (latin1: each char's low 8 bits) takes. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Write the Huffman coding of `s` at `pos` (the caller ensures huffmanEncodedLength room) and
 * return the position after it. "As the Huffman-encoded data doesn't always end at an octet
 * boundary, some padding is inserted after it, up to the next octet boundary. To prevent this
 * padding from being misinterpreted as part of the string literal, the most significant bits of
 * the code corresponding to the EOS (end-of-string) symbol are used." (RFC 7541 section 5.2)
 */
export function huffmanEncode(s: string, out: Uint8Array, pos: number): number {
  // acc holds `n` (< 8) pending bits between symbols; a code of up to 24 bits fits beside them in
  // 31 bits, a longer one goes in two steps.
  let acc = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    let code = CODES[c]!;
    let len = LENGTHS[c]!;
    if (len > 24) {
      const high = len - 16;
      acc = (acc << high) | (code >>> 16);
      n += high;
      while (n >= 8) {
        n -= 8;
        out[pos++] = acc >>> n;
      }
      acc &= (1 << n) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    n += len;
    while (n >= 8) {
      n -= 8;
      out[pos++] = acc >>> n;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) out[pos++] = (acc << (8 - n)) | (0xff >> n);
  return pos;
}
