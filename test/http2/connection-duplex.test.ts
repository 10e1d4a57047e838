// Http2ServerConnection over a plain in-memory Duplex (no sockets): frames handled in one read
// are answered in one write, and echoed DATA payloads go out as slices of the input (no copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { Http2ServerConnection } from '../../src/http2/connection.js';
import { FrameReader } from '../../src/http2/frame/reader.js';
import { HpackDecoder, HpackEncoder } from '../../src/http2/hpack/index.js';
import { CLIENT_PREFACE, Flag, FrameType, SettingId } from '../../src/http2/frame/constants.js';
import type { Frame } from '../../src/http2/frame/types.js';
import type { ServerStream } from '../../src/http2/api.js';
import { echoHandler } from '../../examples/h2-echo/server.js';
import { GET_HEADERS, POST_HEADERS, headersWithBlock, rawFrame, settingsPayload, u32 } from '../support/h2-client.js';

class Pipe extends Duplex {
  writes = 0;
  readonly chunks: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.writes++;
    this.chunks.push(chunk);
    cb();
  }
  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    this.writes++;
    for (const c of chunks) this.chunks.push(c.chunk);
    cb();
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A server connection over a fresh Pipe, as a plain-TCP peer would get it. */
function serve(onStream: (s: ServerStream) => void): { pipe: Pipe; conn: Http2ServerConnection } {
  const pipe = new Pipe();
  const conn = new Http2ServerConnection(pipe, { remoteAddress: undefined, remotePort: undefined, secure: false }, {}, onStream);
  return { pipe, conn };
}

function parse(reader: FrameReader, pipe: Pipe): Frame[] {
  for (const c of pipe.chunks.splice(0)) reader.push(c);
  const out: Frame[] = [];
  for (let f = reader.next(); f; f = reader.next()) out.push(f);
  return out;
}

test('one read with many requests is answered with one write; echoed DATA is not copied', async () => {
  const { pipe, conn } = serve(echoHandler);
  const enc = new HpackEncoder();
  const dec = new HpackDecoder(4096, Infinity);
  const reader = new FrameReader({ maxFrameSize: 16384, maxContinuationFrames: 100, maxHeaderBlockSize: 1 << 20, expectPreface: false });

  pipe.push(Buffer.concat([
    CLIENT_PREFACE,
    rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.INITIAL_WINDOW_SIZE, 1 << 20])),
    rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(1 << 20)),
  ]));
  await tick();
  let frames = parse(reader, pipe);
  assert.equal(frames[0]!.type, FrameType.SETTINGS); // the server preface comes first
  assert.ok(frames.some((f) => f.type === FrameType.SETTINGS && f.ack));

  // Ten GETs in one chunk: 10 HEADERS + 10 DATA (+ our SETTINGS ACK) in a single write.
  const gets: Buffer[] = [rawFrame(FrameType.SETTINGS, Flag.ACK, 0)];
  for (let i = 0; i < 10; i++) gets.push(headersWithBlock(1 + 2 * i, enc.encode(GET_HEADERS), { endStream: true }));
  const before = pipe.writes;
  pipe.push(Buffer.concat(gets));
  await tick();
  assert.equal(pipe.writes - before, 1, 'one write for the whole batch');
  frames = parse(reader, pipe);
  const headers = frames.filter((f) => f.type === FrameType.HEADERS);
  const data = frames.filter((f) => f.type === FrameType.DATA);
  assert.equal(headers.length, 10);
  assert.equal(data.length, 10);
  for (const h of headers) {
    if (h.type !== FrameType.HEADERS) continue;
    const list = dec.decode(h.block);
    assert.deepEqual(list.slice(0, 2), [':status', '200']);
  }

  // A POST whose 40000-octet DATA frame arrives in one chunk: the echo goes out as slices of it.
  const body = Buffer.alloc(40000, 0x5a);
  const post = Buffer.concat([
    headersWithBlock(21, enc.encode(POST_HEADERS), { endStream: false }),
    rawFrame(FrameType.DATA, Flag.END_STREAM, 21, body.subarray(0, 16000)),
  ]);
  const input = Buffer.from(post); // one ArrayBuffer for the whole chunk
  pipe.push(input);
  await tick();
  const fromInput = pipe.chunks.filter((c) => c.buffer === input.buffer);
  assert.ok(fromInput.length >= 1, 'an echoed payload is a view of the input chunk');
  assert.equal(fromInput.reduce((n, c) => n + c.length, 0), 16000);
  frames = parse(reader, pipe);
  const echoed = frames.filter((f) => f.type === FrameType.DATA && f.streamId === 21);
  assert.equal(echoed.reduce((n, f) => n + (f.type === FrameType.DATA ? f.data.length : 0), 0), 16000);
  assert.ok(echoed.some((f) => f.type === FrameType.DATA && f.endStream));

  assert.equal(conn.stats.streamsOpened, 11);
  assert.equal(conn.openStreams, 0);
  conn.destroy();
  pipe.destroy();
});

