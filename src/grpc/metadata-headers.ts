// Custom metadata <-> HTTP/2 header lists (gRPC over HTTP/2 spec, "Requests"/"Responses"):
//   "Custom-Metadata -> Binary-Header / ASCII-Header
//    Binary-Header -> {Header-Name "-bin" } {base64 encoded value}
//    ASCII-Header -> Header-Name ASCII-Value"
//   "Header names starting with "grpc-" but not listed here are reserved for future GRPC use and
//    should not be used by applications as Custom-Metadata."
//   "Implementations MUST accept padded and un-padded values and should emit un-padded values."
//   "... when more than one value is present for a Binary-Header, the values MAY be sent as a single
//    header with comma-separated values" (each value base64 separately).
// Header values in the HTTP/2 layer are latin1 strings (one char per octet).
import { ASCII_VALUE_RE, KEY_RE, Metadata, isBinaryKey } from './metadata.js';
import type { HeaderList } from '../http2/api.js';


/**
 * Headers that belong to the transport or to gRPC itself and never appear in user Metadata:
 * pseudo-headers (":..."), grpc-* (reserved), content-type, te, and HTTP/1 connection-specific
 * fields. user-agent and :authority-like application headers are user metadata (as in grpc-js).
 */
const RESERVED = new Set([
  'content-type',
  'te',
  'accept-encoding',
  'content-encoding',
  'content-length',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

export const STATUS_DETAILS = 'grpc-status-details-bin';

export function isReservedHeader(name: string): boolean {
  return name.charCodeAt(0) === 0x3a /* ':' */ || name.startsWith('grpc-') || RESERVED.has(name);
}

/** Decode one -bin header value: comma-separated base64 parts, padded or not. */
function addBinary(md: Metadata, key: string, value: string): void {
  if (value.indexOf(',') < 0) {
    md.add(key, Buffer.from(value.trim(), 'base64'));
    return;
  }
  for (const part of value.split(',')) md.add(key, Buffer.from(part.trim(), 'base64'));
}

/**
 * The user Metadata of a header list (request headers or trailers). Reserved headers are left
 * out; a header whose name or value is not valid metadata is dropped rather than failing the call.
 */
export function headersToMetadata(headers: HeaderList): Metadata {
  const md = new Metadata();
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    if (isReservedHeader(name) || !KEY_RE.test(name)) continue;
    const value = headers[i + 1]!;
    if (isBinaryKey(name)) addBinary(md, name, value);
    else if (ASCII_VALUE_RE.test(value)) md.add(name, value);
  }
  return md;
}

/** First value of `name` in a header list, or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

/**
 * Append user metadata to a header list being built: one header per value, -bin values as
 * un-padded base64. Reserved names (grpc-*, pseudo-headers, content-type, ...) are skipped so user
 * metadata can never forge grpc-status or the like. The one exception is grpc-status-details-bin
 * (the serialized google.rpc.Status of rich errors), which a handler may set in its trailers.
 */
export function appendMetadata(out: HeaderList, md: Metadata | undefined): HeaderList {
  if (md === undefined || md.size === 0) return out;
  for (const [key, values] of md.entries()) {
    if (isReservedHeader(key) && key !== STATUS_DETAILS) continue;
    if (isBinaryKey(key)) {
      for (const v of values) out.push(key, (v as Buffer).toString('base64').replace(/=+$/, ''));
    } else {
      for (const v of values) out.push(key, v as string);
    }
  }
  return out;
}
