import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuffer, nextPowerOfTwo } from '../../src/queue/ring-buffer.js';

interface Box {
  n: number;
}
const box = (n: number): Box => ({ n });

test('capacity is rounded up to a power of two', () => {
  assert.equal(nextPowerOfTwo(1), 1);
  assert.equal(nextPowerOfTwo(2), 2);
  assert.equal(nextPowerOfTwo(3), 4);
  assert.equal(nextPowerOfTwo(100), 128);
  assert.equal(nextPowerOfTwo(1024), 1024);
  assert.equal(new RingBuffer<Box>(5).capacity, 8);
  assert.throws(() => new RingBuffer<Box>(0), RangeError);
  assert.throws(() => new RingBuffer<Box>(1.5), RangeError);
  assert.throws(() => new RingBuffer<Box>(2 ** 31), RangeError);
});

test('empty and full: every slot usable, push refuses when full', () => {
  const r = new RingBuffer<Box>(4);
  assert.ok(r.isEmpty());
  assert.ok(!r.isFull());
  assert.equal(r.shift(), undefined);
  const items = [box(0), box(1), box(2), box(3)];
  for (const it of items) assert.equal(r.push(it), true);
  assert.ok(r.isFull());
  assert.ok(!r.isEmpty());
  assert.equal(r.length, 4);
  assert.equal(r.push(box(9)), false);
  assert.equal(r.length, 4);
  for (const it of items) assert.equal(r.shift(), it);
  assert.ok(r.isEmpty());
  assert.equal(r.length, 0);
});

test('FIFO across many wraparounds of the slot index', () => {
  const r = new RingBuffer<Box>(8);
  let nextIn = 0;
  let nextOut = 0;
  // Fill to a varying depth and drain partially, 10,000 rounds: the index wraps thousands of times.
  for (let round = 0; round < 10_000; round++) {
    const pushes = (round * 7) % 9;
    for (let i = 0; i < pushes && !r.isFull(); i++) assert.ok(r.push(box(nextIn++)));
    const shifts = (round * 5) % 8;
    for (let i = 0; i < shifts && !r.isEmpty(); i++) assert.equal((r.shift() as Box).n, nextOut++);
    assert.equal(r.length, nextIn - nextOut);
  }
  while (!r.isEmpty()) assert.equal((r.shift() as Box).n, nextOut++);
  assert.equal(nextOut, nextIn);
  assert.ok(nextIn > 10_000);
});

test('32-bit counter wraparound keeps length, order, full and empty right', () => {
  // Start the free-running counters just below 2^32 so they wrap during the test.
  const r = new RingBuffer<Box>(4, 2 ** 32 - 3);
  let nextIn = 0;
  let nextOut = 0;
  for (let round = 0; round < 50; round++) {
    while (!r.isFull()) r.push(box(nextIn++));
    assert.equal(r.length, 4);
    assert.equal(r.push(box(-1)), false);
    assert.equal((r.shift() as Box).n, nextOut++);
    assert.equal((r.shift() as Box).n, nextOut++);
    assert.equal(r.length, 2);
  }
  while (!r.isEmpty()) assert.equal((r.shift() as Box).n, nextOut++);
  assert.equal(r.length, 0);
  assert.equal(nextOut, nextIn);
});

test('holes: clearAt, shift hands them out as null, compact squeezes them out in order', () => {
  const r = new RingBuffer<Box>(8, 2 ** 32 - 2);
  const items = Array.from({ length: 8 }, (_, i) => box(i));
  for (const it of items) r.push(it);
  assert.equal(r.indexOf(items[3]!), 3);
  assert.equal(r.indexOf(box(3)), -1);
  assert.equal(r.clearAt(1), items[1]);
  assert.equal(r.clearAt(3), items[3]);
  assert.equal(r.clearAt(7), items[7]);
  assert.equal(r.at(1), null);
  assert.equal(r.length, 8);
  assert.ok(r.isFull());
  assert.equal(r.compact(), 3);
  assert.equal(r.length, 5);
  assert.equal(r.at(0), items[0]);
  assert.deepEqual(
    Array.from({ length: r.length }, (_, i) => (r.at(i) as Box).n),
    [0, 2, 4, 5, 6],
  );
  assert.ok(r.push(box(8)));
  r.clearAt(0);
  const out: number[] = [];
  for (let it = r.shift(); it !== undefined; it = r.shift()) out.push(it === null ? -1 : it.n);
  assert.deepEqual(out, [-1, 2, 4, 5, 6, 8]);
  assert.ok(r.isEmpty());
  assert.equal(r.at(0), undefined);
  assert.equal(r.clearAt(0), undefined);
});

test('shift and clear drop references', () => {
  const r = new RingBuffer<Box>(2);
  const a = box(1);
  r.push(a);
  r.push(box(2));
  r.shift();
  r.clear();
  assert.ok(r.isEmpty());
  // Internal slots must be null so cleared items can be collected.
  const slots = (r as unknown as { slots: unknown[] }).slots;
  assert.deepEqual(slots, [null, null]);
});
