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
  // stop() on a server that never bound resolves at once.
  await a.stop();
  b.forceShutdown();
  await b.terminated;
  assert.throws(() => a.addService({ name: 'x.Y', methods: {} }, {}), /stopping/);
  await assert.rejects(a.bind('127.0.0.1:0'), /stopping/);
});
