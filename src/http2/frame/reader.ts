// FrameReader: turns the socket's byte stream, split into chunks at arbitrary points, into typed
// frames (RFC 9113 section 4). No sockets here: the connection pushes chunks and pulls frames.
//
// Hot path: the chunks are kept as they came, with an offset into the current one. A frame whose
// payload lies inside one chunk is parsed where it lies (no copy, and no slice but of the octets a
// frame carries: DATA, a field block, PING data); only a frame that spans chunks is copied, once,
// into a Buffer of its own. No closure is made per frame.
//
// Errors: ConnectionError / StreamError from src/http2/errors.ts, always thrown after the
// offending frame is consumed, so on a StreamError the caller sends RST_STREAM and calls next()
// again. After a ConnectionError the reader is finished: push() discards, next() returns null.
import { ConnectionError, ErrorCode, Http2Error } from '../errors.js';
import { CLIENT_PREFACE, FRAME_HEADER_LENGTH, Flag, FrameType } from './constants.js';
import { PARSERS } from './parse.js';
import type { Frame, HeadersFrame, PushPromiseFrame } from './types.js';

export interface FrameReaderOptions {
  /** Our SETTINGS_MAX_FRAME_SIZE: larger frames are a connection FRAME_SIZE_ERROR. */
  maxFrameSize: number;
  /** CONTINUATION frames allowed after one HEADERS / PUSH_PROMISE; more is ENHANCE_YOUR_CALM. */
  maxContinuationFrames: number;
  /** Largest joined field block (octets); more is ENHANCE_YOUR_CALM. */
  maxHeaderBlockSize: number;
  /** Check the 24-octet client connection preface before the first frame. */
  expectPreface: boolean;
}

const H = FRAME_HEADER_LENGTH;
// Buffer.allocUnsafe does not use `this`: called through one short name in bundles.
const allocUnsafe = Buffer.allocUnsafe;
const EMPTY = Buffer.alloc(0);
const PREFACE_LENGTH = CLIENT_PREFACE.length;
/**
 * Scratch for a frame header that spans chunks, shared by every reader: #read takes the header's
 * fields out of it at once. One per reader was a 9-octet slice of Node's 8 KB Buffer pool, which
 * kept that whole pool slab in malloc's heap for as long as the connection lived (firmware-notes
 * section 9).
 */
const HDR = Buffer.allocUnsafeSlow(H);
const HTTP1_REQUEST = /^[A-Z]{3,10} \S* ?HTTP\/1\.\d|^(?:GET|HEAD|POST|PUT|DELETE|CONNECT|OPTIONS|TRACE|PATCH) /;

export class FrameReader {
  /** Our SETTINGS_MAX_FRAME_SIZE; raise it once the peer has acknowledged a larger value. */
  maxFrameSize: number;
  readonly #maxContinuationFrames: number;
  readonly #maxHeaderBlockSize: number;
  /**
   * Set to [] by a caller that is done with a frame before it calls next() again and keeps none:
   * the last DATA and HEADERS frames are kept here and filled anew instead of made (a HEADERS
   * block is then `start` to `end` of the chunk it lies in). The caller should drop the frame's
   * payload or block once used, lest an idle connection keep the socket's chunk.
   */
  reuse: Frame[] | null = null;

  /**
   * Unread chunks: chunks[head] (read from `off`) to chunks[tail - 1]. Slots past them hold EMPTY
   * and are written again: emptying the array would drop its storage, to be made anew per read.
   */
  private chunks: Buffer[] = [];
  #head = 0;
  #tail = 0;
  #off = 0;
  /** Unread octets in all chunks. */
  private avail = 0;
  /** Preface octets still expected. */
  private prefaceLeft: number;
  /** Where the octets take() returned start in its buffer. */
  #takenAt = 0;
  /** Octets of an ignored (unknown type) frame still to discard. */
  #skip = 0;
  #closed = false;
  #dropped = 0;
  // Field block being joined: the HEADERS / PUSH_PROMISE frame and its fragments so far.
  private contStream = 0;
  private contFrame: HeadersFrame | PushPromiseFrame | null = null;
  private contBuf: Buffer = EMPTY;
  private contLen = 0;
  private contCount = 0;

  constructor(opts: FrameReaderOptions) {
    this.maxFrameSize = opts.maxFrameSize;
    this.#maxContinuationFrames = opts.maxContinuationFrames;
    this.#maxHeaderBlockSize = opts.maxHeaderBlockSize;
    this.prefaceLeft = opts.expectPreface ? PREFACE_LENGTH : 0;
  }

  /** Octets received and not yet consumed. */
  get buffered(): number {
    return this.avail;
  }

  /** Octets received and never consumed when the reader was closed (what close() dropped). */
  get dropped(): number {
    return this.#dropped;
  }

  /** True once a ConnectionError was thrown. */
  get finished(): boolean {
    return this.#closed;
  }

