import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobQueue } from '../../src/queue/job-queue.js';
import type { QueueJob, QueueOwner } from '../../src/queue/job-queue.js';
import { prng } from '../support/prng.js';

/** A job that records when it starts into a shared log. */
class Job implements QueueJob {
  started = 0;
  constructor(
    readonly id: number,
    private readonly log: number[],
    private readonly onStart?: (job: Job) => void,
  ) {}
  start(): void {
    this.started++;
    this.log.push(this.id);
    this.onStart?.(this);
  }
}

function jobs(n: number, log: number[]): Job[] {
  return Array.from({ length: n }, (_, i) => new Job(i, log));
}

test('rejects bad bounds', () => {
  assert.throws(() => new JobQueue({ maxRunning: 0, maxWaiting: 1 }), RangeError);
  assert.throws(() => new JobQueue({ maxRunning: 1, maxWaiting: -1 }), RangeError);
  assert.throws(() => new JobQueue({ maxRunning: 1.5, maxWaiting: 1 }), RangeError);
});

test('bounds: runs up to maxRunning, queues up to maxWaiting, rejects past both', () => {
  const log: number[] = [];
  const q = new JobQueue({ maxRunning: 2, maxWaiting: 3 });
  const js = jobs(7, log);
  assert.deepEqual(js.map((j) => q.admit(j)), ['run', 'run', 'queued', 'queued', 'queued', 'rejected', 'rejected']);
  assert.deepEqual(log, [0, 1]);
  assert.deepEqual(q.stats, { running: 2, waiting: 3, rejected: 2, completed: 0, cancelled: 0, fairDropped: 0, parked: 0, maxRunning: 2, maxWaiting: 3 });
  assert.ok(q.isRunning(js[0]!));
  assert.ok(q.isWaiting(js[2]!));
  assert.ok(!q.isWaiting(js[5]!) && !q.isRunning(js[5]!));
});

test('FIFO: done() starts the oldest waiting job; newcomers do not overtake', () => {
  const log: number[] = [];
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 10 });
  const js = jobs(5, log);
  for (const j of js) q.admit(j);
  assert.deepEqual(log, [0]);
  for (let i = 0; i < 5; i++) {
    assert.equal(q.done(js[i]!), true);
    assert.deepEqual(log, js.slice(0, Math.min(i + 2, 5)).map((j) => j.id));
  }
  assert.deepEqual(q.stats, { running: 0, waiting: 0, rejected: 0, completed: 5, cancelled: 0, fairDropped: 0, parked: 0, maxRunning: 1, maxWaiting: 10 });
  const a = new Job(10, log);
  const b = new Job(11, log);
  const c = new Job(12, log);
  q.admit(a);
  assert.equal(q.admit(b), 'queued');
  q.done(a);
  assert.equal(q.admit(c), 'queued');
  q.done(b);
  assert.deepEqual(log.slice(-3), [10, 11, 12]);
});

test('FIFO: a job admitted while a slot is free but others wait queues behind them', () => {
  const log: number[] = [];
  const q = new JobQueue({ maxRunning: 2, maxWaiting: 10 });
  const late = new Job(99, log);
  let lateResult = '';
  const [a, b] = jobs(2, log);
  // c finishes inside its own start() and then admits `late`: at that moment a slot is free
  // and d is still waiting, so `late` must queue behind d.
  const c = new Job(2, log, (self) => {
    q.done(self);
    lateResult = q.admit(late);
  });
  const d = new Job(3, log);
  for (const j of [a!, b!, c, d]) q.admit(j);
  q.done(a!);
  assert.equal(lateResult, 'queued');
  assert.deepEqual(log, [0, 1, 2, 3]);
  q.done(b!);
  assert.deepEqual(log, [0, 1, 2, 3, 99]);
});

test('maxWaiting 0: a full queue rejects at once', () => {
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 0 });
  const log: number[] = [];
  const [a, b] = jobs(2, log);
  assert.equal(q.admit(a!), 'run');
  assert.equal(q.admit(b!), 'rejected');
  q.done(a!);
  assert.equal(q.admit(b!), 'run');
  assert.equal(q.stats.rejected, 1);
});

