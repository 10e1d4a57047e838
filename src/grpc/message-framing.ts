// Length-Prefixed-Message framing (gRPC over HTTP/2 spec, "Requests"):
//   "Length-Prefixed-Message -> Compressed-Flag Message-Length Message
//    Compressed-Flag -> 0 / 1 ; encoded as 1 byte unsigned integer
//    Message-Length -> {length of Message} ; encoded as 4 byte unsigned integer (big endian)"
//   "The repeated sequence of Length-Prefixed-Message items is delivered in DATA frames."
// A message may span any number of DATA payloads, and one payload may hold several messages.
import { GrpcError, Status } from './status.js';

// Buffer.allocUnsafe does not use `this`: called through one short name in bundles.
const allocUnsafe = Buffer.allocUnsafe;

export const PREFIX_LENGTH = 5;

/** Receives the messages a MessageDecoder finds, in order. */
export interface MessageSink {
  /** `wireLength` is the prefix plus payload octets, for flow-control accounting. */
  onMessage(compressed: boolean, payload: Buffer, wireLength: number): void;
}

/**
 * Incremental decoder. A message that lies within one chunk is handed out as a slice of that
 * chunk (no copy); a message split across chunks is copied once into a buffer of exactly its size
 * (allocated when the prefix is complete, after the length check). The receive limit is checked
 * from the 5-octet prefix before any payload is buffered: too long throws GrpcError
 * RESOURCE_EXHAUSTED. A compressed flag other than 0 or 1 throws INTERNAL.
 */
export class MessageDecoder {
  // A prefix split across chunks is gathered here (made the first time that happens).
  #prefix: Buffer | null = null;
  private prefixFilled = 0;
  #body: Buffer | null = null;
  private bodyFilled = 0;
  #compressed = false;

  constructor(private readonly sink: MessageSink, public maxLength: number) {}

  /** True while part of a message has been received (an end of stream now means a truncated message). */
  get partial(): boolean {
    return this.prefixFilled > 0;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.#body === null) {
        // Fast path: a whole prefix (and maybe a whole message) in this chunk.
        if (this.prefixFilled === 0 && len - pos >= PREFIX_LENGTH) {
          const size = this.startMessage(chunk[pos]!, chunk.readUInt32BE(pos + 1));
          pos += PREFIX_LENGTH;
          if (len - pos >= size) {
            this.prefixFilled = 0;
            this.sink.onMessage(this.#compressed, chunk.subarray(pos, pos + size), size + PREFIX_LENGTH);
            pos += size;
            continue;
          }
          this.#body = allocUnsafe(size);
          this.bodyFilled = 0;
          this.prefixFilled = PREFIX_LENGTH;
          continue;
        }
        const take = Math.min(PREFIX_LENGTH - this.prefixFilled, len - pos);
        const prefix = (this.#prefix ??= allocUnsafe(PREFIX_LENGTH));
        chunk.copy(prefix, this.prefixFilled, pos, pos + take);
        this.prefixFilled += take;
        pos += take;
        if (this.prefixFilled < PREFIX_LENGTH) return;
        const size = this.startMessage(prefix[0]!, prefix.readUInt32BE(1));
        if (size === 0) {
          this.#finish(Buffer.alloc(0));
          continue;
        }
        this.#body = allocUnsafe(size);
        this.bodyFilled = 0;
        continue;
      }
      const body = this.#body;
      const take = Math.min(body.length - this.bodyFilled, len - pos);
      chunk.copy(body, this.bodyFilled, pos, pos + take);
      this.bodyFilled += take;
      pos += take;
      if (this.bodyFilled === body.length) this.#finish(body);
    }
  }

  private startMessage(flag: number, size: number): number {
    if (flag > 1) throw new GrpcError(Status.INTERNAL, `invalid compressed flag ${flag} in message prefix`);
    if (size > this.maxLength) {
      throw new GrpcError(
        Status.RESOURCE_EXHAUSTED,
        `received message larger than max (${size} vs. ${this.maxLength})`,
      );
    }
    this.#compressed = flag === 1;
    return size;
  }

  #finish(body: Buffer): void {
    this.#body = null;
    this.bodyFilled = 0;
    this.prefixFilled = 0;
    this.sink.onMessage(this.#compressed, body, body.length + PREFIX_LENGTH);
  }
}

/** Payloads up to this size are copied behind their prefix into one buffer (one DATA frame). */
export const COPY_LIMIT = 16 * 1024;

/** Where framed messages go (a ServerStream's write). Returns false when the writer wants a drain. */
export interface FrameWriter {
  write(data: Buffer): boolean;
}

/**
 * Frame one message straight into `out`, allocating no array: small payloads copied behind the
 * prefix, large ones written as prefix + the payload itself. Returns the writer's verdict.
 */
export function writeMessage(out: FrameWriter, payload: Uint8Array, compressed: boolean): boolean {
  const n = payload.length;
  if (n <= COPY_LIMIT) {
    const buf = allocUnsafe(PREFIX_LENGTH + n);
    buf[0] = compressed ? 1 : 0;
    buf.writeUInt32BE(n, 1);
    buf.set(payload, PREFIX_LENGTH);
    return out.write(buf);
  }
  const prefix = allocUnsafe(PREFIX_LENGTH);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(n, 1);
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, n);
  const ok = out.write(prefix);
  return out.write(body) && ok;
}

/**
 * Frame one message: the 5-octet prefix and the payload. Small payloads are copied into one buffer
 * (one DATA frame); large ones come back as [prefix, payload] so the payload is not copied.
 */
export function frameMessage(payload: Uint8Array, compressed: boolean): Buffer[] {
  const n = payload.length;
  if (n <= COPY_LIMIT) {
    const out = allocUnsafe(PREFIX_LENGTH + n);
    out[0] = compressed ? 1 : 0;
    out.writeUInt32BE(n, 1);
    out.set(payload, PREFIX_LENGTH);
    return [out];
  }
  const prefix = allocUnsafe(PREFIX_LENGTH);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(n, 1);
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, n);
  return [prefix, body];
}
