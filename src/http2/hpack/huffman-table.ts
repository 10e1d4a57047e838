// RFC 7541 Appendix B: the Huffman code. For each symbol (octets 0..255, then EOS = 256) the code,
// aligned to the least significant bit, and its length in bits.
//
// Only the lengths are written out: the code is canonical (codes of one length are consecutive, in
// symbol order, and each length's first code follows on from the previous length's last one), so the
// codes are derived from the lengths at load, which keeps ~2 KB of hex out of every bundle. The
// tests check the result against the RFC's examples (C.4, C.6) and that the code is complete,
// which catches a mistyped length.

export const EOS = 256;

// One base-36 digit per symbol: its code length in bits ('5' = 5 .. 'k' = 20 .. 'u' = 30).
// prettier-ignore
const LENGTH_DIGITS =
  /*   0 */ 'dnsssssssoussussssssssusssssssss' +
  /*  32 */ '6aacd68baa8b8666555666666678f6ca' +
  /*  64 */ 'd67777777777777777777777878djde6' +
  /*  96 */ 'f56565666577666567655677777fbeds' +
  /* 128 */ 'kmkkmmmnmnnnnnonoomnonnnnlmnmnno' +
  /* 160 */ 'mlkmmnnlnmmolmnnllmlnmnnkmmmnmmn' +
  /* 192 */ 'qqkjmnmpqqqrrqopjlqrrqrollqqsrrr' +
  /* 224 */ 'koklmllnmmppooqnqrqqrrrrrsrrrrrq' +
  /* EOS */ 'u';

export const HUFFMAN_LENGTHS: readonly number[] = Array.from(LENGTH_DIGITS, (d) => parseInt(d, 36));

/** The canonical code for these lengths: by length, then by symbol, counting up from zero. */
function canonicalCodes(lengths: readonly number[]): number[] {
  const codes = new Array<number>(lengths.length).fill(0);
  let code = 0;
  for (let len = 1; len <= 30; len++) {
    for (let sym = 0; sym < lengths.length; sym++) if (lengths[sym] === len) codes[sym] = code++;
    code *= 2;
  }
  return codes;
}

export const HUFFMAN_CODES: readonly number[] = canonicalCodes(HUFFMAN_LENGTHS);
