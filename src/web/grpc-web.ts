// gRPC-Web (gRPC's PROTOCOL-WEB.md) onto the call engine. The request is gRPC's, with content-type
// application/grpc-web[+proto], application/grpc-web+json (messages in proto3 JSON, json.ts) or
// application/grpc-web-text[+proto] (the body base64); the
// response is gRPC's with the trailers moved into the body: "the trailers are sent as the last
// message, with the MSB of the flags byte set (0x80) ... formatted as HTTP/1 headers", so it works
// over HTTP/1.1 and through browsers' fetch.
import type { HeaderList, ServerStream } from '../http2/api.js';
import { PREFIX_LENGTH } from '../grpc/message-framing.js';
import { GrpcError, Status } from '../grpc/status.js';
import { EnvelopeStream } from './adapter.js';

const TRAILER_FLAG = 0x80;
const BASE64_CHARS = /^[A-Za-z0-9+/=\r\n]*$/;

/** The trailers as a gRPC-Web trailer frame: "name: value\r\n" lines behind a 0x80 prefix. */
export function trailerFrame(trailers: HeaderList): Buffer {
  let text = '';
  for (let i = 0; i + 1 < trailers.length; i += 2) {
    const name = trailers[i]!;
    if (name.charCodeAt(0) !== 0x3a && name !== 'content-type') text += `${name}: ${trailers[i + 1]!}\r\n`;
  }
  const body = Buffer.from(text, 'latin1');
  const out = Buffer.allocUnsafe(PREFIX_LENGTH + body.length);
  out[0] = TRAILER_FLAG;
  out.writeUInt32BE(body.length, 1);
  body.copy(out, PREFIX_LENGTH);
  return out;
}

export class GrpcWebStream extends EnvelopeStream {
  readonly #text: boolean;
  // grpc-web-text: base64 characters of an incomplete quantum, carried to the next chunk.
  #carry = '';

  constructor(outer: ServerStream, headers: HeaderList, extra: HeaderList, text: boolean, contentType: string) {
    super(outer, headers, extra, contentType);
    this.#text = text;
  }

  protected override input(chunk: Buffer): void {
    if (!this.#text) {
      this.ondata?.(chunk);
      return;
    }
    // The text body is base64 of the binary one; messages may be encoded one by one, so padding
    // ("=") can end a quantum in the middle of the body. Decoded a quantum-aligned run at a time.
    this.outer.consume(chunk.length);
    let s = this.#carry + chunk.toString('latin1');
    if (!BASE64_CHARS.test(s)) return this.fail(new GrpcError(Status.INVALID_ARGUMENT, 'malformed grpc-web-text body (not base64)'));
    s = s.replace(/[\r\n]/g, '');
    const parts: Buffer[] = [];
    let pad: number;
    while ((pad = s.indexOf('=')) >= 0) {
      const end = (pad | 3) + 1;
      if (end > s.length) break;
      parts.push(Buffer.from(s.slice(0, end), 'base64'));
      s = s.slice(end);
    }
    const whole = s.indexOf('=') >= 0 ? 0 : s.length & ~3;
    if (whole > 0) parts.push(Buffer.from(s.slice(0, whole), 'base64'));
    this.#carry = s.slice(whole);
    for (const p of parts) if (p.length > 0 && !this.closed) this.ondata?.(p);
  }

  protected override inputEnd(): void {
    if (this.#carry.length > 0) {
      this.fail(new GrpcError(Status.INVALID_ARGUMENT, 'malformed grpc-web-text body (base64 cut short)'));
      return;
    }
    this.onend?.(null);
  }

  override consume(n: number): void {
    if (!this.#text) this.outer.consume(n);
  }

  /** The engine's response headers as they are, but for its own :status and content-type. */
  protected headerName(name: string): string | null {
    return name !== ':status' && name !== 'content-type' ? name : null;
  }

  write(data: Buffer): boolean {
    if (this.ended) return true;
    return this.outer.write(this.#text ? Buffer.from(data.toString('base64'), 'latin1') : data);
  }

  protected lastFrame(trailers: HeaderList): Buffer {
    const frame = trailerFrame(trailers);
    return this.#text ? Buffer.from(frame.toString('base64'), 'latin1') : frame;
  }
}
