// Request and trailer field validation (RFC 9113 sections 8.2 and 8.3). A malformed request is a
// stream error: "Malformed requests or responses that are detected MUST be treated as a stream
// error (Section 5.4.2) of type PROTOCOL_ERROR." (section 8.1.1)
import type { HeaderList } from './api.js';
import { ErrorCode, StreamError } from './errors.js';

// The character checks are loops over char codes, not regular expressions: they run on every
// field of every request, and a RegExp call costs more than the scan of a short string (a request
// of ten fields took ~0.7 us with two RegExps per field, a good part of a unary call's CPU).

/**
 * "A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or 0x7f-0xff
 * (all ranges inclusive). This specifically excludes all non-visible ASCII characters, ASCII SP
 * (0x20), and uppercase characters ('A' to 'Z', ASCII 0x41 to 0x5a)." / "With the exception of
 * pseudo-header fields (Section 8.3), which have a name that starts with a single colon, field
 * names MUST NOT include a colon (ASCII COLON, 0x3a)." (8.2.1)
 */
export function validFieldName(name: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x3a || (c >= 0x41 && c <= 0x5a)) return false;
  }
  return true;
}

/**
 * "A field value MUST NOT contain the zero value (ASCII NUL, 0x00), line feed (ASCII LF, 0x0a), or
 * carriage return (ASCII CR, 0x0d) at any position. A field value MUST NOT start or end with an
 * ASCII whitespace character (ASCII SP or HTAB, 0x20 or 0x09)." (8.2.1)
 */
export function validFieldValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  let c = value.charCodeAt(0);
  if (c === 0x20 || c === 0x09) return false;
  c = value.charCodeAt(n - 1);
  if (c === 0x20 || c === 0x09) return false;
  for (let i = 0; i < n; i++) {
    c = value.charCodeAt(i);
    // one compare for the common case: every octet above CR is allowed
    if (c <= 0x0d && (c === 0x00 || c === 0x0a || c === 0x0d)) return false;
  }
  return true;
}

/** content-length: 1 to 15 digits (a safe integer). */
function validLength(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

// Pseudo-header bits, to find duplicates without allocating.
const P_METHOD = 1;
const P_SCHEME = 2;
const P_AUTHORITY = 4;
const P_PATH = 8;

function malformed(id: number, why: string): never {
  throw new StreamError(id, ErrorCode.PROTOCOL_ERROR, `malformed request: ${why}`);
}

/** Checks shared by requests and trailers for one regular (non-pseudo) field. */
function checkRegular(id: number, name: string, value: string): void {
  if (!validFieldName(name)) malformed(id, `invalid field name ${JSON.stringify(name)}`);
  if (!validFieldValue(value)) malformed(id, `invalid value for ${name}`);
  switch (name) {
    // "An endpoint MUST NOT generate an HTTP/2 message containing connection-specific header
    // fields. This includes the Connection header field and those listed as having
    // connection-specific semantics (i.e., Proxy-Connection, Keep-Alive, Transfer-Encoding, and
    // Upgrade). Any message containing connection-specific header fields MUST be treated as
    // malformed." (8.2.2)
    case 'connection':
    case 'proxy-connection':
    case 'keep-alive':
    case 'transfer-encoding':
    case 'upgrade':
      malformed(id, `connection-specific field ${name}`);
    // "The only exception to this is the TE header field, which MAY be present in an HTTP/2
    // request; when it is, it MUST NOT contain any value other than "trailers"." (8.2.2)
    case 'te':
      if (value !== 'trailers') malformed(id, 'te other than "trailers"');
      break;
    default:
      break;
  }
}

/**
 * Validate a request header list. Returns the content-length it declares, or -1 when it has none.
 * Throws StreamError(PROTOCOL_ERROR) when the request is malformed.
 */
export function validateRequest(id: number, h: HeaderList): number {
  let seen = 0;
  let regular = false;
  let method = '';
  let path = '';
  let contentLength = -1;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    if (name.charCodeAt(0) === 58 /* : */) {
      // "Pseudo-header fields MUST NOT appear in a trailer section" / "All pseudo-header fields
      // MUST appear in a field block before all regular field lines." (8.3)
      if (regular) malformed(id, `pseudo-header ${name} after regular fields`);
      let bit: number;
      switch (name) {
        case ':method':
          bit = P_METHOD;
          method = value;
          break;
        case ':scheme':
          bit = P_SCHEME;
          break;
        case ':authority':
          bit = P_AUTHORITY;
          break;
        case ':path':
          bit = P_PATH;
          path = value;
          break;
        default:
          // "Endpoints MUST treat a request or response that contains undefined or invalid
          // pseudo-header fields as malformed." and "Pseudo-header fields defined for responses
          // MUST NOT appear in requests." (8.3)
          malformed(id, `pseudo-header ${name} not allowed in a request`);
      }
      // "The same pseudo-header field name MUST NOT appear more than once in a field block." (8.3)
      if ((seen & bit) !== 0) malformed(id, `duplicate ${name}`);
      seen |= bit;
      if (bit !== P_AUTHORITY && value.length === 0) malformed(id, `empty ${name}`);
      if (!validFieldValue(value)) malformed(id, `invalid value for ${name}`);
      continue;
    }
    regular = true;
    checkRegular(id, name, value);
    if (name === 'content-length') {
      if (!validLength(value)) malformed(id, 'invalid content-length');
      const n = Number(value);
      if (contentLength !== -1 && contentLength !== n) malformed(id, 'conflicting content-length');
      contentLength = n;
    }
  }
  if (method === 'CONNECT') {
    // "The :scheme and :path pseudo-header fields MUST be omitted." / "The :authority
    // pseudo-header field contains the host and port to connect to" (8.5)
    if ((seen & (P_SCHEME | P_PATH)) !== 0 || (seen & P_AUTHORITY) === 0) malformed(id, 'bad CONNECT pseudo-headers');
    return contentLength;
  }
  // "All HTTP/2 requests MUST include exactly one valid value for the :method, :scheme, and
  // :path pseudo-header fields, unless they are CONNECT requests" (8.3.1)
  if ((seen & (P_METHOD | P_SCHEME | P_PATH)) !== (P_METHOD | P_SCHEME | P_PATH)) {
    malformed(id, 'missing :method, :scheme or :path');
  }
  // ":path ... This pseudo-header field MUST NOT be empty for "http" or "https" URIs; "http" or
  // "https" URIs that do not contain a path component MUST include a value of '/'. The exceptions
  // to this rule are: an OPTIONS request for an "http" or "https" URI that does not include a path
  // component; these MUST include a ":path" pseudo-header field with a value of '*'" (8.3.1)
  const c = path.charCodeAt(0);
  if (c !== 47 /* / */ && !(path === '*' && method === 'OPTIONS')) malformed(id, 'invalid :path');
  return contentLength;
}

/** Validate a trailer section: regular fields only. Throws StreamError(PROTOCOL_ERROR). */
export function validateTrailers(id: number, h: HeaderList): void {
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!;
    // "Pseudo-header fields MUST NOT appear in a trailer section." (8.1)
    if (name.charCodeAt(0) === 58) malformed(id, `pseudo-header ${name} in trailers`);
    checkRegular(id, name, h[i + 1]!);
  }
}
