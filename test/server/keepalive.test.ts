// Keepalive, the client ping policy, idle and connection age (src/http2/keepalive.ts) against
// grpc-js. The policies are scaled down (x0.1) so the tests run in seconds: a server with a
// 500 ms minPingIntervalMs stands for the profiles' 5 s one, a grpc-js client pinging every 1 s
// for one pinging every 10 s, and one pinging every 100 ms for one pinging every 1 s. The profiles'
// own values are checked to keep those ratios.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Server } from '../../src/index.js';
import { DEFAULT_HTTP2_OPTIONS } from '../../src/http2/settings.js';
import { getProfile, profileNames } from '../../src/server/profile.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { FrameType } from '../../src/http2/frame/constants.js';
import { H2Client } from '../support/h2-client.js';
import { collect, grpc, startHarness, unary, until, type Msg } from '../grpc/helpers.js';
import type { CallContext, ServerWriter } from '../../src/index.js';

const SCALE = 0.1;
/** The profiles' ping policy, scaled. */
const POLICY = { minPingIntervalMs: 5000 * SCALE };

const echo = {
  Unary: (req: Msg) => ({ text: req.text }) as Msg,
  ServerStream: async (req: Msg, call: ServerWriter<Msg>) => {
    for (let i = 0; i < req.count; i++) await call.write({ text: `${req.text}${i}` } as Msg);
  },
};

test('the profiles: a 10 s client keepalive is allowed with room to spare, a 1 s one is not; the server pings', () => {
  assert.equal(DEFAULT_HTTP2_OPTIONS.permitKeepaliveWithoutCalls, true);
  assert.equal(DEFAULT_HTTP2_OPTIONS.maxPingStrikes, 2, "grpc-go's and grpc-core's 2 strikes");
  for (const name of profileNames()) {
    const s = getProfile(name).server;
    // what the scaled tests below stand for
    assert.equal(s.minPingIntervalMs, POLICY.minPingIntervalMs / SCALE, name);
    assert.ok(s.minPingIntervalMs <= 10_000 / 2, `${name}: a 10 s keepalive (arrivals jittered) is never a strike`);
    assert.ok(s.minPingIntervalMs > 1000, `${name}: a 1 s keepalive is`);
    assert.ok(s.keepaliveTimeMs >= s.minPingIntervalMs && s.keepaliveTimeoutMs > 0 && s.keepaliveTimeoutMs < s.keepaliveTimeMs, name);
    assert.ok(s.keepaliveTimeMs + s.keepaliveTimeoutMs < s.maxConnectionIdleMs, `${name}: a dead peer is found before the idle GOAWAY`);
  }
});

test('keepalive options are checked at new Server', () => {
  for (const [k, v] of [
    ['keepaliveTimeMs', -1],
    ['keepaliveTimeoutMs', 0],
    ['minPingIntervalMs', 1.5],
    ['maxPingStrikes', -1],
    ['maxConnectionIdleMs', 2 ** 31],
    ['maxConnectionAgeMs', NaN],
    ['maxConnectionAgeGraceMs', -5],
  ] as const) {
    assert.throws(() => new Server({ http2: { [k]: v } }), new RegExp(`Http2Options.${k} must be an integer`), k);
  }
  assert.throws(() => new Server({ http2: { permitKeepaliveWithoutCalls: 1 as unknown as boolean } }), /permitKeepaliveWithoutCalls must be a boolean/);
  assert.throws(() => new Server({ http2: { idleTimeoutMs: 1 } as object }), /unknown http2 option "idleTimeoutMs"/);
  const stats = new Server({ http2: { keepaliveTimeMs: 1000, maxConnectionAgeMs: 1000 } }).stats;
  assert.deepEqual(
    [stats.keepaliveTimeouts, stats.tooManyPings, stats.idleGoaways, stats.ageGoaways, stats.ageGraceCloses],
    [0, 0, 0, 0, 0],
  );
});

test('grpc-js keepalive every 1 s (10 s scaled), without calls too: never too_many_pings, one connection throughout', async () => {
  const h = await startHarness(echo, { http2: POLICY }, {
    clientOptions: { 'grpc.keepalive_time_ms': 1000, 'grpc.keepalive_timeout_ms': 20000, 'grpc.keepalive_permit_without_calls': 1 },
  });
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'a' })).text, 'a');
    await delay(4500); // four or so pings with no call open
    assert.equal((await unary(h.client, 'Unary', { text: 'b' })).text, 'b');
    assert.equal(h.server.stats.tooManyPings, 0);
    assert.equal(h.server.stats.connections, 1);
    assert.equal(h.client.getChannel().getConnectivityState(false), grpc.connectivityState.READY);
  } finally {
    await h.close();
  }
});

/** Resolves true once the channel leaves READY (a GOAWAY read), false when it is still READY after `ms`. */
function leavesReady(client: any, ms: number): Promise<boolean> {
  const ch = client.getChannel();
  return new Promise((resolve) => {
    if (ch.getConnectivityState(false) !== grpc.connectivityState.READY) return resolve(true);
    ch.watchConnectivityState(grpc.connectivityState.READY, Date.now() + ms, (err?: Error) => resolve(err === undefined));
  });
}

