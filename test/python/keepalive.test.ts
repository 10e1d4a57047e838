// Keepalive, the ping policy and connection age (src/http2/keepalive.ts) against python3-grpcio
// (gRPC C core), driven by test/python/keepalive_client.py. A client keepalive of 1 s stands for
// one of 10 s against a policy scaled x0.1 (500 ms for the profiles' 5 s), as in
// test/server/keepalive.test.ts; C core pings at most once a second, so the 1 s client that must be
// struck meets the default policy itself. Skipped with the reason when /usr/bin/python3 cannot
// import grpc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Msg } from '../grpc/helpers.js';
import type { ServerWriter } from '../../src/index.js';
import { runPythonClient, skip } from './python.js';

const POLICY = { minPingIntervalMs: 500 };
const echo = {
  Unary: (req: Msg) => ({ text: req.text }) as Msg,
  ServerStream: async (req: Msg, call: ServerWriter<Msg>) => {
    for (let i = 0; i < req.count; i++) await call.write({ text: `${req.text}${i}` } as Msg);
  },
};

interface Result {
  ok: number;
  failed: string[];
  goaways: number;
}

async function client(args: (string | number)[]): Promise<Result> {
  return JSON.parse(await runPythonClient('keepalive_client.py', args.map(String), 'keepalive_client.py')) as Result;
}

test('grpcio keepalive every 1 s (10 s scaled), without calls too: never too_many_pings', { skip }, async () => {
  const h = await startHarness(echo, { http2: POLICY });
  try {
    // one call, then 4 s of keepalive PINGs alone: the channel stays READY
    const r = await client([h.port, 'ping', 1000, 1, 4]);
    assert.deepEqual(r, { ok: 1, failed: [], goaways: 0 });
    assert.equal(h.server.stats.tooManyPings, 0);
  } finally {
    await h.close();
  }
});

test('grpcio keepalive every 1 s against the default policy (5 s): too_many_pings, and grpcio goes on working', { skip }, async () => {
  // C core sends at most one PING a second, so this one is not scaled: the host-x64 profile's own policy.
  const h = await startHarness(echo);
  try {
    // one call, then PINGs at 1 s: the first is free, the next three are strikes, the third one
    // too many: GOAWAY after about 4 s; then a call on a new connection
    const r = await client([h.port, 'ping', 1000, 1, 8]);
    assert.deepEqual(r, { ok: 2, failed: [], goaways: 1 });
    assert.equal(h.server.stats.tooManyPings, 1);
  } finally {
    await h.close();
  }
});

test('connection age: grpcio calling unary and a server stream in a loop sees no failed call across several rotations', { skip }, async () => {
  const h = await startHarness(echo, { http2: { maxConnectionAgeMs: 300, maxConnectionAgeGraceMs: 5000 } });
  try {
    const r = await client([h.port, 'rotate', 4, 3]);
    assert.deepEqual(r.failed, []);
    assert.ok(r.ok >= 5, `${r.ok} rounds`);
    assert.ok(h.server.stats.ageGoaways >= 3, `${h.server.stats.ageGoaways} rotations`);
    assert.equal(h.server.stats.ageGraceCloses, 0);
  } finally {
    await h.close();
  }
});
