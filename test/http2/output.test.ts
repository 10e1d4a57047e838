// Output: the connection's outbound queue. Its staging buffer for small frames is one for all
// connections; runs staged by different connections, interleaved, must each reach their own socket
// whole and in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Output } from '../../src/http2/output.js';
import { FrameType } from '../../src/http2/frame/constants.js';

class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  override _writev(chunks: { chunk: Buffer }[], cb: () => void): void {
    for (const c of chunks) this.chunks.push(c.chunk);
    cb();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

test('two Outputs staging small frames in turn each write exactly their own octets, in order', () => {
  const sinks = [new Sink(), new Sink(), new Sink()];
  const outs = sinks.map((s) => new Output(s as never));
  const want: Buffer[][] = [[], [], []];
  const big = Buffer.alloc(5000, 0x42);
  for (let i = 0; i < 600; i++) {
    const k = i % 3 === 2 && i % 7 === 0 ? 2 : i % 2;
    const small = Buffer.from([k, i & 0xff, (i >> 8) & 0xff]);
    outs[k]!.push(small);
    want[k]!.push(small);
    if (i % 5 === 0) {
      outs[k]!.pushFrameHeader(i, FrameType.PING, 0, k);
      const h = Buffer.alloc(9);
      h.writeUIntBE(i, 0, 3);
      h[3] = FrameType.PING;
      h.writeUInt32BE(k, 5);
      want[k]!.push(h);
    }
    if (i % 97 === 0) {
      outs[k]!.push(big); // queued by reference: the staged run before it is cut first
      want[k]!.push(big);
    }
    if (i % 50 === 49) for (const o of outs) o.writeAll();
  }
  for (const o of outs) o.writeAll();
  for (let k = 0; k < 3; k++) assert.ok(sinks[k]!.bytes.equals(Buffer.concat(want[k]!)), `output ${k}`);
});

test('clear() drops a staged run; the next Output to stage is not affected', () => {
  const a = new Sink();
  const b = new Sink();
  const oa = new Output(a as never);
  const ob = new Output(b as never);
  oa.push(Buffer.from('dropped'));
  oa.clear();
  ob.push(Buffer.from('kept'));
  oa.push(Buffer.from('after'));
  oa.writeAll();
  ob.writeAll();
  assert.equal(a.bytes.toString(), 'after');
  assert.equal(b.bytes.toString(), 'kept');
});