test('done() twice or for an unknown job changes nothing', () => {
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 1 });
  const log: number[] = [];
  const [a, b, c] = jobs(3, log);
  q.admit(a!);
  q.admit(b!);
  assert.equal(q.done(c!), false);
  assert.equal(q.done(b!), false); // waiting, not running
  assert.equal(q.done(a!), true);
  assert.equal(q.done(a!), false);
  assert.equal(q.stats.completed, 1);
  assert.equal(q.stats.running, 1);
  assert.deepEqual(log, [0, 1]);
});

test('cancel: a waiting job is never started and the waiting count drops at once', () => {
  const log: number[] = [];
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 3 });
  const js = jobs(5, log);
  for (const j of js.slice(0, 4)) q.admit(j);
  assert.equal(q.waiting, 3);
  assert.equal(q.cancel(js[2]!), true);
  assert.equal(q.waiting, 2);
  assert.equal(q.cancel(js[2]!), false); // already cancelled
  assert.equal(q.cancel(js[0]!), false); // running
  assert.equal(q.cancel(js[4]!), false); // unknown
  // The freed waiting place is usable at once, even though the ring slot is only a hole.
  assert.equal(q.admit(js[4]!), 'queued');
  assert.equal(q.waiting, 3);
  q.done(js[0]!);
  q.done(js[1]!);
  q.done(js[3]!);
  q.done(js[4]!);
  assert.deepEqual(log, [0, 1, 3, 4]);
  assert.equal(js[2]!.started, 0);
  assert.deepEqual(q.stats, { running: 0, waiting: 0, rejected: 0, completed: 4, cancelled: 1, fairDropped: 0, parked: 0, maxRunning: 1, maxWaiting: 3 });
});

test('cancelled holes fill the ring: admit compacts and keeps FIFO order', () => {
  const log: number[] = [];
  // maxWaiting 4 -> ring of 4 slots exactly.
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 4 });
  const first = new Job(100, log);
  q.admit(first);
  const js = jobs(12, log);
  for (const j of js.slice(0, 4)) assert.equal(q.admit(j), 'queued');
  q.cancel(js[1]!);
  q.cancel(js[2]!);
  assert.equal(q.admit(js[4]!), 'queued'); // ring physically full of 4 (2 holes) -> compacts
  assert.equal(q.admit(js[5]!), 'queued');
  assert.equal(q.admit(js[6]!), 'rejected');
  for (const j of [first, js[0]!, js[3]!, js[4]!, js[5]!]) assert.equal(q.done(j), true);
  assert.deepEqual(log, [100, 0, 3, 4, 5]);
  assert.equal(q.stats.cancelled, 2);
  assert.equal(q.stats.rejected, 1);
  assert.equal(q.stats.completed, 5);
});

test('dropWaiting(() => true) withdraws every waiting job, oldest first', () => {
  const log: number[] = [];
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 5 });
  const js = jobs(5, log);
  for (const j of js) q.admit(j);
  q.cancel(js[2]!);
  const seen: number[] = [];
  assert.equal(q.dropWaiting(() => true, (j) => seen.push((j as Job).id)), 3);
  assert.deepEqual(seen, [1, 3, 4]);
  assert.equal(q.waiting, 0);
  assert.equal(q.stats.cancelled, 4);
  q.done(js[0]!);
  assert.deepEqual(log, [0]);
});

test('a start() that calls done() synchronously does not recurse or stall', () => {
  const log: number[] = [];
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 10_000 });
  const blocker = new Job(-1, log);
  q.admit(blocker);
  // 10,000 jobs that finish inside start(): recursion would overflow the stack.
  for (let i = 0; i < 10_000; i++) q.admit(new Job(i, log, (j) => q.done(j)));
  q.done(blocker);
  assert.equal(log.length, 10_001);
  assert.deepEqual(q.stats, { running: 0, waiting: 0, rejected: 0, completed: 10_001, cancelled: 0, fairDropped: 0, parked: 0, maxRunning: 1, maxWaiting: 10_000 });
});

