// grpc-message percent-encoding (gRPC over HTTP/2 spec, "Responses"):
//   "Status-Message -> Percent-Encoded ... Percent-Encoded -> 1*(Percent-Byte-Unencoded / Percent-Byte-Encoded)
//    Percent-Byte-Unencoded -> 1*( %x20-%x24 / %x26-%x7E ) ; space and VCHAR, except %
//    Percent-Byte-Encoded -> "%" 2HEXDIGIT ; 0-9 A-F"
//   "When decoding invalid values, implementations MUST NOT error or throw away the message. At
//    worst, the implementation can abort decoding the status message altogether such that the user
//    would received the raw percent-encoded form."

const HEX = '0123456789ABCDEF';

// A character outside 0x20-0x7E, or '%'.
const NEEDS_ENCODING = /[^\x20-\x24\x26-\x7e]/;

/** Encode a message (any Unicode) for the grpc-message header: UTF-8, then %XX outside 0x20-0x7E and '%'. */
export function percentEncode(message: string): string {
  if (!NEEDS_ENCODING.test(message)) return message;
  const bytes = Buffer.from(message, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x20 && b <= 0x7e && b !== 0x25) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decode leniently: a '%' not followed by two hex digits is kept as is; the bytes are read as UTF-8
 * (invalid sequences become U+FFFD rather than an error). `value` is a latin1 header value.
 */
export function percentDecode(value: string): string {
  if (value.indexOf('%') < 0) return value;
  const bytes = Buffer.allocUnsafe(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length) {
      const h = hexVal(value.charCodeAt(i + 1));
      const l = hexVal(value.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes[n++] = (h << 4) | l;
        i += 2;
        continue;
      }
    }
    bytes[n++] = c & 0xff;
  }
  return bytes.toString('utf8', 0, n);
}
