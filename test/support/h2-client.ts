// A tiny raw HTTP/2 client over node:net for conformance and flood tests: it sends whatever bytes
// a test gives it (valid or not) and parses what the server sends back with the project's
// FrameReader and HpackDecoder (the server's frames are expected to be valid; a frame the reader
// rejects fails the pending expectation with the reader's error).
import net from 'node:net';
import tls from 'node:tls';
import http2 from 'node:http2';
import { FrameReader } from '../../src/http2/frame/reader.js';
import { HpackDecoder, HpackEncoder } from '../../src/http2/hpack/index.js';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  FrameType,
  SettingId,
} from '../../src/http2/frame/constants.js';
import { errorCodeName } from '../../src/http2/errors.js';
import { frame, priorityFields as prioFields, settingsPayload, u32 } from './frames.js';
import type { Frame, GoawayFrame, HeadersFrame, RstStreamFrame } from '../../src/http2/frame/types.js';

/** A frame as received, with the decoded header list for HEADERS frames. */
export type Received = Frame & { headerList?: string[] };

export const DEFAULT_TIMEOUT_MS = 2000;

const typeNames: string[] = [];
for (const [k, v] of Object.entries(FrameType)) if (typeof v === 'number') typeNames[v] = k; // skip the enum's reverse mapping

/** One frame as raw bytes: 9-octet header + payload. `length` overrides the length field. */
export function rawFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer | Uint8Array | number[] = Buffer.alloc(0),
  length?: number,
): Buffer {
  return frame(type, flags, streamId, payload, { length });
}

export { settingsPayload, u32 };

/** PRIORITY fields (5 octets): exclusive bit + dependency, weight-1. */
export function priorityFields(dependency: number, weight = 16, exclusive = false): Buffer {
  return prioFields({ dependency, weight, exclusive });
}

/** An HPACK integer with an N-bit prefix, first octet ORed with `first`. */
export function hpackInt(value: number, prefixBits: number, first = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/**
 * A header block of "literal header field without indexing, new name" representations with raw
 * (non-Huffman) strings, exactly as given: for malformed requests (uppercase names, ...) that an
 * encoder might normalise. Does not touch any dynamic table.
 */
export function literalBlock(headers: string[]): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = Buffer.from(headers[i]!, 'latin1');
    const value = Buffer.from(headers[i + 1]!, 'latin1');
    parts.push(Buffer.from([0x00, ...hpackInt(name.length, 7)]), name, Buffer.from(hpackInt(value.length, 7)), value);
  }
  return Buffer.concat(parts);
}

export const GET_HEADERS = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'localhost'];
export const POST_HEADERS = [':method', 'POST', ':scheme', 'http', ':path', '/echo', ':authority', 'localhost'];

export interface ConnectOptions {
  host?: string;
  /** Connect over TLS with ALPN "h2", trusting this CA (PEM) for the name "localhost". */
  tlsCa?: Buffer;
  /** Send the client preface and our SETTINGS (default true). */
  preface?: boolean;
  /** Our initial SETTINGS, flat id/value pairs. */
  settings?: number[];
  /** Wait for the server's SETTINGS and for its ACK of ours (default true when preface is sent). */
  handshake?: boolean;
  /** Answer every server SETTINGS (non-ACK) with an ACK (default: when the preface is sent). */
  autoAck?: boolean;
  timeoutMs?: number;
}

export interface Response {
  headers: string[];
  status: string | undefined;
  body: Buffer;
  trailers: string[] | null;
}

type Waiter = () => void;

export class H2Client {
  readonly socket: net.Socket;
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder(4096, Infinity);
  /** Frames received and not yet taken by an expectation. */
  readonly frames: Received[] = [];
  /** Every frame received, for failure messages. */
  readonly log: string[] = [];
  /** The server's SETTINGS pairs from its first SETTINGS frame. */
  serverSettings: number[] = [];
  private gotServerSettings = false;
  closed = false;
  /** Set when the server sent something the reader could not parse. */
  readerError: Error | null = null;
  /** Sum of the increments of the server's WINDOW_UPDATE frames on stream 0. */
  connWindowIncrements = 0;
  /** Answer server SETTINGS with an ACK. */
  autoAck = true;
  /** Answer the server's PINGs with an ACK (a peer that looks alive to keepalive). */
  autoPong = false;

