// The abuse-limit counters of limits.ts on their own, with explicit clocks (no timers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FloodCounter, RecentIds, ResetBudget } from '../../src/http2/limits.js';

test('ResetBudget: capacity resets in a row, then ENHANCE_YOUR_CALM', () => {
  const b = new ResetBudget(5, 10_000);
  for (let i = 0; i < 5; i++) assert.equal(b.spend(1000), false, `reset ${i + 1}`);
  assert.equal(b.spend(1000), true);
});

test('ResetBudget: each completed stream pays for one reset, never more than the capacity', () => {
  const b = new ResetBudget(3, 10_000);
  // an honest client: a cancel, a completion, many times over, at one instant (no time refill)
  for (let i = 0; i < 1000; i++) {
    assert.equal(b.spend(0), false, `cancel ${i}`);
    b.earn();
  }
  // credit is capped: 1000 completions in a row buy 3 resets, not 1000
  for (let i = 0; i < 1000; i++) b.earn();
  assert.equal(b.available, 3);
  for (let i = 0; i < 3; i++) assert.equal(b.spend(0), false);
  assert.equal(b.spend(0), true);
});

test('ResetBudget: time refills capacity per window', () => {
  const b = new ResetBudget(10, 1000);
  for (let i = 0; i < 10; i++) b.spend(0);
  assert.equal(b.spend(0), true);
  assert.equal(b.spend(500), false); // half a window: 5 tokens back
  assert.ok(b.available >= 3.9 && b.available <= 4.1, String(b.available));
  assert.equal(b.spend(10_000), false); // long after: full again (capped), minus this one
  assert.equal(b.available, 9);
});

test('ResetBudget of 0: the first reset is too many', () => {
  assert.equal(new ResetBudget(0, 1000).spend(0), true);
});

test('FloodCounter: limit events per window, then true; a new window starts over', () => {
  const f = new FloodCounter(2, 100);
  assert.equal(f.hit(0), false);
  assert.equal(f.hit(10), false);
  assert.equal(f.hit(20), true);
  assert.equal(f.hit(150), false);
});

test('RecentIds: remembers the last capacity ids only', () => {
  const r = new RecentIds(4);
  for (const id of [1, 3, 5, 7, 9]) r.add(id);
  assert.equal(r.has(1), false);
  for (const id of [3, 5, 7, 9]) assert.equal(r.has(id), true);
  assert.equal(r.has(0), false);
});

test('RecentIds: grows as ids come and still remembers exactly the last capacity ids', () => {
  const r = new RecentIds(1024);
  assert.equal(r.has(1), false);
  for (let n = 1; n <= 3000; n++) {
    r.add(2 * n - 1);
    // spot checks while it grows (16, 32, ... 1024) and once it wraps
    if (n === 17 || n === 600 || n === 1024 || n === 1025 || n === 3000) {
      const oldest = Math.max(1, n - 1023);
      assert.equal(r.has(2 * oldest - 1), true, `after ${n} ids: the oldest kept`);
      assert.equal(r.has(2 * n - 1), true, `after ${n} ids: the newest`);
      if (oldest > 1) assert.equal(r.has(2 * (oldest - 1) - 1), false, `after ${n} ids: one past capacity is gone`);
    }
  }
});
