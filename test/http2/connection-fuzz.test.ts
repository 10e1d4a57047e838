// Seeded fuzzing of Http2ServerConnection over an in-memory Duplex: valid client traffic with
// random mutations (flipped octets, cut, duplicated or shuffled frames) must never throw out of
// the connection or leave an unhandled error: every run ends in answers, RST_STREAMs or a GOAWAY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { Http2ServerConnection } from '../../src/http2/connection.js';
import { HpackEncoder } from '../../src/http2/hpack/index.js';
import { CLIENT_PREFACE, Flag, FrameType, SettingId } from '../../src/http2/frame/constants.js';
import { echoHandler } from '../../examples/h2-echo/server.js';
import { GET_HEADERS, POST_HEADERS, headersWithBlock, rawFrame, settingsPayload, u32 } from '../support/h2-client.js';

class Sink extends Duplex {
  written = 0;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.written += chunk.length;
    cb();
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

function session(rand: () => number): Buffer[] {
  const enc = new HpackEncoder();
  const frames: Buffer[] = [rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.INITIAL_WINDOW_SIZE, 1 + Math.floor(rand() * 100000)]))];
  let id = 1;
  for (let i = 0; i < 12; i++) {
    const r = rand();
    if (r < 0.3) {
      frames.push(headersWithBlock(id, enc.encode(GET_HEADERS), { endStream: true }));
    } else if (r < 0.6) {
      frames.push(headersWithBlock(id, enc.encode([...POST_HEADERS, 'x-n', String(i)]), { endStream: false }));
      frames.push(rawFrame(FrameType.DATA, 0, id, Buffer.alloc(Math.floor(rand() * 3000), i)));
      if (rand() < 0.5) frames.push(headersWithBlock(id, enc.encode(['x-t', 'v']), { endStream: true }));
      else frames.push(rawFrame(FrameType.DATA, Flag.END_STREAM, id, Buffer.alloc(3)));
    } else if (r < 0.7) {
      frames.push(rawFrame(FrameType.WINDOW_UPDATE, 0, rand() < 0.5 || id === 1 ? 0 : id - 2, u32(1 + Math.floor(rand() * 70000))));
      continue;
    } else if (r < 0.8) {
      frames.push(rawFrame(FrameType.PING, 0, 0, Buffer.alloc(8, i)));
      continue;
    } else if (r < 0.9) {
      if (id > 1) frames.push(rawFrame(FrameType.RST_STREAM, 0, id - 2, u32(Math.floor(rand() * 14))));
      continue;
    } else {
      frames.push(rawFrame(FrameType.SETTINGS, 0, 0, settingsPayload([SettingId.INITIAL_WINDOW_SIZE, Math.floor(rand() * 200000)])));
      continue;
    }
    id += 2;
  }
  return frames;
}

function mutate(frames: Buffer[], rand: () => number): Buffer {
  const f = frames.slice();
  const kind = Math.floor(rand() * 6); // 5: unmutated
  if (kind === 0 && f.length > 2) {
    const i = 1 + Math.floor(rand() * (f.length - 1));
    const j = 1 + Math.floor(rand() * (f.length - 1));
    [f[i], f[j]] = [f[j]!, f[i]!];
  } else if (kind === 1) {
    const i = Math.floor(rand() * f.length);
    f.splice(i, 0, f[i]!);
  } else if (kind === 2 && f.length > 1) {
    f.splice(1 + Math.floor(rand() * (f.length - 1)), 1);
  }
  const bytes = Buffer.concat([CLIENT_PREFACE, ...f]);
  const flips = kind === 3 || kind === 4 ? 1 + Math.floor(rand() * 4) : 0;
  for (let k = 0; k < flips; k++) {
    const at = CLIENT_PREFACE.length + Math.floor(rand() * (bytes.length - CLIENT_PREFACE.length));
    bytes[at] = Math.floor(rand() * 256);
  }
  return bytes;
}

test('300 mutated client sessions: no exception escapes, every connection stays in a defined state', async () => {
  const errors: unknown[] = [];
  const outcomes = new Map<string, number>();
  const onError = (e: unknown) => errors.push(e);
  process.on('uncaughtException', onError);
  try {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = rng(seed * 7919);
      const sink = new Sink();
      const conn = new Http2ServerConnection(sink, { remoteAddress: undefined, remotePort: undefined, secure: false }, {}, echoHandler);
      const bytes = mutate(session(rand), rand);
      // in random cuts, as a socket would deliver them
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(rand() * 700);
        sink.push(bytes.subarray(at, at + n));
        at += n;
      }
      await new Promise<void>((r) => setImmediate(r));
      await new Promise<void>((r) => setImmediate(r));
      assert.ok(sink.written > 0, `seed ${seed}: the server wrote nothing`);
      const o = conn.stats.goawayCode === null ? 'alive' : `GOAWAY ${conn.stats.goawayCode}`;
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      if (conn.stats.resetsSent > 0) outcomes.set('RST sent', (outcomes.get('RST sent') ?? 0) + 1);
      conn.destroy();
      sink.destroy();
    }
  } finally {
    process.off('uncaughtException', onError);
  }
  assert.deepEqual(errors, []);
  // not vacuous: the mutations reach healthy runs, stream errors and several connection errors
  assert.ok((outcomes.get('alive') ?? 0) > 0, JSON.stringify([...outcomes]));
  assert.ok((outcomes.get('RST sent') ?? 0) > 0, JSON.stringify([...outcomes]));
  assert.ok([...outcomes.keys()].filter((k) => k.startsWith('GOAWAY')).length >= 3, JSON.stringify([...outcomes]));
});