test('start() throwing: from admit the error propagates and the slot is released; from done it goes to onStartError', () => {
  const errors: unknown[] = [];
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 2, onStartError: (e) => errors.push(e) });
  const bad: QueueJob = {
    start() {
      throw new Error('boom');
    },
  };
  assert.throws(() => q.admit(bad), /boom/);
  assert.equal(q.running, 0);
  const log: number[] = [];
  const a = new Job(1, log);
  const c = new Job(3, log);
  q.admit(a);
  q.admit(bad);
  q.admit(c);
  q.done(a);
  assert.equal(errors.length, 1);
  assert.deepEqual(log, [1, 3]);
  assert.equal(q.running, 1);
  assert.ok(q.isRunning(c));
});

test('wraparound: hundreds of thousands of jobs through a small queue', () => {
  const log: number[] = [];
  const q = new JobQueue({ maxRunning: 3, maxWaiting: 5 });
  const running: Job[] = [];
  let next = 0;
  let expectedStart = 0;
  const total = 200_000;
  while (next < total || running.length > 0) {
    while (next < total) {
      const j = new Job(next, log, (job) => running.push(job));
      const r = q.admit(j);
      if (r === 'rejected') break;
      next++;
    }
    // Finish the oldest running job: the next waiting one starts.
    const j = running.shift()!;
    assert.equal(q.done(j), true);
    while (log.length > 0) {
      assert.equal(log.shift(), expectedStart++);
    }
  }
  assert.equal(expectedStart, total);
  const s = q.stats;
  assert.equal(s.completed, total);
  assert.equal(s.running + s.waiting, 0);
});

test('property: random admit/done/cancel sequences match a simple model', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = prng(seed); // seeded, so a failing sequence can be replayed from its seed
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const maxRunning = 1 + Math.floor(rand() * 4);
    const maxWaiting = Math.floor(rand() * 6);
    const log: number[] = [];
    const q = new JobQueue({ maxRunning, maxWaiting });
    // The model: plain arrays, no ring, no cleverness.
    const mRunning: Job[] = [];
    const mWaiting: Job[] = [];
    const mLog: number[] = [];
    const m = { rejected: 0, completed: 0, cancelled: 0 };
    const all: Job[] = [];
    const mStart = (j: Job): void => {
      mLog.push(j.id);
      if ((j as Job & { instant?: boolean }).instant) m.completed++;
      else mRunning.push(j);
    };
    const mDrain = (): void => {
      while (mRunning.length < maxRunning && mWaiting.length > 0) mStart(mWaiting.shift()!);
    };
    const ctx = `seed ${seed}`;
    for (let step = 0; step < 400; step++) {
      const r = rand();
      if (r < 0.45) {
        const instant = rand() < 0.1;
        const j = new Job(all.length, log, instant ? (job) => q.done(job) : undefined);
        (j as Job & { instant?: boolean }).instant = instant;
        all.push(j);
        let expected: string;
        if (mWaiting.length === 0 && mRunning.length < maxRunning) {
          expected = 'run';
          mStart(j);
          mDrain();
        } else if (mWaiting.length < maxWaiting) {
          expected = 'queued';
          mWaiting.push(j);
        } else {
          expected = 'rejected';
          m.rejected++;
        }
        assert.equal(q.admit(j), expected, ctx);
      } else if (r < 0.8) {
        if (all.length === 0) continue;
        const j = rand() < 0.8 && mRunning.length > 0 ? pick(mRunning) : pick(all);
        const i = mRunning.indexOf(j);
        if (i >= 0) {
          mRunning.splice(i, 1);
          m.completed++;
          mDrain();
        }
        assert.equal(q.done(j), i >= 0, ctx);
      } else {
        if (all.length === 0) continue;
        const j = rand() < 0.8 && mWaiting.length > 0 ? pick(mWaiting) : pick(all);
        const i = mWaiting.indexOf(j);
        if (i >= 0) {
          mWaiting.splice(i, 1);
          m.cancelled++;
        }
        assert.equal(q.cancel(j), i >= 0, ctx);
      }
      assert.deepEqual(log, mLog, ctx);
      assert.deepEqual(
        q.stats,
        { running: mRunning.length, waiting: mWaiting.length, ...m, fairDropped: 0, parked: 0, maxRunning, maxWaiting },
        ctx,
      );
      for (const j of mWaiting) assert.ok(q.isWaiting(j), ctx);
      for (const j of mRunning) assert.ok(q.isRunning(j), ctx);
    }
    for (const j of all) assert.ok(j.started <= 1, ctx);
  }
});

