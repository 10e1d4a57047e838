// HPACK (RFC 7541): header compression for HTTP/2. Pure bytes in, values out; no sockets.
export { HpackDecoder, HeaderListTooLargeError } from './decoder.js';
export { HpackEncoder } from './encoder.js';
