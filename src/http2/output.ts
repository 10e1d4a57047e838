// The connection's outbound queue: frames written during one tick go to the socket in one batch
// (one write, or one corked writev). Large buffers (DATA payloads) are queued by reference and
// never copied; small ones (frame headers, control frames, short payloads) are copied at once into
// a staging buffer that all connections share (one at a time), and each run of them leaves it as
// one new buffer when a large buffer or the write comes (the staging buffer itself never reaches
// the socket, so it is reused at once). Frame headers (and small HPACK blocks, from the encoder's
// buffer) are written straight into the staging buffer: no Buffer object per frame
// (pushFrameHeader, pushHeaders).
import type { Duplex } from 'node:stream';
import type { HeaderList } from './api.js';
import type { HpackEncoder } from './hpack/encoder.js';
import { Flag, FrameType } from './frame/constants.js';
import { encodeHeaders, writeFrameHeader } from './frame/write.js';

/**
 * The staging buffer, one for all connections: a run of small frames is staged by one Output at a
 * time (its `owner`); another Output that wants it first cuts the owner's run into that owner's
 * own queue, so order is kept. An idle connection holds no staging buffer.
 */
let stageBuf: Buffer | null = null;
let owner: Output | null = null;

/** Buffers smaller than this are copied into the staging buffer; larger ones are queued as is. */
const SMALL = 1024;
/** The staging buffer: a run of small frames leaves it as buffers of at most this size. */
const STAGE_SIZE = 4096;
const FRAME_HEADER = 9;

export class Output {
  private readonly chunks: Buffer[] = [];
  /** Octets queued here and not yet handed to the socket (staged ones included). */
  bytes = 0;
  /** Octets of this Output's run in the shared staging buffer (0 unless it is the owner). */
  private staged = 0;

  constructor(private readonly socket: Duplex) {}

  push(buf: Buffer): void {
    const n = buf.length;
    this.bytes += n;
    if (n >= SMALL) {
      this.cut();
      this.chunks.push(buf);
      return;
    }
    const stage = this.room(n);
    buf.copy(stage, this.staged);
    this.staged += n;
  }

  /** Octets `start` to `end` of `buf`: a slice by reference when large, copied when small. */
  pushSlice(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n >= SMALL) {
      this.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
      return;
    }
    this.bytes += n;
    const stage = this.room(n);
    let o = this.staged;
    // Buffer#copy of part of a buffer makes a Uint8Array view of that part: copy few octets in JS.
    if (n > 256) buf.copy(stage, o, start, end);
    else for (let i = start; i < end; i++) stage[o++] = buf[i]!;
    this.staged += n;
  }

  /** A 9-octet frame header, written into the staging buffer. */
  pushFrameHeader(length: number, type: number, flags: number, streamId: number): void {
    const stage = this.room(FRAME_HEADER);
    writeFrameHeader(stage, this.staged, length, type, flags, streamId);
    this.staged += FRAME_HEADER;
    this.bytes += FRAME_HEADER;
  }

  /**
   * `headers` encoded by `enc` as a HEADERS frame (+ CONTINUATIONs when the block is larger than
   * `maxFrameSize`). A small block goes from the encoder's buffer straight into the staging buffer.
   */
  pushHeaders(streamId: number, enc: HpackEncoder, headers: HeaderList, endStream: boolean, maxFrameSize: number): void {
    const n = enc.encodeRaw(headers);
    const block = enc.scratch;
    if (n > maxFrameSize || n >= SMALL) {
      this.push(encodeHeaders(streamId, block.subarray(0, n), endStream, maxFrameSize));
      return;
    }
    const flags = endStream ? Flag.END_HEADERS | Flag.END_STREAM : Flag.END_HEADERS;
    this.pushFrameHeader(n, FrameType.HEADERS, flags, streamId);
    this.pushSlice(block, 0, n);
  }

  /** Chunks waiting (a staged run counts as one). */
  get length(): number {
    return this.staged > 0 ? this.chunks.length + 1 : this.chunks.length;
  }

  /** Drop everything queued (the socket is gone). */
  clear(): void {
    this.chunks.length = 0;
    this.bytes = 0;
    this.staged = 0;
    if (owner === this) owner = null;
  }

  /** Hand every queued buffer to the socket. Returns socket.write's verdict (false: wait for 'drain'). */
  writeAll(): boolean {
    this.cut();
    const chunks = this.chunks;
    const n = chunks.length;
    if (n === 0) return true;
    const socket = this.socket;
    let ok = true;
    if (n === 1) {
      ok = socket.write(chunks[0]!);
    } else {
      socket.cork();
      for (let i = 0; i < n; i++) ok = socket.write(chunks[i]!) && ok;
      socket.uncork();
    }
    while (chunks.length > 0) chunks.pop(); // keeps its storage, unlike length = 0
    this.bytes = 0;
    return ok;
  }

  /** The staging buffer, ours, with room for `n` (< STAGE_SIZE) more octets. */
  private room(n: number): Buffer {
    if (owner !== this) {
      if (owner !== null) owner.cut();
      owner = this;
    } else if (this.staged + n > STAGE_SIZE) {
      this.cut();
    }
    return (stageBuf ??= Buffer.allocUnsafeSlow(STAGE_SIZE));
  }

  /** Move the staged octets out as one buffer of their own (from Node's pool when small). */
  private cut(): void {
    const n = this.staged;
    if (n === 0) return;
    const b = Buffer.allocUnsafe(n);
    stageBuf!.copy(b, 0, 0, n);
    this.chunks.push(b);
    this.staged = 0;
  }
}