  private readonly reader: FrameReader;
  private readonly waiters = new Set<Waiter>();
  private readonly closedPromise: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.reader = new FrameReader({
      maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
      maxContinuationFrames: 10000,
      maxHeaderBlockSize: 1 << 24,
      expectPreface: false,
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      /* ECONNRESET / EPIPE after the server closes: the 'close' event reports it */
    });
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.log.push('<closed>');
        this.wake();
        resolve();
      });
    });
  }

  static async connect(port: number, opts: ConnectOptions = {}): Promise<H2Client> {
    const host = opts.host ?? '127.0.0.1';
    const socket: net.Socket =
      opts.tlsCa !== undefined
        ? tls.connect({ port, host, ca: opts.tlsCa, servername: 'localhost', ALPNProtocols: ['h2'] })
        : net.connect({ port, host });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tlsCa !== undefined ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    const c = new H2Client(socket);
    // never ACK before our own preface went out: the ACK would be read as a broken preface
    c.autoAck = opts.autoAck ?? opts.preface ?? true;
    // our own SETTINGS bind what we accept: the server's encoder table and frame sizes
    const ours = opts.settings ?? [];
    for (let i = 0; i < ours.length; i += 2) {
      if (ours[i] === SettingId.HEADER_TABLE_SIZE) c.decoder.setMaxTableSize(ours[i + 1]!);
      if (ours[i] === SettingId.MAX_FRAME_SIZE) c.reader.maxFrameSize = ours[i + 1]!;
    }
    if (opts.preface ?? true) {
      c.send(Buffer.concat([CLIENT_PREFACE, rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload(opts.settings ?? []))]));
      if (opts.handshake ?? true) {
        const t = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        await c.expectFrame(FrameType.SETTINGS, (f) => !f.ack, t);
        await c.expectFrame(FrameType.SETTINGS, (f) => f.ack, t);
      }
    }
    return c;
  }

  /** The value of one of the server's initial settings, or undefined when it did not send it. */
  serverSetting(id: number): number | undefined {
    for (let i = 0; i < this.serverSettings.length; i += 2) {
      if (this.serverSettings[i] === id) return this.serverSettings[i + 1];
    }
    return undefined;
  }

  send(...chunks: Buffer[]): void {
    if (this.closed || this.socket.destroyed) return;
    for (const b of chunks) this.socket.write(b);
  }

  /** Write and resolve once the socket has flushed it to the kernel (or failed). */
  sendAndFlush(bytes: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  // ---- frame builders bound to this client's HPACK encoder ----

  /** HEADERS (+ flags) with a block from our HpackEncoder. */
  headersFrame(
    streamId: number,
    headers: string[],
    opts: { endStream?: boolean; endHeaders?: boolean; priority?: Buffer; padLength?: number } = {},
  ): Buffer {
    return headersWithBlock(streamId, this.encoder.encode(headers), opts);
  }

  /** A GET request on `streamId` (HEADERS with END_STREAM). */
  get(streamId: number, path = '/'): void {
    const h = GET_HEADERS.slice();
    h[5] = path;
    this.send(this.headersFrame(streamId, h, { endStream: true }));
  }

  /**
   * A POST on `streamId`; with `body` it is sent as DATA frames of at most 16384 octets (the
   * smallest SETTINGS_MAX_FRAME_SIZE), the last with END_STREAM.
   */
  post(streamId: number, body?: Buffer, extra: string[] = []): void {
    this.send(this.headersFrame(streamId, [...POST_HEADERS, ...extra], { endStream: false }));
    if (!body) return;
    let off = 0;
    do {
      const n = Math.min(DEFAULT_MAX_FRAME_SIZE, body.length - off);
      const end = off + n === body.length;
      this.send(rawFrame(FrameType.DATA, end ? Flag.END_STREAM : 0, streamId, body.subarray(off, off + n)));
      off += n;
    } while (off < body.length);
  }

  ping(data = Buffer.from('pingpong'), ack = false): void {
    this.send(rawFrame(FrameType.PING, ack ? Flag.ACK : 0, 0, data));
  }

  // ---- expectations ----

  /**
   * The first received frame of `type` matching `predicate`, removed from the queue. Rejects on
   * timeout, when the connection closes without one, or when the server sent an unparsable frame.
   */
  expectFrame<T extends number>(
    type: T,
    predicate: (f: Extract<Received, { type: T }>) => boolean = () => true,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Extract<Received, { type: T }>> {
    const what = `${typeNames[type] ?? type} frame`;
    return this.waitFor(() => {
      const i = this.frames.findIndex((f) => f.type === type && predicate(f as Extract<Received, { type: T }>));
      if (i < 0) return undefined;
      return this.frames.splice(i, 1)[0] as Extract<Received, { type: T }>;
    }, what, timeoutMs);
  }

  /** A GOAWAY carrying `code` (or one of `code`): RFC 9113 5.4.1, the connection error's code. */
  async expectGoaway(code: number | number[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<GoawayFrame> {
    const codes = Array.isArray(code) ? code : [code];
    const want = codes.map(errorCodeName).join(' or ');
    const g = (await this.expectFrame(FrameType.GOAWAY, () => true, timeoutMs).catch((e: Error) => {
      throw new Error(`expected GOAWAY(${want}): ${e.message}`);
    })) as GoawayFrame;
    if (!codes.includes(g.errorCode)) {
      throw new Error(`expected GOAWAY(${want}), got ${describe(g)}; received: ${this.history()}`);
    }
    return g;
  }

  /**
   * A connection error: GOAWAY with `code`, then the connection closes ("After sending the GOAWAY
   * frame for an error condition, the endpoint MUST close the TCP connection", RFC 9113 5.4.1).
   */
  async expectConnectionError(code: number | number[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<GoawayFrame> {
    const g = await this.expectGoaway(code, timeoutMs);
    await this.expectClosed(timeoutMs);
    return g;
  }

  /** A RST_STREAM on `streamId` carrying `code` (or one of `code`); a GOAWAY first fails it. */
  async expectRst(streamId: number, code: number | number[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RstStreamFrame> {
    const codes = Array.isArray(code) ? code : [code];
    const want = `RST_STREAM(${streamId}, ${codes.map(errorCodeName).join(' or ')})`;
    const r = await this.waitFor(() => {
      const i = this.frames.findIndex(
        (f) => (f.type === FrameType.RST_STREAM && f.streamId === streamId) || f.type === FrameType.GOAWAY,
      );
      if (i < 0) return undefined;
      return this.frames.splice(i, 1)[0];
    }, want, timeoutMs);
    if (r.type !== FrameType.RST_STREAM || !codes.includes(r.errorCode)) {
      throw new Error(`expected ${want}, got ${describe(r)}; received: ${this.history()}`);
    }
    return r;
  }

  /**
   * A stream error that leaves the connection usable: RST_STREAM(streamId, code), then a GET on
   * `nextStreamId` is answered with 200.
   */
  async expectStreamError(streamId: number, code: number | number[], nextStreamId: number): Promise<void> {
    await this.expectRst(streamId, code);
    await this.expectAlive(nextStreamId);
  }

  /** A GET on `streamId` is answered with :status 200. */
  async expectAlive(streamId: number): Promise<Response> {
    this.get(streamId);
    const r = await this.expectResponse(streamId);
    if (r.status !== '200') throw new Error(`GET on stream ${streamId}: status ${r.status}; received: ${this.history()}`);
    return r;
  }

  /**
   * Either a stream error on `streamId` or a connection error, with `code`: for the cases where
   * the RFC allows both (or where the state the server is in decides which one applies).
   */
  async expectStreamOrConnectionError(streamId: number, code: number | number[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Received> {
    const codes = Array.isArray(code) ? code : [code];
    const want = codes.map(errorCodeName).join(' or ');
    const r = await this.waitFor(() => {
      const i = this.frames.findIndex(
        (f) => (f.type === FrameType.RST_STREAM && f.streamId === streamId) || f.type === FrameType.GOAWAY,
      );
      if (i < 0) return undefined;
      return this.frames.splice(i, 1)[0];
    }, `RST_STREAM(${streamId}, ${want}) or GOAWAY(${want})`, timeoutMs);
    const got = r.type === FrameType.RST_STREAM || r.type === FrameType.GOAWAY ? r.errorCode : -1;
    if (!codes.includes(got)) {
      throw new Error(`expected ${want} on stream ${streamId} or the connection, got ${describe(r)}; received: ${this.history()}`);
    }
    return r;
  }

  /** The connection closes (possibly after a GOAWAY, which is left in `frames`). */
  async expectClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.waitFor(() => (this.closed ? true : undefined), 'connection close', timeoutMs, true);
  }

  /** Nothing of `type` (matching `predicate`) arrives before a PING round trip completes. */
  async expectNoFrameBeforePingAck<T extends number>(
    type: T,
    predicate: (f: Extract<Received, { type: T }>) => boolean = () => true,
  ): Promise<void> {
    const data = Buffer.from('barrier!');
    this.ping(data);
    await this.expectFrame(FrameType.PING, (f) => f.ack && f.data.equals(data));
    const bad = this.frames.find((f) => f.type === type && predicate(f as Extract<Received, { type: T }>));
    if (bad) throw new Error(`unexpected ${describe(bad)}; received: ${this.history()}`);
  }

  /** The response :status on `streamId`, or `RST_STREAM(<code>)` when the stream is reset first. */
  async expectStatusOrRst(streamId: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const f = await this.waitFor(() => {
      const i = this.frames.findIndex(
        (x) => (x.type === FrameType.HEADERS || x.type === FrameType.RST_STREAM) && x.streamId === streamId,
      );
      return i < 0 ? undefined : this.frames.splice(i, 1)[0];
    }, `a response or RST_STREAM on stream ${streamId}`, timeoutMs);
    if (f.type === FrameType.RST_STREAM) return `RST_STREAM(${errorCodeName(f.errorCode)})`;
    return headerValue(f.type === FrameType.HEADERS ? (f.headerList ?? []) : [], ':status') ?? '(no :status)';
  }

  /** The whole response on `streamId`: HEADERS, DATA until END_STREAM, optional trailers. */
  async expectResponse(streamId: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Response> {
    const h = (await this.expectFrame(FrameType.HEADERS, (f) => f.streamId === streamId, timeoutMs)) as HeadersFrame & Received;
    const headers = h.headerList ?? [];
    const res: Response = { headers, status: headerValue(headers, ':status'), body: Buffer.alloc(0), trailers: null };
    if (h.endStream) return res;
    const chunks: Buffer[] = [];
    for (;;) {
      const f = await this.waitFor(() => {
        const i = this.frames.findIndex(
          (x) =>
            ((x.type === FrameType.DATA || x.type === FrameType.HEADERS || x.type === FrameType.RST_STREAM) &&
              x.streamId === streamId) ||
            (x.type === FrameType.GOAWAY && (x.lastStreamId < streamId || x.errorCode !== 0)),
        );
        return i < 0 ? undefined : this.frames.splice(i, 1)[0];
      }, `rest of response on stream ${streamId}`, timeoutMs);
      if (f.type === FrameType.DATA) {
        chunks.push(f.data);
        if (f.endStream) break;
      } else if (f.type === FrameType.HEADERS) {
        res.trailers = f.headerList ?? [];
        break;
      } else {
        throw new Error(`response on stream ${streamId} cut by ${describe(f)}; received: ${this.history()}`);
      }
    }
    res.body = Buffer.concat(chunks);
    return res;
  }

  /** Resolves once `cond()` holds (checked after every received frame). */
  waitUntil(cond: () => boolean, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<true> {
    return this.waitFor(() => (cond() ? true : undefined), what, timeoutMs);
  }

  /** What was received so far, in order, for failure messages. */
  history(): string {
    const l = this.log.length > 40 ? ['...', ...this.log.slice(-40)] : this.log;
    return l.join(', ') || '(nothing)';
  }

  close(): void {
    this.socket.destroy();
  }

  closedAsPromise(): Promise<void> {
    return this.closedPromise;
  }

  // ---- internals ----

  private waitFor<R>(take: () => R | undefined, what: string, timeoutMs: number, closeIsOk = false): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const settle = (): Error | R | undefined => {
        const r = take();
        if (r !== undefined) return r;
        if (this.readerError) return new Error(`while waiting for ${what}: server sent an invalid frame: ${this.readerError.message}`);
        if (this.closed && !closeIsOk) return new Error(`connection closed while waiting for ${what}; received: ${this.history()}`);
        return undefined;
      };
      const first = settle();
      if (first !== undefined) {
        if (first instanceof Error) reject(first);
        else resolve(first);
        return;
      }
      const w: Waiter = () => {
        const r = settle();
        if (r === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(w);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.history()}`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(chunk: Buffer): void {
    if (this.readerError) return;
    try {
      this.reader.push(chunk);
      for (let f = this.reader.next(); f; f = this.reader.next()) {
        const r = f as Received;
        if (f.type === FrameType.HEADERS) r.headerList = this.decoder.decode(f.block);
        this.log.push(describe(r));
        if (f.type === FrameType.WINDOW_UPDATE && f.streamId === 0) this.connWindowIncrements += f.increment;
        if (f.type === FrameType.SETTINGS && !f.ack) {
          if (!this.gotServerSettings) {
            this.gotServerSettings = true;
            this.serverSettings = f.settings;
          }
          if (this.autoAck) this.send(rawFrame(FrameType.SETTINGS, Flag.ACK, 0));
        }
        if (f.type === FrameType.PING && !f.ack && this.autoPong) this.send(rawFrame(FrameType.PING, Flag.ACK, 0, f.data));
        this.frames.push(r);
      }
    } catch (e) {
      this.readerError = e instanceof Error ? e : new Error(String(e));
      this.log.push(`<reader error: ${this.readerError.message}>`);
    }
    this.wake();
  }
}

/** A HEADERS frame around an already-encoded block, with optional padding and priority. */
export function headersWithBlock(
  streamId: number,
  block: Buffer,
  opts: { endStream?: boolean; endHeaders?: boolean; priority?: Buffer; padLength?: number } = {},
): Buffer {
  let flags = 0;
  if (opts.endStream) flags |= Flag.END_STREAM;
  if (opts.endHeaders ?? true) flags |= Flag.END_HEADERS;
  const parts: Buffer[] = [];
  if (opts.padLength !== undefined) {
    flags |= Flag.PADDED;
    parts.push(Buffer.from([opts.padLength]));
  }
  if (opts.priority) {
    flags |= Flag.PRIORITY;
    parts.push(opts.priority);
  }
  parts.push(block);
  if (opts.padLength !== undefined) parts.push(Buffer.alloc(opts.padLength));
  return rawFrame(FrameType.HEADERS, flags, streamId, Buffer.concat(parts));
}

export function headerValue(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

export function describe(f: Received): string {
  switch (f.type) {
    case FrameType.GOAWAY:
      return `GOAWAY(last=${f.lastStreamId}, ${errorCodeName(f.errorCode)}${f.debug.length ? ', ' + JSON.stringify(f.debug.toString('latin1')) : ''})`;
    case FrameType.RST_STREAM:
      return `RST_STREAM(${f.streamId}, ${errorCodeName(f.errorCode)})`;
    case FrameType.SETTINGS:
      return f.ack ? 'SETTINGS(ACK)' : `SETTINGS(${f.settings.join(',')})`;
    case FrameType.PING:
      return `PING(${f.ack ? 'ACK, ' : ''}${f.data.toString('hex')})`;
    case FrameType.WINDOW_UPDATE:
      return `WINDOW_UPDATE(${f.streamId}, +${f.increment})`;
    case FrameType.HEADERS:
      return `HEADERS(${f.streamId}${f.endStream ? ', END_STREAM' : ''}, ${JSON.stringify(f.headerList ?? [])})`;
    case FrameType.DATA:
      return `DATA(${f.streamId}, ${f.data.length}${f.endStream ? ', END_STREAM' : ''})`;
    default:
      return `${typeNames[f.type] ?? f.type}(${f.streamId})`;
  }
}

/** Connect, run `fn`, always close the socket. */
export async function withClient(port: number, fn: (c: H2Client) => Promise<void>, opts?: ConnectOptions): Promise<void> {
  const c = await H2Client.connect(port, opts);
  try {
    await fn(c);
  } finally {
    c.close();
  }
}

// ---- an honest peer for flood tests ----

/**
 * An honest node:http2 client on its own connection: `n` GETs of `path`, `parallel` at a time;
 * resolves with the number answered with 200 and the expected body, rejects on any failure.
 */
export async function honestRequests(port: number, n: number, parallel = 4, path = '/', tlsCa?: Buffer): Promise<number> {
  const session =
    tlsCa !== undefined
      ? http2.connect(`https://127.0.0.1:${port}`, { ca: tlsCa, servername: 'localhost' })
      : http2.connect(`http://127.0.0.1:${port}`);
  const failed = new Promise<never>((_, reject) => session.once('error', reject));
  failed.catch(() => {});
  let ok = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = session.request({ ':method': 'GET', ':path': path });
      const chunks: Buffer[] = [];
      let status = 0;
      req.on('response', (h) => {
        status = Number(h[':status']);
      });
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        if (status === 200 && Buffer.concat(chunks).length > 0) {
          ok++;
          resolve();
        } else reject(new Error(`honest GET ${path}: status ${status}`));
      });
      req.on('error', reject);
      req.setTimeout(5000, () => reject(new Error('honest GET timed out')));
      req.end();
    });
  try {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        await Promise.race([one(), failed]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  } finally {
    session.destroy();
  }
  return ok;
}