  /** Hand the reader the next chunk from the socket; it keeps a reference (no copy). */
  push(chunk: Buffer): void {
    if (this.#closed || chunk.length === 0) return;
    if (this.#head > 32 && this.#head * 2 > this.#tail) {
      this.chunks.splice(0, this.#head);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    this.chunks[this.#tail++] = chunk;
    this.avail += chunk.length;
  }

  /**
   * The next complete frame, or null when more bytes are needed. Unknown frame types are skipped
   * and CONTINUATION frames joined onto their HEADERS / PUSH_PROMISE.
   */
  next(): Frame | null {
    if (this.#closed) return null;
    try {
      return this.#read();
    } catch (e) {
      if (!(e instanceof Http2Error) || e.kind === 'connection') this.#close();
      throw e;
    }
  }

  /** Stop: drop what is buffered; push() discards from now on, next() returns null. */
  close(): void {
    this.#close();
  }

  #close(): void {
    if (!this.#closed) this.#dropped = this.avail;
    this.#closed = true;
    this.chunks.length = 0;
    this.#head = this.#tail = this.#off = this.avail = 0;
    this.contFrame = null;
    this.contBuf = EMPTY;
  }

  #read(): Frame | null {
    for (;;) {
      if (this.prefaceLeft !== 0 && !this.readPreface()) return null;
      if (this.#skip !== 0) {
        const n = this.#skip < this.avail ? this.#skip : this.avail;
        this.advance(n);
        this.#skip -= n;
        if (this.#skip !== 0) return null;
      }
      if (this.avail < H) return null;

      let b = this.chunks[this.#head]!;
      let o = this.#off;
      if (b.length - o < H) {
        this.#peek(HDR, H);
        b = HDR;
        o = 0;
      }
      const length = (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
      const type = b[o + 3]!;
      const flags = b[o + 4]!;
      // "The semantics of this bit are undefined, and the bit MUST remain unset (0x0) when sending
      // and MUST be ignored when receiving." (4.1)
      const streamId = ((b[o + 5]! & 0x7f) << 24) | (b[o + 6]! << 16) | (b[o + 7]! << 8) | b[o + 8]!;

      // "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds the size
      // defined in SETTINGS_MAX_FRAME_SIZE" (4.2); checked on the header, before buffering.
      if (length > this.maxFrameSize) {
        throw new ConnectionError(
          ErrorCode.FRAME_SIZE_ERROR,
          `frame of ${length} octets (type 0x${type.toString(16)}) exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`,
        );
      }
      if (this.contStream !== 0) {
        // "A HEADERS frame without the END_HEADERS flag set MUST be followed by a CONTINUATION frame
        // for the same stream. A receiver MUST treat the receipt of any other type of frame or a
        // frame on a different stream as a connection error (Section 5.4.1) of type
        // PROTOCOL_ERROR." (6.2; the same for PUSH_PROMISE, 6.6)
        if (type !== FrameType.CONTINUATION || streamId !== this.contStream) {
          throw new ConnectionError(
            ErrorCode.PROTOCOL_ERROR,
            `expected CONTINUATION on stream ${this.contStream}, got frame type 0x${type.toString(16)} on stream ${streamId}`,
          );
        }
        // CONTINUATION flood (CVE-2024-27316): refuse before buffering past the limits.
        if (this.contCount >= this.#maxContinuationFrames) {
          throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `more than ${this.#maxContinuationFrames} CONTINUATION frames`);
        }
        if (this.contLen + length > this.#maxHeaderBlockSize) {
          throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `field block larger than ${this.#maxHeaderBlockSize} octets`);
        }
      } else if (type === FrameType.CONTINUATION) {
        // "A CONTINUATION frame MUST be preceded by a HEADERS, PUSH_PROMISE or CONTINUATION frame
        // without the END_HEADERS flag set. A recipient that observes violation of this rule MUST
        // respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.10)
        // This covers a CONTINUATION on stream 0 too: "If a CONTINUATION frame is received with a
        // Stream Identifier field of 0x00, the recipient MUST respond with a connection error
        // (Section 5.4.1) of type PROTOCOL_ERROR." (6.10)
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${streamId} without a preceding HEADERS`);
      } else if (type >= PARSERS.length) {
        // "Implementations MUST ignore and discard frames of unknown types." (5.5): discarded as
        // the octets arrive, never buffered.
        this.advance(H);
        this.#skip = length;
        continue;
      }

      if (this.avail < H + length) return null;
      this.advance(H);
      const payload = this.take(length);
      const po = this.#takenAt;

      if (type === FrameType.CONTINUATION) {
        const f = this.appendFragment(payload, po, length, flags);
        if (f !== null) return f;
        continue;
      }
      const cont = (type === FrameType.HEADERS || type === FrameType.PUSH_PROMISE) && (flags & Flag.END_HEADERS) === 0;
      const frames = this.reuse;
      // A HEADERS frame that CONTINUATIONs follow is a new one, its block a slice (startBlock).
      const f = PARSERS[type]!(flags, streamId, payload, po, length, (cont ? undefined : frames?.[type]) as never);
      if (cont) {
        this.startBlock(f as HeadersFrame | PushPromiseFrame);
        continue;
      }
      if (frames !== null && type <= FrameType.HEADERS) frames[type] = f;
      return f;
    }
  }

  /** Check the client preface octet by octet as it arrives (once per connection). */
  private readPreface(): boolean {
    while (this.prefaceLeft !== 0 && this.avail !== 0) {
      const b = this.chunks[this.#head]!;
      const i = PREFACE_LENGTH - this.prefaceLeft;
      if (b[this.#off] !== CLIENT_PREFACE[i]) throw this.prefaceError(i);
      this.advance(1);
      this.prefaceLeft--;
    }
    return this.prefaceLeft === 0;
  }

  private prefaceError(matched: number): ConnectionError {
    const n = Math.min(this.avail, 64);
    const got = allocUnsafe(matched + n);
    CLIENT_PREFACE.copy(got, 0, 0, matched);
    this.#peek(got.subarray(matched), n);
    const text = got.toString('latin1');
    // "Clients and servers MUST treat an invalid connection preface as a connection error of type
    // PROTOCOL_ERROR." (3.4)
    if (HTTP1_REQUEST.test(text)) {
      const line = text.split('\r\n', 1)[0]!.replace(/[^\x20-\x7e]/g, '?');
      return new ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `received an HTTP/1.1 request ("${line}") instead of the HTTP/2 client connection preface`,
      );
    }
    return new ConnectionError(
      ErrorCode.PROTOCOL_ERROR,
      `invalid client connection preface (octet ${matched} is 0x${got[matched]!.toString(16).padStart(2, '0')})`,
    );
  }

  private startBlock(f: HeadersFrame | PushPromiseFrame): void {
    const n = f.block.length;
    const cap = Math.min(this.#maxHeaderBlockSize, Math.max(n * 2, 1024));
    const buf = allocUnsafe(Math.max(cap, n));
    f.block.copy(buf, 0);
    this.contBuf = buf;
    this.contLen = n;
    this.contCount = 0;
    this.contFrame = f;
    this.contStream = f.streamId;
  }

  /** Add a CONTINUATION fragment (n octets at o); the joined frame once END_HEADERS is seen, else null. */
  private appendFragment(p: Buffer, o: number, n: number, flags: number): HeadersFrame | PushPromiseFrame | null {
    const need = this.contLen + n;
    if (need > this.contBuf.length) {
      const grown = allocUnsafe(Math.min(this.#maxHeaderBlockSize, Math.max(need, this.contBuf.length * 2)));
      this.contBuf.copy(grown, 0, 0, this.contLen);
      this.contBuf = grown;
    }
    p.copy(this.contBuf, this.contLen, o, o + n);
    this.contLen = need;
    this.contCount++;
    if ((flags & Flag.END_HEADERS) === 0) return null;
    const f = this.contFrame!;
    f.block = this.contBuf.subarray(0, this.contLen);
    this.contFrame = null;
    this.contBuf = EMPTY;
    this.contStream = 0;
    this.contLen = 0;
    return f;
  }

  /** Consume `n` octets (n <= avail). */
  private advance(n: number): void {
    this.avail -= n;
    while (n !== 0) {
      const b = this.chunks[this.#head]!;
      const left = b.length - this.#off;
      if (n < left) {
        this.#off += n;
        return;
      }
      n -= left;
      this.dropChunk();
    }
  }

  private dropChunk(): void {
    this.chunks[this.#head] = EMPTY;
    this.#head++;
    this.#off = 0;
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
  }

  /** Copy the next `n` octets into `dst` without consuming them (n <= avail). */
  #peek(dst: Buffer, n: number): void {
    let i = this.#head;
    let o = this.#off;
    let d = 0;
    while (d < n) {
      const b = this.chunks[i]!;
      const c = Math.min(n - d, b.length - o);
      b.copy(dst, d, o, o + c);
      d += c;
      i++;
      o = 0;
    }
  }

  /**
   * Consume `n` octets (n <= avail): the current chunk when they lie inside it, from #takenAt, else
   * a copy of them (from 0).
   */
  private take(n: number): Buffer {
    this.#takenAt = 0;
    if (n === 0) return EMPTY;
    const b = this.chunks[this.#head]!;
    const o = this.#off;
    if (b.length - o >= n) {
      this.avail -= n;
      if (b.length - o === n) this.dropChunk();
      else this.#off = o + n;
      this.#takenAt = o;
      return b;
    }
    const out = allocUnsafe(n);
    this.#peek(out, n);
    this.advance(n);
    return out;
  }
}