test('onFull: asked only when every slot is taken; a job it ends makes room (FIFO kept), else the newcomer is rejected', () => {
  const log: number[] = [];
  const [a, b, c, d] = jobs(4, log);
  let asked = 0;
  let victim: Job | null = null;
  const q = new JobQueue({
    maxRunning: 1,
    maxWaiting: 1,
    onFull: (running, n) => {
      asked++;
      assert.equal(n, 1);
      assert.equal(running[0], a, 'the running job is offered');
      if (victim !== null && running.slice(0, n).includes(victim)) q.done(victim);
    },
  });
  assert.equal(q.admit(a!), 'run');
  assert.equal(q.admit(b!), 'queued');
  assert.equal(asked, 0, 'not asked while there is room');
  // nothing to shed: rejected
  assert.equal(q.admit(c!), 'rejected');
  assert.equal(asked, 1);
  // a is shed: b (the oldest waiting) runs, d waits behind it
  victim = a!;
  assert.equal(q.admit(d!), 'queued');
  assert.deepEqual(log, [0, 1]);
  assert.deepEqual([q.running, q.waiting, q.stats.rejected], [1, 1, 1]);
  // maxWaiting 0: the freed running slot goes to the newcomer
  const log2: number[] = [];
  const [x, y] = jobs(2, log2);
  const q0 = new JobQueue({ maxRunning: 1, maxWaiting: 0, onFull: (r, n) => void (n === 1 && r[0] === x && q0.done(x)) });
  assert.equal(q0.admit(x!), 'run');
  assert.equal(q0.admit(y!), 'run');
  assert.deepEqual(log2, [0, 1]);
  assert.equal(q0.stats.rejected, 0);
});

test('dropWaiting withdraws the matching waiting jobs, tells each, and keeps the others in FIFO order', () => {
  const started: string[] = [];
  const job = (name: string) => ({ name, start: () => started.push(name) });
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 4 });
  const r = job('r'), a1 = job('a1'), b1 = job('b1'), a2 = job('a2'), b2 = job('b2');
  for (const j of [r, a1, b1, a2, b2]) q.admit(j);
  const dropped: string[] = [];
  const n = q.dropWaiting((j) => (j as typeof r).name.startsWith('a'), (j) => dropped.push((j as typeof r).name));
  assert.equal(n, 2);
  assert.deepEqual(dropped, ['a1', 'a2']);
  assert.equal(q.waiting, 2);
  assert.equal(q.stats.cancelled, 2);
  assert.equal(q.isWaiting(a1), false);
  q.done(r);
  q.done(b1);
  assert.deepEqual(started, ['r', 'b1', 'b2']);
  assert.equal(q.dropWaiting(() => true, () => assert.fail('nothing waits')), 0);
});

/** A job of `owner` (a connection) that logs its name when it starts. */
const owned = (name: string, owner: QueueOwner, started: string[]) => ({ name, owner, start: () => started.push(name) });

