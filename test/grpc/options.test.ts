// Server options: the target profile supplies defaults, explicit options win, bad ones fail at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, getProfile } from '../../src/index.js';

test('profile limits are the defaults; explicit options override them', async () => {
  const pi = getProfile('pi-zero-2w').server;
  const a = new Server({ profile: 'pi-zero-2w' });
  assert.equal(a.stats.maxRunning, pi.maxRunning);
  assert.equal(a.stats.maxWaiting, pi.maxWaiting);
  const b = new Server({ profile: 'pi-zero-2w', maxRunning: 7, maxWaiting: 0 });
  assert.equal(b.stats.maxRunning, 7);
  assert.equal(b.stats.maxWaiting, 0);
  assert.equal(b.stats.connections, 0);
  assert.throws(() => new Server({ profile: 'no-such-board' }), /unknown target profile "no-such-board"/);
  assert.throws(() => new Server({ maxRunning: 0 }), /maxRunning/);
  assert.throws(() => new Server({ compression: 'snappy' as never }), /unsupported compression/);
  // A bad grace period is refused (and does not start stopping); stop() on a server that never
  // bound resolves at once.
  await assert.rejects(a.stop(NaN), /graceMs must be a number/);
  await assert.rejects(a.stop(-1), /graceMs must be a number/);
  await assert.rejects(a.stop('5000' as never), /graceMs must be a number/);
  a.addService({ name: 'x.Z', methods: {} }, {}); // not stopping
  await a.stop();
  b.forceShutdown();
  await b.terminated;
  assert.throws(() => a.addService({ name: 'x.Y', methods: {} }, {}), /stopping/);
  await assert.rejects(a.bind('127.0.0.1:0'), /stopping/);
});

test('bad option values fail at construction with a message naming the option', () => {
  const bad: [object, RegExp][] = [
    [{ maxRunning: -1 }, /maxRunning/],
    [{ maxWaiting: -1 }, /maxWaiting/],
    [{ maxRunning: 1.5 }, /maxRunning/],
    [{ maxReceiveMessageLength: -1 }, /maxReceiveMessageLength must be an integer >= 0/],
    [{ maxReceiveMessageLength: NaN }, /maxReceiveMessageLength/],
    [{ maxSendMessageLength: -5 }, /maxSendMessageLength/],
    [{ maxSendMessageLength: '4MB' }, /maxSendMessageLength/],
    [{ interceptors: () => {} }, /interceptors must be an array/],
    [{ interceptors: ['x'] }, /interceptors must be functions/],
    [{ requireTeTrailers: 'yes' }, /requireTeTrailers must be a boolean/],
    [{ reclaimMemory: 1 }, /reclaimMemory must be a boolean/],
    [{ onHandlerError: 5 }, /onHandlerError must be a function/],
    [{ profile: 7 }, /profile must be a string/],
    [{ maxRuning: 4 }, /unknown option "maxRuning"/],
    // HTTP/2 limits are range-checked now, not when the first client connects.
    [{ http2: { maxFrameSize: 1 } }, /Http2Options.maxFrameSize/],
    [{ http2: { initialWindowSize: -1 } }, /Http2Options.initialWindowSize/],
    [{ http2: { maxFramesize: 16384 } }, /unknown http2 option "maxFramesize"/],
  ];
  for (const [opts, re] of bad) assert.throws(() => new Server(opts as never), re, JSON.stringify(opts));
  // Fine: Infinity as "no limit", keys left undefined (spread from a caller's own options).
  for (const opts of [{ maxReceiveMessageLength: Infinity, maxSendMessageLength: 0 }, { maxRunning: undefined, http2: { maxFrameSize: undefined } }]) {
    new Server(opts).forceShutdown();
  }
});