test('a consumer that sets its callbacks late gets every event in order, each once its callback is set', async () => {
  const streams: ServerStream[] = [];
  const { pipe, conn } = serve((s) => {
    streams.push(s);
  });
  const enc = new HpackEncoder();
  pipe.push(Buffer.concat([CLIENT_PREFACE, rawFrame(FrameType.SETTINGS, 0, 0)]));
  // Stream 1: two DATA frames, the second with END_STREAM. Stream 3: DATA, then trailers.
  pipe.push(Buffer.concat([
    headersWithBlock(1, enc.encode(POST_HEADERS), { endStream: false }),
    rawFrame(FrameType.DATA, 0, 1, Buffer.from('abc')),
    rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from('def')),
    headersWithBlock(3, enc.encode(POST_HEADERS), { endStream: false }),
    rawFrame(FrameType.DATA, 0, 3, Buffer.from('x')),
    headersWithBlock(3, enc.encode(['x-trailer', 'yes']), { endStream: true }),
  ]));
  await tick();
  assert.equal(streams.length, 2);
  const [s1, s3] = streams as [ServerStream, ServerStream];
  const events: string[] = [];
  // onend alone: the end waits behind the data, which waits for ondata.
  s1.onend = (t) => events.push(`1 end ${JSON.stringify(t)}`);
  await tick();
  assert.equal(events.length, 0);
  s1.ondata = (d) => events.push(`1 data ${d.toString()}`);
  await tick();
  assert.deepEqual(events, ['1 data abc', '1 data def', '1 end null']);
  // ondata alone: the data comes, the end waits for onend.
  s3.ondata = (d) => events.push(`3 data ${d.toString()}`);
  await tick();
  assert.deepEqual(events.slice(3), ['3 data x']);
  s3.onend = (t) => events.push(`3 end ${JSON.stringify(t)}`);
  await tick();
  assert.deepEqual(events.slice(3), ['3 data x', '3 end ["x-trailer","yes"]']);
  for (const s of streams) s.respond([':status', '200'], true);
  await tick();
  assert.equal(conn.openStreams, 0);
  conn.destroy();
  pipe.destroy();
});

test('write() returns false past the mark; ondrain comes once framing takes the queue below it', async () => {
  let stream: ServerStream | null = null;
  const { pipe, conn } = serve((s) => {
    stream = s;
  });
  const enc = new HpackEncoder();
  pipe.push(Buffer.concat([CLIENT_PREFACE, rawFrame(FrameType.SETTINGS, 0, 0), headersWithBlock(1, enc.encode(GET_HEADERS), { endStream: true })]));
  await tick();
  const s = stream as ServerStream | null;
  assert.ok(s !== null);
  let drains = 0;
  s.ondrain = () => drains++;
  s.respond([':status', '200']);
  assert.equal(s.write(Buffer.alloc(30000)), true);
  assert.equal(s.write(Buffer.alloc(40000)), false, 'past 64 KiB queued');
  assert.equal(drains, 0);
  await tick();
  // The peer's windows (65535) let all but 4465 octets out: below the mark.
  assert.equal(drains, 1);
  assert.equal(s.write(Buffer.alloc(10)), true);
  await tick();
  assert.equal(drains, 1);
  conn.destroy();
  pipe.destroy();
});

test('consume() gives back at most what was delivered (padding at once), in one WINDOW_UPDATE past half the window', async () => {
  let stream: ServerStream | null = null;
  const { pipe, conn } = serve((s) => {
    stream = s;
    s.ondata = () => {};
  });
  const enc = new HpackEncoder();
  const reader = new FrameReader({ maxFrameSize: 16384, maxContinuationFrames: 100, maxHeaderBlockSize: 1 << 20, expectPreface: false });
  // Three DATA frames, 39000 octets and one with 99 octets of padding (+1 for its length octet).
  const padded = Buffer.concat([Buffer.from([99]), Buffer.alloc(13000, 1), Buffer.alloc(99)]);
  pipe.push(Buffer.concat([
    CLIENT_PREFACE,
    rawFrame(FrameType.SETTINGS, 0, 0),
    headersWithBlock(1, enc.encode(POST_HEADERS), { endStream: false }),
    rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(13000, 1)),
    rawFrame(FrameType.DATA, Flag.PADDED, 1, padded),
    rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(13000, 1)),
  ]));
  await tick();
  const s = stream as ServerStream | null;
  assert.ok(s !== null);
  const updates = () =>
    parse(reader, pipe)
      .filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1)
      .map((f) => (f.type === FrameType.WINDOW_UPDATE ? f.increment : 0));
  assert.deepEqual(updates(), [], 'padding alone (100) is under half the window (32767)');
  s.consume(20000);
  await tick();
  assert.deepEqual(updates(), [], '20100 given back so far');
  s.consume(1e6); // only 19000 are left to consume
  await tick();
  assert.deepEqual(updates(), [39100], 'all the data and the padding');
  s.consume(1e6);
  await tick();
  assert.deepEqual(updates(), [], 'nothing left to give back');
  pipe.push(Buffer.concat([rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(16384, 1)), rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(16384, 1))]));
  await tick();
  s.consume(1e6);
  await tick();
  assert.deepEqual(updates(), [32768]);
  conn.destroy();
  pipe.destroy();
});