test('owners: a freed slot goes to the oldest waiting job of the owner holding fewest slots', () => {
  const started: string[] = [];
  const heavy: QueueOwner = {}, light: QueueOwner = {}, other: QueueOwner = {};
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 5 });
  const r = owned('r', other, started);
  const h1 = owned('h1', heavy, started), h2 = owned('h2', heavy, started), h3 = owned('h3', heavy, started);
  const l1 = owned('l1', light, started);
  for (const j of [r, h1, h2, h3, l1]) q.admit(j);
  assert.deepEqual([heavy.held, light.held, other.held], [3, 1, 1]);
  q.done(r); // light holds 1, heavy 3: l1 first though it came last
  q.done(l1); // then heavy's in their order
  q.done(h1);
  q.done(h2);
  assert.deepEqual(started, ['r', 'l1', 'h1', 'h2', 'h3']);
  q.done(h3);
  assert.deepEqual([heavy.held, light.held, other.held], [0, 0, 0]);
  // One job per owner, or no owner at all: plain FIFO.
  const s2: string[] = [];
  const q2 = new JobQueue({ maxRunning: 1, maxWaiting: 4 });
  const js = ['a', 'b', 'c', 'd'].map((n, i) => (i % 2 === 0 ? owned(n, {}, s2) : { start: () => s2.push(n) }));
  for (const j of js) q2.admit(j);
  for (const j of js) q2.done(j);
  assert.deepEqual(s2, ['a', 'b', 'c', 'd']);
});

test('owners: at a full queue the heaviest owner\'s newest waiting job gives way to a lighter owner\'s newcomer', () => {
  const started: string[] = [];
  const dropped: string[] = [];
  const a: QueueOwner = {}, b: QueueOwner = {}, c: QueueOwner = {};
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 3, onDrop: (j) => dropped.push((j as ReturnType<typeof owned>).name) });
  for (const j of [owned('a1', a, started), owned('a2', a, started), owned('a3', a, started), owned('b1', b, started)]) q.admit(j);
  assert.deepEqual([a.held, b.held], [3, 1]);
  // c holds none, a holds 3 (> 0 + 1): a's newest waiting job (a3) is dropped, c1 waits.
  assert.equal(q.admit(owned('c1', c, started)), 'queued');
  assert.deepEqual(dropped, ['a3']);
  assert.deepEqual([a.held, b.held, c.held], [2, 1, 1]);
  // Now a holds 2, b 1, c 1: a newcomer of b would hold 2, no better than a: refused.
  assert.equal(q.admit(owned('b2', b, started)), 'rejected');
  // A fresh owner (0) against a's 2: a2 gives way (a's only waiting job; a1 runs).
  assert.equal(q.admit(owned('d1', {}, started)), 'queued');
  assert.deepEqual(dropped, ['a3', 'a2']);
  // Owners of one slot each: nobody gives way any more.
  assert.equal(q.admit(owned('e1', {}, started)), 'rejected');
  assert.deepEqual(q.stats, { running: 1, waiting: 3, rejected: 2, completed: 0, cancelled: 0, fairDropped: 2, parked: 0, maxRunning: 1, maxWaiting: 3 });
  assert.deepEqual(started, ['a1']);
  // Jobs without an owner are never dropped, nor drop others.
  const q0 = new JobQueue({ maxRunning: 1, maxWaiting: 1, onDrop: () => assert.fail('no owner, no drop') });
  for (let i = 0; i < 2; i++) q0.admit({ start() {} });
  assert.equal(q0.admit({ start() {} }), 'rejected');
  assert.equal(q0.admit(owned('x', {}, [])), 'rejected');
});

test('owners: onQueued is told each time a job waits', () => {
  let told = 0;
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 2, onQueued: () => told++ });
  const js = Array.from({ length: 4 }, () => ({ start() {} }));
  assert.deepEqual(js.map((j) => q.admit(j)), ['run', 'queued', 'queued', 'rejected']);
  assert.equal(told, 2);
});

