// Every board profile is complete, matches its targets/<name>.json, and is sized consistently:
// bigger boards never get smaller limits, windows fit HTTP/2's rules, and the queue's worst-case
// buffered messages fit in the V8 heap the profile's flags allow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fromRoot } from '../support/paths.js';
import {
  DEFAULT_PROFILE_NAME,
  defaultProfileName,
  getProfile,
  profileNames,
  resolveProfile,
  type TargetProfile,
} from '../../src/server/profile.js';
import { DEFAULT_HTTP2_OPTIONS } from '../../src/http2/settings.js';

const BOARDS_SMALL_TO_BIG = ['pi-zero-2w', 'pi3b', 'pi4b', 'pi5', 'host-x64'];
const SERVER_KEYS = [
  'maxRunning',
  'maxWaiting',
  'maxConcurrentStreams',
  'initialWindowSize',
  'connectionWindowSize',
  'maxFrameSize',
  'maxHeaderListSize',
  'maxReceiveMessageLength',
  'maxSendMessageLength',
  'maxConnectionIdleMs',
  'handshakeTimeoutMs',
  'maxConnections',
  'keepaliveTimeMs',
  'keepaliveTimeoutMs',
  'minPingIntervalMs',
  'maxConnectionAgeMs',
  'maxConnectionAgeGraceMs',
  'sendStallTimeoutMs',
] as const;

/**
 * The limits new Server takes as its own options; every other one is an Http2Options of the same name
 * (src/server/server.ts passes the profile's limits that are HTTP/2 options to the connections).
 */
const SERVER_OPTION_LIMITS = ['maxRunning', 'maxWaiting', 'maxReceiveMessageLength', 'maxSendMessageLength', 'maxConnections'];

test('every server limit of a profile is used: a server option, or an HTTP/2 option of the same name', () => {
  for (const k of SERVER_KEYS) {
    assert.notEqual(SERVER_OPTION_LIMITS.includes(k), k in DEFAULT_HTTP2_OPTIONS, `${k}: exactly one of the two`);
  }
});

/** Limits where 0 means "off" (no connection age, no limit on its grace). */
const ZERO_IS_OFF = new Set<string>(['maxConnectionAgeMs', 'maxConnectionAgeGraceMs']);

const jsonFiles = readdirSync(fromRoot('targets')).filter((f) => f.endsWith('.json')).sort();
const fromJson = (file: string): TargetProfile => JSON.parse(readFileSync(fromRoot('targets', file), 'utf8'));

function flagValue(p: TargetProfile, flag: string): number {
  const hit = p.node.flags.find((f) => f.startsWith(flag + '='));
  assert.ok(hit, `${p.name}: node.flags lacks ${flag}=N`);
  const n = Number(hit.slice(flag.length + 1));
  assert.ok(Number.isInteger(n) && n > 0, `${p.name}: ${hit} is not a positive integer`);
  return n;
}

test('one JSON file per board, and profileNames() lists exactly those', () => {
  assert.deepEqual(jsonFiles.map((f) => f.replace(/\.json$/, '')), [...BOARDS_SMALL_TO_BIG].sort());
  assert.deepEqual(profileNames(), [...BOARDS_SMALL_TO_BIG].sort());
});

test('src/server/profile.ts holds exactly what targets/*.json say (run build.mjs --sync-profiles)', () => {
  for (const f of jsonFiles) {
    const j = fromJson(f);
    assert.equal(j.name, f.replace(/\.json$/, ''), `${f}: name differs from the file name`);
    assert.deepEqual(getProfile(j.name), j);
  }
});

