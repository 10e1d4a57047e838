// A frame-level HTTP/2 client for the gRPC tests that must see exactly which frames the server
// sends and in what order (RST_STREAM codes, a HEADERS frame alone or with the first DATA,
// GOAWAY), and must control how request bytes are cut into DATA frames. node:http2 hides these.
// Header blocks go through the project's HPACK coder (tested on its own against nghttp2).
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { HpackDecoder, HpackEncoder } from '../../src/http2/hpack/index.js';
import * as fr from '../support/frames.js';

// Frame type and flag codes under the names the wire tests use (test/support/frames.ts is the source).
export const { DATA, HEADERS, RST_STREAM, GOAWAY } = fr.T;
export const { END_STREAM } = fr.F;
const { PING, SETTINGS } = fr.T;
const { ACK } = fr.F;

export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** HEADERS: the decoded header list as [name, value] pairs. */
  headers?: [string, string][];
  /** RST_STREAM / GOAWAY error code. */
  code?: number;
}

/** A gRPC Length-Prefixed-Message. */
export function grpcMessage(payload: Buffer, compressed = false): Buffer {
  const p = Buffer.alloc(5);
  p[0] = compressed ? 1 : 0;
  p.writeUInt32BE(payload.length, 1);
  return Buffer.concat([p, payload]);
}

/** The test.proto Msg with only `text` (field 1) set, serialized. */
export const textMsg = (s: string): Buffer => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([0x0a, b.length]), b]);
};

export class RawH2Client {
  readonly frames: RawFrame[] = [];
  private readonly socket: Socket;
  private readonly enc = new HpackEncoder();
  private readonly dec = new HpackDecoder();
  private buf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wakeAll();
    });
    // Preface, empty SETTINGS, and a large connection window so responses never wait on us.
    socket.write(fr.concat(fr.PREFACE, fr.settings(), fr.windowUpdate(0, 0x3fff0000)));
  }

  static connect(port: number): Promise<RawH2Client> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawH2Client(s)));
      s.once('error', reject);
    });
  }

  /** Open a gRPC request stream (POST, application/grpc, te: trailers) plus `extra` headers. */
  request(path: string, extra: [string, string][] = [], endStream = false): number {
    const list: [string, string][] = [[':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', 'localhost'], ['content-type', 'application/grpc'], ['te', 'trailers']];
    return this.requestHeaders([...list, ...extra], endStream);
  }

  /** Open a stream with exactly these headers (pseudo-headers first). */
  requestHeaders(headers: [string, string][], endStream = false): number {
    const id = this.nextId;
    this.nextId += 2;
    const block = this.enc.encode(headers.flat());
    // Frames written in the same tick (this HEADERS and the DATA after it) leave in one write, so
    // the server sees them together (a short deadline cannot fall between them).
    this.socket.cork();
    process.nextTick(() => this.socket.uncork());
    this.socket.write(fr.headers(id, block, { endStream }));
    return id;
  }

  /** One DATA frame per chunk, in one socket write. */
  data(id: number, chunks: Buffer[], endStream = false): void {
    const out = chunks.map((c, i) => fr.data(id, c, { endStream: endStream && i === chunks.length - 1 }));
    if (chunks.length === 0 && endStream) out.push(fr.data(id, undefined, { endStream: true }));
    this.socket.write(Buffer.concat(out));
  }

  rst(id: number, code: number): void {
    this.socket.write(fr.rst(id, code));
  }

  /** Send a PING and wait for its ACK: every frame the server wrote before it has arrived. */
  async ping(): Promise<void> {
    const data = Buffer.from('rawping!');
    this.socket.write(fr.ping(data));
    await this.until((f) => f.type === PING && (f.flags & ACK) !== 0 && f.payload.equals(data), 'PING ACK');
  }

  /** Frames of stream `id`, in order. */
  stream(id: number): RawFrame[] {
    return this.frames.filter((f) => f.streamId === id);
  }

  /** Wait until a frame matching `pred` has arrived (checked on every frame; fails when the socket closes). */
  until(pred: (f: RawFrame) => boolean, what: string): Promise<RawFrame> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const f = this.frames.find(pred);
        if (f !== undefined) {
          resolve(f);
          return true;
        }
        if (this.closed) {
          reject(new Error(`connection closed before ${what}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const w = (): void => {
        if (!check()) this.waiters.push(w);
      };
      this.waiters.push(w);
    });
  }

  /** Wait for the stream to end from the server's side: END_STREAM or RST_STREAM. */
  ended(id: number): Promise<RawFrame> {
    return this.until((f) => f.streamId === id && (f.type === RST_STREAM || ((f.type === DATA || f.type === HEADERS) && (f.flags & END_STREAM) !== 0)), `the end of stream ${id}`);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const f: RawFrame = { type: this.buf[3]!, flags: this.buf[4]!, streamId: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + len) };
      this.buf = this.buf.subarray(9 + len);
      if (f.type === HEADERS) {
        // The server sends no padding or priority; CONTINUATION is not expected for these small blocks.
        const flat = this.dec.decode(f.payload);
        f.headers = [];
        for (let i = 0; i < flat.length; i += 2) f.headers.push([flat[i]!, flat[i + 1]!]);
      } else if (f.type === RST_STREAM) {
        f.code = f.payload.readUInt32BE(0);
      } else if (f.type === GOAWAY) {
        f.code = f.payload.readUInt32BE(4);
      } else if (f.type === PING && (f.flags & ACK) === 0) {
        this.socket.write(fr.ping(f.payload, true));
      } else if (f.type === SETTINGS && (f.flags & ACK) === 0) {
        this.socket.write(fr.settingsAck());
      }
      this.frames.push(f);
    }
    this.wakeAll();
  }

  private wakeAll(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/** First value of `name` in a HEADERS frame. */
export function header(f: RawFrame | undefined, name: string): string | undefined {
  return f?.headers?.find(([k]) => k === name)?.[1];
}

/** Every value of `name` in a HEADERS frame. */
export function headerAll(f: RawFrame | undefined, name: string): string[] {
  return (f?.headers ?? []).filter(([k]) => k === name).map(([, v]) => v);
}
