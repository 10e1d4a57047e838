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

/**
 * Incremental decoder; a subclass receives the messages it finds, in order, through onMessage
 * (the gRPC call is one: no decoder object of its own per call). A message that lies within one
 * chunk is handed out as that chunk and its bounds (no copy, no view); a message split across chunks is copied
 * once into a buffer of exactly its size (allocated when the prefix is complete, after the length
 * check). The receive limit is checked from the 5-octet prefix before any payload is buffered:
 * too long throws GrpcError RESOURCE_EXHAUSTED. A compressed flag other than 0 or 1 throws INTERNAL.
 */
export abstract class MessageDecoder {
  // A prefix split across chunks is gathered here (made the first time that happens).
  #prefix: Buffer | null = null;
  // The payload of a message split across chunks.
  #body: Buffer | null = null;
  // Octets of #body received, or of the prefix while #body is null.
  #filled = 0;
  #compressed = false;

  maxLength: number;

  constructor(maxLength: number) {
    this.maxLength = maxLength;
  }

  /** A message: the payload is buf[start, end) (its prefix is the 5 octets before, when in buf). */
  abstract onMessage(compressed: boolean, buf: Buffer, start: number, end: number): void;

  /** True while part of a message has been received (an end of stream now means a truncated message). */
  get partial(): boolean {
    return this.#body !== null || this.#filled > 0;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      const body = this.#body;
      if (body === null) {
        // Fast path: a whole prefix (and maybe a whole message) in this chunk.
        if (this.#filled === 0 && len - pos >= PREFIX_LENGTH) {
          const size = this.startMessage(chunk[pos]!, chunk.readUInt32BE(pos + 1));
          pos += PREFIX_LENGTH;
          if (len - pos >= size) {
            this.onMessage(this.#compressed, chunk, pos, pos + size);
            pos += size;
          } else {
            this.#body = allocUnsafe(size);
          }
          continue;
        }
        const take = Math.min(PREFIX_LENGTH - this.#filled, len - pos);
        const prefix = (this.#prefix ??= allocUnsafe(PREFIX_LENGTH));
        chunk.copy(prefix, this.#filled, pos, pos + take);
        this.#filled += take;
        pos += take;
        if (this.#filled < PREFIX_LENGTH) return;
        const size = this.startMessage(prefix[0]!, prefix.readUInt32BE(1));
        this.#filled = 0;
        // An empty payload: the (empty) end of the prefix buffer.
        if (size === 0) this.onMessage(this.#compressed, prefix, PREFIX_LENGTH, PREFIX_LENGTH);
        else this.#body = allocUnsafe(size);
        continue;
      }
      const take = Math.min(body.length - this.#filled, len - pos);
      chunk.copy(body, this.#filled, pos, pos + take);
      this.#filled += take;
      pos += take;
      if (this.#filled === body.length) {
        this.#body = null;
        this.#filled = 0;
        this.onMessage(this.#compressed, body, 0, body.length);
      }
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
}

/** `payload` copied behind PREFIX_LENGTH free octets (for a prefix written later). */
export function withRoom(payload: Uint8Array): Buffer {
  const buf = allocUnsafe(PREFIX_LENGTH + payload.length);
  buf.set(payload, PREFIX_LENGTH);
  return buf;
}