test('every profile is complete and well-typed', () => {
  for (const name of profileNames()) {
    const p = getProfile(name);
    assert.deepEqual(Object.keys(p).sort(), ['arch', 'bundleBudgetKB', 'description', 'memoryBudgetMB', 'name', 'node', 'server']);
    assert.ok(p.description.length > 10, `${name}: description`);
    assert.ok(['arm', 'arm64', 'x64'].includes(p.arch), `${name}: arch`);
    assert.deepEqual(Object.keys(p.node).sort(), ['esbuildTarget', 'flags', 'versions']);
    assert.deepEqual(Object.keys(p.server).sort(), [...SERVER_KEYS].sort());
    for (const k of SERVER_KEYS) {
      const min = ZERO_IS_OFF.has(k) ? 0 : 1;
      assert.ok(Number.isSafeInteger(p.server[k]) && p.server[k] >= min, `${name}: server.${k} = ${p.server[k]}`);
    }
    assert.ok(Number.isInteger(p.memoryBudgetMB) && p.memoryBudgetMB > 0);
    assert.ok(Number.isInteger(p.bundleBudgetKB) && p.bundleBudgetKB > 0);
  }
});

test('Node versions and esbuild target agree with what each architecture can run', () => {
  for (const name of profileNames()) {
    const p = getProfile(name);
    const majors = p.node.versions.map(Number);
    assert.ok(majors.length > 0 && majors.every((v) => Number.isInteger(v) && v >= 18 && v % 2 === 0), `${name}: LTS majors >= 18`);
    assert.deepEqual(majors, [...majors].sort((a, b) => a - b), `${name}: versions oldest first`);
    assert.equal(p.node.esbuildTarget, `node${p.node.versions[0]}`, `${name}: bundle for the oldest supported Node`);
    // package.json says engines.node >= 18: every board must run Node 18.
    assert.equal(p.node.versions[0], '18', `${name}: Node 18 supported`);
    if (p.arch === 'arm') {
      // Node 24 ships no official armv7l build, and NodeSource stopped armhf packages during 22.x.
      assert.ok(majors.every((v) => v <= 22), `${name}: no armv7l Node past 22`);
    }
  }
});

test('memory flags hold the heap inside the memory budget', () => {
  for (const name of profileNames()) {
    const p = getProfile(name);
    const oldSpace = flagValue(p, '--max-old-space-size');
    const semi = flagValue(p, '--max-semi-space-size');
    assert.ok(oldSpace < p.memoryBudgetMB, `${name}: old space ${oldSpace} MB < budget ${p.memoryBudgetMB} MB`);
    // Young generation is about 3 semi-spaces; leave room for code, stacks and buffers.
    assert.ok(oldSpace + 3 * semi <= p.memoryBudgetMB * 0.8, `${name}: heap leaves 20% of the budget to the rest`);
    assert.ok(semi <= 64);
    for (const f of p.node.flags) assert.match(f, /^--[a-z][a-z0-9-]*(=\d+)?$/, `${name}: flag ${f}`);
    // The reclaim takes gc() in-process (src/server/builtins.ts v8gc): --expose-gc would only put a
    // global gc() in the application, and Node 20.11 refuses it in NODE_OPTIONS (the SEA unit's).
    assert.ok(!p.node.flags.includes('--expose-gc'), `${name}: no --expose-gc`);
    // Worst case the queue holds one full-size request per running and waiting call.
    const queued = (p.server.maxRunning + p.server.maxWaiting) * p.server.maxReceiveMessageLength;
    assert.ok(queued <= oldSpace * 1024 * 1024, `${name}: ${queued} queued bytes fit the old space`);
  }
});