test('property: owners\' held counts always equal their running + waiting jobs, and return to 0', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const rand = prng(seed);
    const ctx = `seed ${seed}`;
    const owners: QueueOwner[] = [{}, {}, {}, {}];
    const all: { owner: QueueOwner; start(): void; throws?: boolean }[] = [];
    const q = new JobQueue({ maxRunning: 1 + Math.floor(rand() * 3), maxWaiting: Math.floor(rand() * 6), onStartError: () => {} });
    const check = (): void => {
      for (const o of owners) {
        const n = all.filter((j) => j.owner === o && (q.isRunning(j) || q.isWaiting(j))).length;
        assert.equal(o.held ?? 0, n, ctx);
      }
      assert.equal(all.filter((j) => q.isWaiting(j)).length, q.waiting, ctx);
      // A freed slot never stays free while jobs wait (holes in the line included).
      assert.ok(q.waiting === 0 || q.running === q.maxRunning, ctx);
    };
    for (let step = 0; step < 300; step++) {
      const r = rand();
      if (r < 0.45) {
        const j = { owner: owners[Math.floor(rand() * owners.length)]!, throws: rand() < 0.05, start(this: { throws?: boolean }) { if (this.throws) throw new Error('x'); } };
        all.push(j);
        try {
          q.admit(j);
        } catch {
          // start() threw inside admit(): the slot was given back
        }
      } else if (r < 0.75) {
        if (all.length > 0) q.done(all[Math.floor(rand() * all.length)]!);
      } else if (r < 0.9) {
        if (all.length > 0) q.cancel(all[Math.floor(rand() * all.length)]!);
      } else if (r < 0.95) {
        const o = owners[Math.floor(rand() * owners.length)];
        q.dropWaiting((j) => j.owner === o, () => {});
      } else {
        q.dropWaiting(() => true, () => {});
      }
      check();
    }
    q.dropWaiting(() => true, () => {});
    for (const j of all) q.done(j);
    check();
    for (const o of owners) assert.equal(o.held ?? 0, 0, ctx);
  }
});

test('park: the running slot goes to the oldest waiting job; resume takes the next free slot before any waiting job', () => {
  const log: number[] = [];
  const owner: QueueOwner = {};
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 3 });
  const [a, b, c, d] = jobs(4, log);
  (a as Job & { owner: QueueOwner }).owner = owner;
  for (const j of [a, b, c]) q.admit(j!);
  assert.equal(q.park(a!), true);
  assert.deepEqual(log, [0, 1], 'b got the slot');
  assert.deepEqual([q.running, q.waiting, q.stats.parked, owner.held], [1, 1, 1, 1], 'a still counts in its owner\'s share');
  assert.equal(q.isRunning(a!), false);
  assert.equal(q.park(a!), false, 'parked already');
  q.resume(a!);
  q.resume(a!); // asked twice: still one place in line
  assert.deepEqual(log, [0, 1], 'no free slot yet');
  assert.equal(q.admit(d!), 'queued');
  q.done(b!);
  assert.deepEqual(log, [0, 1, 0], 'a back on the slot before c and d, which waited before it asked');
  assert.deepEqual([q.running, q.waiting, q.stats.parked], [1, 2, 0]);
  q.done(a!);
  assert.deepEqual(log, [0, 1, 0, 2]);
  assert.equal(owner.held, 0);
  assert.equal(q.stats.completed, 2);
  // A free slot: resume() starts it at once.
  q.done(c!);
  assert.deepEqual(log, [0, 1, 0, 2, 3]);
  assert.equal(q.park(d!), true);
  assert.equal(q.running, 0);
  q.resume(d!);
  assert.deepEqual(log, [0, 1, 0, 2, 3, 3]);
  assert.equal(q.isRunning(d!), true);
});

