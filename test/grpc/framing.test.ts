// Length-prefixed message framing and compression.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, deflateSync } from 'node:zlib';
import { MessageDecoder, withRoom } from '../../src/grpc/message-framing.js';
import { compress, decompress, parseAcceptEncoding } from '../../src/grpc/compression.js';
import { GrpcError, Status } from '../../src/grpc/status.js';

class Collector extends MessageDecoder {
  readonly got: { compressed: boolean; payload: Buffer; wire: number }[] = [];
  onMessage(compressed: boolean, buf: Buffer, start: number, end: number): void {
    this.got.push({ compressed, payload: buf.subarray(start, end), wire: end - start + 5 });
  }
}
function collect(max = 1 << 20) {
  const dec = new Collector(max);
  return { dec, got: dec.got };
}
const frame = (p: Buffer, c = false) => {
  const b = withRoom(p);
  b[0] = c ? 1 : 0;
  b.writeUInt32BE(p.length, 1);
  return b;
};

test('several messages in one chunk come out as slices of it', () => {
  const { dec, got } = collect();
  const chunk = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.alloc(0)), frame(Buffer.from('xy'), true)]);
  dec.push(chunk);
  assert.equal(got.length, 3);
  assert.equal(got[0]!.payload.toString(), 'abc');
  assert.equal(got[0]!.payload.buffer, chunk.buffer, 'sliced, not copied');
  assert.equal(got[0]!.wire, 8);
  assert.equal(got[1]!.payload.length, 0);
  assert.equal(got[2]!.compressed, true);
  assert.equal(got[2]!.payload.toString(), 'xy');
  assert.equal(dec.partial, false);
});

test('a message split at every possible byte boundary, and byte by byte', () => {
  const payloads = [Buffer.from('hello world'), Buffer.alloc(0), Buffer.alloc(40000, 7)];
  const all = Buffer.concat(payloads.map((p) => frame(p)));
  for (const step of [1, 2, 3, 5, 6, 7, 4096, 39999]) {
    const { dec, got } = collect();
    for (let i = 0; i < all.length; i += step) dec.push(all.subarray(i, i + step));
    assert.deepEqual(got.map((g) => g.payload), payloads, `step ${step}`);
    assert.equal(dec.partial, false);
  }
  const { dec } = collect();
  dec.push(all.subarray(0, 3));
  assert.equal(dec.partial, true);
});

test('the receive limit is checked from the prefix before buffering', () => {
  const { dec, got } = collect(10);
  const prefix = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => dec.push(prefix), (e: unknown) => e instanceof GrpcError && e.code === Status.RESOURCE_EXHAUSTED);
  assert.equal(got.length, 0);
  const ok = collect(10);
  ok.dec.push(frame(Buffer.alloc(10)));
  assert.equal(ok.got.length, 1);
  const split = collect(10);
  split.dec.push(Buffer.from([0, 0, 0]));
  assert.throws(() => split.dec.push(Buffer.from([0, 11])), GrpcError);
});

test('invalid compressed flag is INTERNAL', () => {
  const { dec } = collect();
  assert.throws(() => dec.push(Buffer.from([2, 0, 0, 0, 0])), (e: unknown) => e instanceof GrpcError && e.code === Status.INTERNAL);
});

test('withRoom: the payload behind 5 free octets, from a Buffer or a plain Uint8Array', () => {
  const b = withRoom(new Uint8Array([1, 2, 3]));
  assert.ok(Buffer.isBuffer(b));
  assert.deepEqual([...b.subarray(5)], [1, 2, 3]);
  assert.equal(withRoom(Buffer.alloc(0)).length, 5);
  assert.deepEqual([...withRoom(Buffer.alloc(100_000, 7)).subarray(99_999)], [7, 7, 7, 7, 7, 7]);
});

test('compression both ways, gzip and deflate, bounded by the limit', () => {
  const data = Buffer.alloc(5000, 'a');
  for (const enc of ['gzip', 'deflate'] as const) {
    const c = compress(enc, data);
    assert.ok(c.length < data.length);
    assert.deepEqual(decompress(enc, c, 5000), data);
    assert.throws(() => decompress(enc, c, 4999), (e: unknown) => e instanceof GrpcError && e.code === Status.RESOURCE_EXHAUSTED);
    assert.throws(() => decompress(enc, Buffer.from('garbage'), 5000), (e: unknown) => e instanceof GrpcError && e.code === Status.INTERNAL);
  }
  assert.deepEqual(decompress('gzip', gzipSync(Buffer.alloc(0)), 0), Buffer.alloc(0));
  assert.deepEqual(decompress('deflate', deflateSync(Buffer.from('x')), 10), Buffer.from('x'));
  assert.throws(() => decompress('identity', data, 10000), GrpcError);
  assert.deepEqual([...parseAcceptEncoding(['grpc-accept-encoding', ' gzip , deflate'])].sort(), ['deflate', 'gzip', 'identity']);
  assert.deepEqual([...parseAcceptEncoding(['grpc-accept-encoding', 'deflate', 'te', 'snappy', 'grpc-accept-encoding', 'gzip,'])].sort(), ['deflate', 'gzip', 'identity']);
  assert.deepEqual([...parseAcceptEncoding([])], ['identity']);
});