test('HTTP/2 and gRPC limits are legal and consistent', () => {
  for (const name of profileNames()) {
    const s = getProfile(name).server;
    // RFC 9113 6.5.2: "Values above the maximum flow-control window size of 2^31-1 MUST be treated as a
    // connection error"; "The initial value is 2^14 (16,384) octets. [...] Values outside this range
    // (2^14 to 2^24-1) MUST be treated as a connection error".
    assert.ok(s.initialWindowSize <= 2 ** 31 - 1);
    assert.ok(s.connectionWindowSize <= 2 ** 31 - 1);
    assert.ok(s.maxFrameSize >= 2 ** 14 && s.maxFrameSize <= 2 ** 24 - 1);
    // The connection window starts at 65,535 and can only grow by WINDOW_UPDATE.
    assert.ok(s.connectionWindowSize >= 65535, `${name}: connection window >= 65535`);
    assert.ok(s.connectionWindowSize >= s.initialWindowSize, `${name}: connection window >= stream window`);
    // A request of the largest allowed size plus its 5-byte prefix must be able to arrive.
    assert.ok(s.maxReceiveMessageLength >= s.initialWindowSize - 5 || s.maxReceiveMessageLength >= 65536);
    assert.ok(s.maxConcurrentStreams >= s.maxRunning, `${name}: every running slot can have a stream`);
    assert.ok(s.maxWaiting >= s.maxRunning, `${name}: a wait queue at least as long as the running slots`);
    assert.ok(s.maxHeaderListSize >= 4096, `${name}: room for ordinary gRPC metadata`);
    assert.ok(s.handshakeTimeoutMs < s.maxConnectionIdleMs, `${name}: handshake timeout < idle timeout`);
    // Calls alone cannot fill the connection cap (every admitted call holds a queue slot), so an
    // honest client finds an idle connection to evict unless responses are left unread.
    assert.ok(s.maxConnections > s.maxRunning + s.maxWaiting, `${name}: maxConnections > queue slots`);
  }
});

test('a bigger board never gets smaller limits or budgets than a smaller one', () => {
  for (let i = 1; i < BOARDS_SMALL_TO_BIG.length; i++) {
    const small = getProfile(BOARDS_SMALL_TO_BIG[i - 1]!);
    const big = getProfile(BOARDS_SMALL_TO_BIG[i]!);
    for (const k of SERVER_KEYS) {
      assert.ok(big.server[k] >= small.server[k], `${big.name}.server.${k} ${big.server[k]} < ${small.name}'s ${small.server[k]}`);
    }
    assert.ok(big.memoryBudgetMB > small.memoryBudgetMB);
    assert.ok(flagValue(big, '--max-old-space-size') >= flagValue(small, '--max-old-space-size'));
  }
  // The Zero 2 W is the one that has to be small.
  const zero = getProfile('pi-zero-2w');
  assert.ok(zero.memoryBudgetMB <= 160 && zero.server.initialWindowSize <= 65535 && zero.server.maxRunning <= 4);
});

test('getProfile throws a clear error on unknown names; profiles are frozen', () => {
  assert.throws(() => getProfile('pi6'), (e: unknown) => e instanceof Error && /unknown target profile "pi6"/.test(e.message) && e.message.includes('pi-zero-2w'));
  assert.throws(() => getProfile('toString'), /unknown target profile/);
  const p = getProfile('pi4b');
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.server) && Object.isFrozen(p.node.flags));
  assert.throws(() => {
    (p.server as { maxRunning: number }).maxRunning = 1000;
  }, TypeError);
});

test('default profile: GRPC_EDGE_TARGET, then the bundle-baked name, then host-x64', () => {
  const saved = { t: process.env.GRPC_EDGE_TARGET, b: process.env.GRPC_EDGE_BUNDLE_TARGET };
  try {
    delete process.env.GRPC_EDGE_TARGET;
    delete process.env.GRPC_EDGE_BUNDLE_TARGET;
    assert.equal(DEFAULT_PROFILE_NAME, 'host-x64');
    assert.equal(defaultProfileName(), 'host-x64');
    process.env.GRPC_EDGE_BUNDLE_TARGET = 'pi3b';
    assert.equal(resolveProfile().name, 'pi3b');
    process.env.GRPC_EDGE_TARGET = 'pi5';
    assert.equal(resolveProfile().name, 'pi5');
    assert.equal(resolveProfile('pi-zero-2w').name, 'pi-zero-2w');
    process.env.GRPC_EDGE_TARGET = 'nope';
    assert.throws(() => resolveProfile(), /unknown target profile "nope"/);
  } finally {
    if (saved.t === undefined) delete process.env.GRPC_EDGE_TARGET;
    else process.env.GRPC_EDGE_TARGET = saved.t;
    if (saved.b === undefined) delete process.env.GRPC_EDGE_BUNDLE_TARGET;
    else process.env.GRPC_EDGE_BUNDLE_TARGET = saved.b;
  }
});