test('park: a parked job ends with done() (once), freeing its place without taking a slot; resume() after it does nothing', () => {
  const log: number[] = [];
  const q = new JobQueue({ maxRunning: 1, maxWaiting: 2 });
  const [a, b, c] = jobs(3, log);
  for (const j of [a, b, c]) q.admit(j!);
  q.park(a!);
  q.park(b!);
  assert.deepEqual(log, [0, 1, 2]);
  q.resume(b!); // in line for the slot c holds
  assert.equal(q.done(b!), true, 'cancelled while in line');
  assert.equal(q.done(b!), false);
  assert.equal(q.done(a!), true, 'cancelled while parked');
  q.resume(a!);
  assert.equal(q.stats.parked, 0);
  q.done(c!);
  assert.deepEqual(log, [0, 1, 2], 'neither started again');
  assert.deepEqual(q.stats, { running: 0, waiting: 0, rejected: 0, completed: 3, cancelled: 0, fairDropped: 0, parked: 0, maxRunning: 1, maxWaiting: 2 });
});

test('park: at most maxWaiting parked; when full onFull is offered the parked jobs, and one it ends makes room', () => {
  const log: number[] = [];
  let offered: Job[] = [];
  let shed: Job | null = null;
  const q = new JobQueue({
    maxRunning: 1,
    maxWaiting: 2,
    onFull: (list, n) => {
      offered = list.slice(0, n) as Job[];
      if (shed !== null) q.done(shed);
    },
  });
  const [a, b, c, d] = jobs(4, log);
  q.admit(a!);
  q.park(a!);
  q.admit(b!);
  q.park(b!);
  q.admit(c!);
  assert.deepEqual([offered.length, q.stats.parked], [0, 2], 'not asked while there is room');
  assert.equal(q.park(c!), false, 'full and nothing ended: c keeps its slot');
  assert.deepEqual(offered.map((j) => j.id).sort(), [0, 1]);
  assert.equal(q.isRunning(c!), true);
  assert.equal(q.admit(d!), 'queued');
  shed = a!;
  assert.equal(q.park(c!), true, 'a ended: c parks, d runs');
  assert.deepEqual(log, [0, 1, 2, 3]);
  assert.deepEqual([q.running, q.stats.parked, q.stats.completed], [1, 2, 1]);
  // maxWaiting 0: never parks.
  const q0 = new JobQueue({ maxRunning: 1, maxWaiting: 0 });
  const x = new Job(9, []);
  q0.admit(x);
  assert.equal(q0.park(x), false);
  // A job that is not running (waiting, or never admitted) is not parked, and onFull is not asked.
  offered = [];
  assert.equal(q.park(new Job(10, [])), false);
  assert.equal(offered.length, 0);
});