test('grpc-js keepalive every 100 ms (1 s scaled): GOAWAY(ENHANCE_YOUR_CALM, too_many_pings), grpc-js slows down and goes on working', async () => {
  const h = await startHarness(echo, { http2: POLICY }, {
    clientOptions: { 'grpc.keepalive_time_ms': 100, 'grpc.keepalive_timeout_ms': 20000, 'grpc.keepalive_permit_without_calls': 1 },
  });
  try {
    // A call (re)connects; then only keepalive PINGs, until the server's GOAWAY or 2.5 s of quiet.
    // grpc-js doubles its keepalive time at each too_many_pings: 100, 200 and 400 ms are struck,
    // 800 ms is not, so the GOAWAYs stop, and every call succeeds.
    let goaways = 0;
    for (let round = 0; round < 8; round++) {
      assert.equal((await unary(h.client, 'Unary', { text: `r${round}` })).text, `r${round}`);
      if (!(await leavesReady(h.client, 2500))) break;
      goaways++;
      await until(() => h.server.stats.tooManyPings === goaways, `too_many_pings ${goaways}`);
    }
    assert.ok(goaways >= 1 && goaways <= 4, `${goaways} too_many_pings GOAWAYs before grpc-js settled`);
    assert.equal(h.client.getChannel().getConnectivityState(false), grpc.connectivityState.READY);
    assert.equal((await unary(h.client, 'Unary', { text: 'last' })).text, 'last');
    assert.equal(h.server.stats.tooManyPings, goaways);
  } finally {
    await h.close();
  }
});

test('the GOAWAY is ENHANCE_YOUR_CALM with debug data "too_many_pings"; a response sent clears the strikes', async () => {
  const h = await startHarness(echo, { http2: { minPingIntervalMs: 60_000 } });
  const c = await H2Client.connect(h.port);
  try {
    const ping = (i: number) => c.ping(Buffer.alloc(8, i));
    ping(1); // first: no strike
    ping(2); // strike 1
    ping(3); // strike 2
    await c.expectFrame(FrameType.PING, (f) => f.ack && f.data[0] === 3);
    // a response (HEADERS sent) clears them, as grpc-go and grpc-core do
    c.get(1);
    await c.expectStatusOrRst(1);
    ping(4); // no strike
    ping(5); // strike 1
    ping(6); // strike 2
    await c.expectFrame(FrameType.PING, (f) => f.ack && f.data[0] === 6);
    assert.ok(!c.frames.some((f) => f.type === FrameType.GOAWAY));
    ping(7); // strike 3: one too many
    const g = await c.expectGoaway(ErrorCode.ENHANCE_YOUR_CALM);
    assert.equal(g.debug.toString(), 'too_many_pings');
    await c.expectClosed();
    assert.equal(h.server.stats.tooManyPings, 1);
  } finally {
    c.close();
    await h.close();
  }
});

test('maxConnectionIdleMs: a connection with no call gets the graceful GOAWAY; grpc-js reconnects for the next call', async () => {
  const h = await startHarness(echo, { http2: { maxConnectionIdleMs: 300 } });
  try {
    assert.equal((await unary(h.client, 'Unary', { text: 'a' })).text, 'a');
    await until(() => h.server.stats.idleGoaways === 1 && h.server.stats.connections === 0, 'the idle connection closed');
    assert.equal((await unary(h.client, 'Unary', { text: 'b' })).text, 'b');
  } finally {
    await h.close();
  }
});

test('connection age: grpc-js calling unary and a server stream in a loop sees no failed call across several rotations', async () => {
  const h = await startHarness(echo, { http2: { maxConnectionAgeMs: 300, maxConnectionAgeGraceMs: 5000 } });
  let ok = 0;
  const failures: string[] = [];
  // until 5 rotations and 6 rounds (a few seconds), or 40 s on a starved machine: on a loaded machine
  // the 300 ms rotations can outpace the calls, so both counts are waited for, not just the rotations
  const stop = Date.now() + 40_000;
  const loop = async (n: number) => {
    for (let i = 0; (h.server.stats.ageGoaways < 5 || ok < 6) && Date.now() < stop; i++) {
      try {
        assert.equal((await unary(h.client, 'Unary', { text: `u${n}.${i}` })).text, `u${n}.${i}`);
        const r = await collect(h.client.ServerStream({ text: 's', count: 20 }));
        if (r.error !== null) throw r.error;
        assert.equal(r.messages.length, 20);
        ok++;
      } catch (e) {
        failures.push(String(e));
      }
    }
  };
  try {
    await Promise.all([loop(0), loop(1), loop(2)]);
    assert.deepEqual(failures, []);
    assert.ok(ok >= 5, `${ok} rounds`);
    assert.ok(h.server.stats.ageGoaways >= 5, `${h.server.stats.ageGoaways} rotations`);
    assert.equal(h.server.stats.ageGraceCloses, 0);
  } finally {
    await h.close();
  }
});

test('connection age grace: a call still open when the grace runs out is cancelled (ctx.signal) and the connection closed', async () => {
  let aborted = false;
  const h = await startHarness(
    {
      ServerStream: async (_req: Msg, call: ServerWriter<Msg>, ctx: CallContext) => {
        await call.write({ text: 'first' } as Msg);
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        aborted = true;
      },
    },
    { http2: { maxConnectionAgeMs: 200, maxConnectionAgeGraceMs: 300 } },
  );
  try {
    const r = await collect(h.client.ServerStream({ text: 's', count: 1 }));
    assert.equal(r.messages.length, 1);
    assert.equal(r.error?.code, grpc.status.UNAVAILABLE);
    await until(() => aborted && h.server.stats.connections === 0 && h.server.stats.running === 0, 'the call cancelled, its slot freed');
    assert.equal(h.server.stats.ageGoaways, 1);
    assert.equal(h.server.stats.ageGraceCloses, 1);
  } finally {
    await h.close();
  }
});