test('property: random admit/done/cancel/park/resume sequences match a simple model', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rand = prng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const maxRunning = 1 + Math.floor(rand() * 3);
    const maxWaiting = Math.floor(rand() * 5);
    const log: number[] = [];
    const ctx = `seed ${seed}`;
    // The model: running, waiting (FIFO), parked (a set), resuming (FIFO, a subset of parked).
    const mRunning: Job[] = [];
    const mWaiting: Job[] = [];
    const mParked: Job[] = [];
    const mResuming: Job[] = [];
    const mLog: number[] = [];
    const m = { rejected: 0, completed: 0, cancelled: 0 };
    const all: Job[] = [];
    let shedOnFull = false;
    let offer: number[] = []; // the parked jobs' ids before the model's step
    const drop = (xs: Job[], j: Job): boolean => {
      const i = xs.indexOf(j);
      if (i >= 0) xs.splice(i, 1);
      return i >= 0;
    };
    const mDrain = (): void => {
      while (mRunning.length < maxRunning) {
        const j = mResuming.length > 0 ? mResuming.shift()! : mWaiting.shift();
        if (j === undefined) break;
        drop(mParked, j);
        mRunning.push(j);
        mLog.push(j.id);
      }
    };
    const mDone = (j: Job): boolean => {
      if (!drop(mRunning, j) && !drop(mParked, j)) return false;
      drop(mResuming, j);
      m.completed++;
      mDrain();
      return true;
    };
    // onFull on park(): when told to, ends the parked job with the lowest id (the model does the same).
    const q = new JobQueue({
      maxRunning,
      maxWaiting,
      onFull: (list, n) => {
        if (!shedOnFull || n === 0) return;
        const ids = list.slice(0, n).map((j) => (j as Job).id);
        assert.deepEqual([...ids].sort((x, y) => x - y), offer, ctx);
        q.done(all[Math.min(...ids)]!);
      },
    });
    for (let step = 0; step < 400; step++) {
      const r = rand();
      if (r < 0.3) {
        // An owner per job (its held count is 1 while the queue holds it) keeps the drain order FIFO;
        // fair shares have their own tests above.
        const j = new Job(all.length, log);
        (j as Job & { owner: QueueOwner }).owner = {};
        all.push(j);
        let expected: string;
        if (mWaiting.length === 0 && mRunning.length < maxRunning && mResuming.length === 0) {
          expected = 'run';
          mRunning.push(j);
          mLog.push(j.id);
        } else if (mWaiting.length < maxWaiting) {
          expected = 'queued';
          mWaiting.push(j);
        } else {
          expected = 'rejected';
          m.rejected++;
        }
        assert.equal(q.admit(j), expected, ctx);
      } else if (r < 0.5) {
        if (all.length === 0) continue;
        const j = rand() < 0.7 && mParked.length > 0 ? pick(mParked) : rand() < 0.8 && mRunning.length > 0 ? pick(mRunning) : pick(all);
        const expected = mDone(j);
        assert.equal(q.done(j), expected, ctx);
      } else if (r < 0.6) {
        if (all.length === 0) continue;
        const j = rand() < 0.8 && mWaiting.length > 0 ? pick(mWaiting) : pick(all);
        const expected = drop(mWaiting, j);
        if (expected) m.cancelled++;
        assert.equal(q.cancel(j), expected, ctx);
      } else if (r < 0.8) {
        if (all.length === 0) continue;
        const j = rand() < 0.9 && mRunning.length > 0 ? pick(mRunning) : pick(all);
        shedOnFull = rand() < 0.5;
        offer = mParked.map((x) => x.id).sort((x, y) => x - y);
        let expected = false;
        if (mRunning.includes(j)) {
          if (mParked.length >= maxWaiting && shedOnFull && mParked.length > 0) {
            mDone(mParked.reduce((x, y) => (y.id < x.id ? y : x)));
          }
          if (mParked.length < maxWaiting) {
            expected = true;
            drop(mRunning, j);
            mParked.push(j);
            mDrain();
          }
        }
        assert.equal(q.park(j), expected, ctx);
        shedOnFull = false; // admit() asks onFull too, about running jobs: not a park.
      } else {
        if (all.length === 0) continue;
        const j = rand() < 0.9 && mParked.length > 0 ? pick(mParked) : pick(all);
        if (mParked.includes(j) && !mResuming.includes(j)) {
          mResuming.push(j);
          mDrain();
        }
        q.resume(j);
      }
      assert.deepEqual(log, mLog, ctx);
      assert.deepEqual(
        q.stats,
        { running: mRunning.length, waiting: mWaiting.length, ...m, fairDropped: 0, parked: mParked.length, maxRunning, maxWaiting },
        ctx,
      );
      for (const j of mRunning) assert.ok(q.isRunning(j), ctx);
      for (const j of mWaiting) assert.ok(q.isWaiting(j), ctx);
      for (const j of mParked) assert.ok(!q.isRunning(j) && !q.isWaiting(j), ctx);
      // Bounds: started and not done <= maxRunning + maxWaiting; shares count parked jobs.
      assert.ok(mParked.length <= maxWaiting && mRunning.length <= maxRunning, ctx);
      const held = new Set([...mRunning, ...mWaiting, ...mParked]);
      for (const j of all) assert.equal((j as Job & { owner: QueueOwner }).owner.held ?? 0, held.has(j) ? 1 : 0, ctx);
    }
    for (const j of all) {
      q.cancel(j);
      q.done(j);
    }
    for (const j of all) assert.equal((j as Job & { owner: QueueOwner }).owner.held ?? 0, 0, ctx);
    assert.deepEqual([q.running, q.waiting, q.stats.parked], [0, 0, 0], ctx);
  }
});
