// The well-known types in the ProtoJSON mapping (src/web/json.ts, src/web/wkt.ts), against the
// canonical implementation: @bufbuild/protobuf's toJson / fromJson (protobuf-es), Google's own
// json_format (Debian's python3-protobuf, test/python/protojson_check.py), and real Connect and
// gRPC-Web clients (connect-web over HTTP/1.1, connect-node over HTTP/2) in JSON mode.
//
//   - the server's JSON for a message is exactly protobuf-es's toJson of the same message, and
//     protobuf-es's JSON reads back into the same message (checked through the binary form), for
//     random messages holding every well-known type (seeded; Timestamp and Duration edge cases:
//     years 1 and 9999, leap days, negative durations, nanos of 0/3/6/9 digits, the range ends);
//   - invalid JSON for each type is INVALID_ARGUMENT with a message that says what was expected;
//   - the descriptors made at build time (scripts/proto-gen.mjs) carry the google/protobuf types a
//     .proto imports, under either naming of google.protobuf.Value's fields.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, createFileRegistry, equals, fromBinary, fromJson, fromJsonString, toBinary, toJson, toJsonString } from '@bufbuild/protobuf';
import type { DescMessage, JsonValue, Message } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, anyPack } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import type { Transport } from '@connectrpc/connect';
import * as web from '@connectrpc/connect-web';
import * as node from '@connectrpc/connect-node';
import { fromRoot } from '../support/paths.js';
import { bufImage, cleanupImages } from './helpers.js';
import { GrpcError, Server, ServerCredentials, Status, loadServices, webProtocols } from '../../src/index.js';
import type { MessageCodec, ServerWriter } from '../../src/index.js';
import { jsonCodec } from '../../src/web/json.js';

after(cleanupImages);

const WKT_PROTO = fromRoot('test/web/fixtures/wkt.proto');

/** The protobufjs JSON descriptor of wkt.proto as `npm run proto` makes it (scripts/proto-gen.mjs). */
function generatedDescriptor(): any {
  const dir = mkdtempSync(join(tmpdir(), 'edge-wkt-'));
  try {
    execFileSync(process.execPath, [fromRoot('scripts/proto-gen.mjs'), WKT_PROTO, '--out', dir, '-I', fromRoot('protos')], { stdio: 'ignore' });
    return JSON.parse(readFileSync(join(dir, 'wkt.json'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const DESCRIPTOR = generatedDescriptor();

/**
 * The same descriptor with google.protobuf.Value's fields named as a struct.proto parsed with
 * keepCase names them (null_value...), where protobufjs's bundled copy says nullValue...
 */
function snakeValueDescriptor(): any {
  const d = structuredClone(DESCRIPTOR);
  const v = d.nested.google.nested.protobuf.nested.Value;
  const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
  v.fields = Object.fromEntries(Object.entries(v.fields).map(([k, f]) => [snake(k), f]));
  v.oneofs.kind.oneof = v.oneofs.kind.oneof.map(snake);
  return d;
}

// protobuf-es: the same file through `buf build` (buf's own copy of the well-known types).
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(bufImage(WKT_PROTO))));
const msg = (name: string): DescMessage => registry.getMessage(name) ?? assert.fail(`${name} not in the image`);
const Holder = msg('webtest.wkt.Holder');
const Reading = msg('webtest.wkt.Reading');
const G = (n: string): DescMessage => msg(`google.protobuf.${n}`);
const WktService = registry.getService('webtest.wkt.Wkt') ?? assert.fail('no service');

interface Codecs {
  json: MessageCodec<unknown>;
  binary: MessageCodec<unknown>;
}
function codecsOf(descriptor: object): Record<string, Codecs> {
  const svc = loadServices(descriptor)['webtest.wkt.Wkt']!;
  const out: Record<string, Codecs> = {};
  for (const m of Object.values(svc.methods)) {
    const type = (m.request as { type?: unknown }).type;
    out[(type as { fullName: string }).fullName.slice(1)] = { json: jsonCodec(type as never), binary: m.request };
  }
  return out;
}

// ---- random messages (seeded)

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const TS_MIN = -62135596800; // 0001-01-01T00:00:00Z
const TS_MAX = 253402300799; // 9999-12-31T23:59:59Z
const DUR_MAX = 315576000000;
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number => {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s);
  return t.getTime() / 1000;
};
// Leap days (2024, 2000, 1600, year 4), the days around them, the range ends, the epoch.
const TS_EDGES = [TS_MIN, TS_MAX, 0, -1, 1, utc(2024, 2, 29), utc(2024, 2, 29, 23, 59, 59), utc(2024, 3, 1), utc(2000, 2, 29, 12), utc(1600, 2, 29), utc(4, 2, 29), utc(1900, 3, 1), utc(1, 12, 31, 23, 59, 59), utc(9999, 1, 1)];

class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(0, a.length - 1)]!;
  }
  coin(p = 0.5): boolean {
    return this.r() < p;
  }
  nanos(): number {
    return this.pick([0, 0, this.int(1, 999) * 1e6, this.int(1, 999_999) * 1e3, this.int(0, 999_999_999), 999_999_999, 1, 500_000_000]);
  }
  timestamp(): { seconds: bigint; nanos: number } {
    const s = this.coin(0.4) ? this.pick(TS_EDGES) : this.int(TS_MIN, TS_MAX);
    return { seconds: BigInt(s), nanos: this.nanos() };
  }
  duration(): { seconds: bigint; nanos: number } {
    const s = this.pick([this.int(-DUR_MAX, DUR_MAX), 0, 0, DUR_MAX, -DUR_MAX, this.int(-100, 100)]);
    const n = this.nanos();
    const neg = s < 0 || (s === 0 && this.coin());
    return { seconds: BigInt(s), nanos: neg ? -n : n };
  }
  string(): string {
    return this.pick(['', 'a', 'pi zero', 'quote " back \\ slash', 'tab\tnl\n', 'é€𝄞 emoji 🍓', '\u0000\u001f', String(this.int(0, 1e9))]);
  }
  number(): number {
    return this.pick([0, 1, -1, 0.5, this.int(-1e9, 1e9), (this.r() - 0.5) * 1e300, this.r() * 1e-300, 5e-324, Number.MAX_VALUE, 2 ** 53 + 2, 0.1]);
  }
  json(depth = 0): JsonValue {
    switch (this.int(0, depth > 3 ? 3 : 5)) {
      case 0: return null;
      case 1: return this.number();
      case 2: return this.string();
      case 3: return this.coin();
      case 4: return Array.from({ length: this.int(0, 3) }, () => this.json(depth + 1));
      default: return this.object(depth + 1);
    }
  }
  object(depth = 0): { [k: string]: JsonValue } {
    const o: { [k: string]: JsonValue } = {};
    for (let i = this.int(0, 3); i > 0; i--) o[this.pick(['a', 'b', 'snake_key', 'camelKey', '', 'ünï', '1'])] = this.json(depth);
    return o;
  }
  path(): string {
    const seg = (): string => Array.from({ length: this.int(1, 3) }, () => this.pick(['foo', 'bar', 'x', 'sensor', 'id2'])).join('_');
    return Array.from({ length: this.int(1, 3) }, seg).join('.');
  }
  reading(): Message {
    return create(Reading, { sensorId: this.string(), celsius: this.number(), takenAt: this.coin() ? this.timestamp() : undefined, period: this.coin() ? this.duration() : undefined, site: this.string() });
  }
  any(depth = 0): Message {
    switch (this.int(0, depth > 0 ? 8 : 9)) {
      case 0: return create(G('Any'));
      case 1: return anyPack(Reading, this.reading() as never);
      case 2: return anyPack(G('Timestamp'), create(G('Timestamp'), this.timestamp()));
      case 3: return anyPack(G('Duration'), create(G('Duration'), this.duration()));
      case 4: return anyPack(G('Struct'), fromJson(G('Struct'), this.object()));
      case 5: return anyPack(G('Value'), fromJson(G('Value'), this.json()));
      case 6: return anyPack(G('Int64Value'), create(G('Int64Value'), { value: BigInt(this.int(-1e9, 1e9)) * 1000003n }));
      case 7: return anyPack(G('Empty'), create(G('Empty')));
      case 8: return anyPack(G('FieldMask'), create(G('FieldMask'), { paths: [this.path()] }));
      default: return anyPack(G('Any'), this.any(depth + 1) as never);
    }
  }
  holder(): Message {
    const h: Record<string, unknown> = {};
    const maybe = (name: string, make: () => unknown): void => {
      if (this.coin(0.6)) h[name] = make();
    };
    maybe('timestamp', () => this.timestamp());
    maybe('duration', () => this.duration());
    maybe('timestamps', () => Array.from({ length: this.int(0, 3) }, () => this.timestamp()));
    maybe('durations', () => Array.from({ length: this.int(0, 3) }, () => this.duration()));
    maybe('doubleValue', () => this.number());
    maybe('floatValue', () => Math.fround(this.pick([0, 1.5, -2.25, 0.1, 3.4e38, 1e-40])));
    maybe('int64Value', () => this.pick([0n, -1n, 9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n]));
    maybe('uint64Value', () => this.pick([0n, 1n, 2n ** 64n - 1n, 18014398509481985n]));
    maybe('int32Value', () => this.pick([0, -1, 2 ** 31 - 1, -(2 ** 31)]));
    maybe('uint32Value', () => this.pick([0, 1, 2 ** 32 - 1]));
    maybe('boolValue', () => this.coin());
    maybe('stringValue', () => this.string());
    maybe('bytesValue', () => new Uint8Array(Array.from({ length: this.int(0, 7) }, () => this.int(0, 255))));
    maybe('struct', () => fromJson(G('Struct'), this.object()));
    maybe('value', () => fromJson(G('Value'), this.json()));
    maybe('listValue', () => fromJson(G('ListValue'), Array.from({ length: this.int(0, 3) }, () => this.json(1))));
    maybe('fieldMask', () => ({ paths: Array.from({ length: this.int(0, 3) }, () => this.path()) }));
    maybe('empty', () => ({}));
    maybe('any', () => this.any());
    maybe('anys', () => Array.from({ length: this.int(0, 2) }, () => this.any()));
    maybe('values', () => Object.fromEntries(Array.from({ length: this.int(0, 2) }, (_, i) => [`k${i}`, fromJson(G('Value'), this.json())])));
    maybe('valueList', () => Array.from({ length: this.int(0, 2) }, () => fromJson(G('Value'), this.json())));
    maybe('timestampMap', () => ({ [this.string()]: this.timestamp() }));
    maybe('reading', () => this.reading());
    if (this.coin(0.3)) h.choice = this.coin() ? { case: 'nothing', value: 0 } : { case: 'text', value: this.string() };
    maybe('int64Values', () => [{ value: BigInt(this.int(-5, 5)) }]);
    maybe('ratio', () => this.number());
    return create(Holder, h as never);
  }
}

const SEED = Number(process.env.WKT_SEED ?? 20261202);

/** protobuf-es's JSON -> our codec -> binary -> protobuf-es: the same message; ours printed: protobuf-es's JSON. */
function roundTrip(codecs: Record<string, Codecs>, schema: DescMessage, m: Message, what: string): void {
  const c = codecs[schema.typeName]!;
  const theirs = toJson(schema, m, { registry });
  const decoded = c.json.decode(Buffer.from(toJsonString(schema, m, { registry })));
  const back = fromBinary(schema, c.binary.encode(decoded));
  assert.ok(equals(schema, back, m, { registry, unpackAny: true }), `${what}: parsed differently\n${JSON.stringify(theirs)}\n${JSON.stringify(toJson(schema, back, { registry }))}`);
  const ours = Buffer.from(c.json.encode(decoded)).toString('utf8');
  assert.deepStrictEqual(JSON.parse(ours), theirs, `${what}: printed differently`);
  assert.ok(equals(schema, fromJsonString(schema, ours, { registry }), m, { registry, unpackAny: true }), `${what}: protobuf-es reads ours back differently`);
}

for (const [naming, descriptor] of [['protobufjs names (nullValue)', DESCRIPTOR], ['keepCase names (null_value)', snakeValueDescriptor()]] as const) {
  test(`property: 400 random messages with every well-known type print and parse as protobuf-es does, ${naming} (seed ${SEED})`, () => {
    const codecs = codecsOf(descriptor);
    const g = new Gen(SEED);
    for (let i = 0; i < 400; i++) roundTrip(codecs, Holder, g.holder(), `message ${i}`);
    // Top-level well-known types.
    for (let i = 0; i < 100; i++) {
      roundTrip(codecs, G('Timestamp'), create(G('Timestamp'), g.timestamp()), `Timestamp ${i}`);
      roundTrip(codecs, G('Value'), fromJson(G('Value'), g.json()), `Value ${i}`);
      roundTrip(codecs, G('Any'), g.any(), `Any ${i}`);
    }
  });
}

// Google's own ProtoJSON (python3-protobuf's json_format, upb) as a third implementation.
const PYTHON = '/usr/bin/python3';
const pyProbe = spawnSync(PYTHON, ['-c', 'from google.protobuf import json_format'], { encoding: 'utf8' });
const pySkip = pyProbe.status === 0 ? false : `python3-protobuf not available (${(pyProbe.error?.message ?? pyProbe.stderr).trim()})`;

test("Google's json_format (python3-protobuf) reads our JSON as the same message, and its JSON reads back through ours", { skip: pySkip }, () => {
  const c = codecsOf(DESCRIPTOR)['webtest.wkt.Holder']!;
  const g = new Gen(SEED + 3);
  const msgs = Array.from({ length: 150 }, () => g.holder());
  const ours = msgs.map((m) => Buffer.from(c.json.encode(c.json.decode(Buffer.from(toJsonString(Holder, m, { registry }))))).toString('utf8'));
  const input = msgs.map((m, i) => JSON.stringify({ json: ours[i], binary: Buffer.from(toBinary(Holder, m)).toString('base64') })).join('\n') + '\n';
  const py = spawnSync(PYTHON, [fromRoot('test/python/protojson_check.py'), bufImage(WKT_PROTO), 'webtest.wkt.Holder'], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(py.status, 0, py.stderr);
  const results = py.stdout.trim().split('\n').map((l) => JSON.parse(l) as { same?: boolean; python?: string; error?: string });
  assert.equal(results.length, msgs.length);
  results.forEach((r, i) => {
    assert.equal(r.error, undefined, `message ${i}: json_format refused ours: ${ours[i]}`);
    assert.equal(r.same, true, `message ${i}: json_format reads ours differently: ${JSON.stringify(r)}\n${ours[i]}`);
    const back = fromBinary(Holder, c.binary.encode(c.json.decode(Buffer.from(r.python!))));
    assert.ok(equals(Holder, back, msgs[i]!, { registry, unpackAny: true }), `message ${i}: json_format's JSON read differently: ${r.python}`);
  });
});

test('Timestamp and Duration: the forms printed, offsets and any number of fractional digits read', () => {
  const c = codecsOf(DESCRIPTOR)['webtest.wkt.Holder']!;
  const print = (o: object): any => JSON.parse(Buffer.from(c.json.encode(o)).toString());
  const read = (j: object): any => c.json.decode(Buffer.from(JSON.stringify(j)));
  const ts = (seconds: number | string, nanos = 0): string => print({ timestamp: { seconds: String(seconds), nanos } }).timestamp;
  assert.equal(ts(0), '1970-01-01T00:00:00Z');
  assert.equal(ts(TS_MIN), '0001-01-01T00:00:00Z');
  assert.equal(ts(TS_MAX, 999_999_999), '9999-12-31T23:59:59.999999999Z');
  assert.equal(ts(utc(2024, 2, 29, 12), 10_000_000), '2024-02-29T12:00:00.010Z');
  assert.equal(ts(-1, 1000), '1969-12-31T23:59:59.000001Z');
  assert.equal(ts(951782400, 120_000_000), '2000-02-29T00:00:00.120Z');
  const dur = (seconds: number, nanos = 0): string => print({ duration: { seconds: String(seconds), nanos } }).duration;
  assert.equal(dur(0), '0s');
  assert.equal(dur(1, 500_000_000), '1.500s');
  assert.equal(dur(0, -1000), '-0.000001s');
  assert.equal(dur(-5, -1), '-5.000000001s');
  assert.equal(dur(-DUR_MAX, -999_999_999), `-${DUR_MAX}.999999999s`);

  const readTs = (s: string): unknown => read({ timestamp: s }).timestamp;
  assert.deepEqual(readTs('2026-12-02T04:00:00.5+01:00'), { seconds: String(utc(2026, 12, 2, 3)), nanos: 500_000_000 });
  assert.deepEqual(readTs('2026-12-01T22:30:00-04:30'), { seconds: String(utc(2026, 12, 2, 3)), nanos: 0 });
  assert.deepEqual(readTs('0001-01-01T00:00:00Z'), { seconds: String(TS_MIN), nanos: 0 });
  assert.deepEqual(readTs('2024-02-29T00:00:00.1Z'), { seconds: String(utc(2024, 2, 29)), nanos: 100_000_000 });
  assert.deepEqual(readTs('1969-12-31T23:59:59.12345678Z'), { seconds: '-1', nanos: 123_456_780 });
  // Random instants written with random offsets and 0-9 fractional digits read as protobuf-es reads them.
  const g = new Gen(SEED + 2);
  for (let i = 0; i < 300; i++) {
    const { seconds, nanos } = g.timestamp();
    const off = g.pick([0, g.int(-23 * 60 - 59, 23 * 60 + 59), 14 * 60, -12 * 60]);
    const digits = g.int(0, 9);
    const local = new Date((Number(seconds) + off * 60) * 1000);
    if (!(local.getUTCFullYear() >= 1 && local.getUTCFullYear() <= 9999)) continue;
    const frac = digits === 0 ? '' : '.' + String(nanos).padStart(9, '0').slice(0, digits);
    const hhmm = `${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
    const text = local.toISOString().slice(0, 19) + frac + (off === 0 && g.coin() ? 'Z' : `${off < 0 ? '-' : '+'}${hhmm}`);
    let theirs: any;
    try {
      theirs = fromJson(G('Timestamp'), text);
    } catch {
      assert.throws(() => readTs(text), /is outside/, text);
      continue;
    }
    assert.deepEqual(readTs(text), { seconds: String(theirs.seconds), nanos: theirs.nanos }, text);
  }
  const readDur = (s: string): unknown => read({ duration: s }).duration;
  assert.deepEqual(readDur('1.5s'), { seconds: '1', nanos: 500_000_000 });
  assert.deepEqual(readDur('-0.25s'), { seconds: '0', nanos: -250_000_000 });
  assert.deepEqual(readDur('-3.00001s'), { seconds: '-3', nanos: -10_000 });
  assert.deepEqual(readDur('315576000000s'), { seconds: '315576000000', nanos: 0 });
  assert.deepEqual(readDur('0s'), { seconds: '0', nanos: 0 });
});

test('invalid JSON for a well-known type: INVALID_ARGUMENT saying what was expected', () => {
  const codecs = codecsOf(DESCRIPTOR);
  const c = codecs['webtest.wkt.Holder']!.json;
  const TS = /expected an RFC 3339 time in years 1 to 9999, got /;
  const cases: [object, RegExp][] = [
    [{ timestamp: '2026-12-02 03:00:00Z' }, /^request\.timestamp: expected an RFC 3339 time .*, got "2026-12-02 03:00:00Z"$/],
    [{ timestamp: '2026-12-02T03:00:00' }, TS],
    [{ timestamp: '2026-12-02T03:00:00.1234567890Z' }, TS],
    [{ timestamp: '2026-12-02t03:00:00z' }, TS],
    [{ timestamp: 1764644400 }, /got 1764644400$/],
    [{ timestamp: '2023-02-29T00:00:00Z' }, TS],
    [{ timestamp: '2026-04-31T00:00:00Z' }, TS],
    [{ timestamp: '2026-13-01T00:00:00Z' }, TS],
    [{ timestamp: '2026-12-02T24:00:00Z' }, TS],
    [{ timestamp: '2026-12-02T03:00:60Z' }, TS],
    [{ timestamp: '2026-12-02T03:00:00+24:00' }, TS],
    [{ timestamp: '2026-12-02T03:00:00+01:60' }, TS],
    [{ timestamp: '0000-12-31T23:59:59Z' }, TS],
    [{ timestamp: '0001-01-01T00:00:00+00:01' }, TS],
    [{ timestamp: '9999-12-31T23:59:59-00:01' }, TS],
    [{ timestamps: ['2026-12-02T03:00:00Z', 'soon'] }, /^request\.timestamps\[1\]: expected an RFC 3339 time in years 1 to 9999, got "soon"$/],
    [{ duration: '1.5' }, /^request\.duration: expected a duration such as "-1\.5s", got "1\.5"$/],
    [{ duration: '1.5 s' }, /expected a duration/],
    [{ duration: 1.5 }, /expected a duration/],
    [{ duration: '+1s' }, /expected a duration/],
    [{ duration: '1.0000000001s' }, /expected a duration/],
    [{ duration: '315576000001s' }, /expected a duration/],
    [{ duration: '-315576000001s' }, /expected a duration/],
    [{ int64Value: 1.5 }, /^request\.int64Value: expected an integer$/],
    [{ uint64Value: '-1' }, /out of range for uint64/],
    [{ uint64Value: '18446744073709551616' }, /out of range for uint64/],
    [{ int64Value: '-9223372036854775809' }, /out of range for int64/],
    [{ int32Value: '2147483648' }, /out of range for int32/],
    [{ uint32Value: 4294967296 }, /out of range for uint32/],
    [{ boolValue: 'true' }, /expected true or false/],
    [{ bytesValue: 'not base64!' }, /expected base64/],
    [{ doubleValue: 'one' }, /expected a number/],
    [{ doubleValue: '' }, /expected a number/],
    [{ stringValue: 5 }, /expected a string/],
    [{ struct: [1] }, /^request\.struct\.fields: expected a JSON object \(map\)$/],
    [{ anys: [{}, { '@type': 'type.googleapis.com/google.protobuf.Struct', value: [1] }] }, /^request\.anys\[1\]\.fields: expected a JSON object \(map\)$/],
    [{ listValue: { a: 1 } }, /^request\.listValue\.values: expected a JSON array$/],
    [{ fieldMask: ['a'] }, /^request\.fieldMask: expected lowerCamelCase paths such as "fooBar,baz\.qux"$/],
    [{ fieldMask: 'foo_bar' }, /expected lowerCamelCase paths/],
    [{ any: { sensorId: 'x' } }, /^request\.any: expected an Any with a "@type" of this service, got undefined$/],
    [{ any: [] }, /expected an Any with a "@type"/],
    [{ any: { '@type': 'type.googleapis.com/no.such.Type' } }, /got "type\.googleapis\.com\/no\.such\.Type"$/],
    [{ any: { '@type': 'type.googleapis.com/webtest.wkt' } }, /expected an Any with a "@type" of this service/],
    [{ any: { '@type': 'type.googleapis.com/webtest.wkt.Color' } }, /expected an Any with a "@type" of this service/],
    [{ any: { '@type': 'type.googleapis.com/__proto__' } }, /expected an Any with a "@type" of this service/],
    [{ any: { '@type': 'type.googleapis.com/webtest.wkt.Reading', nope: 1 } }, /^request\.any: unknown field "nope" in webtest\.wkt\.Reading$/],
    [{ any: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: 'long' } }, /^request\.any: expected a duration/],
    [{ any: { '@type': 'type.googleapis.com/google.protobuf.Duration' } }, /^request\.any: expected a duration/],
    [{ anys: [{ '@type': 'type.googleapis.com/webtest.wkt.Reading', takenAt: 'noon' }] }, /^request\.anys\[0\]\.takenAt: expected an RFC 3339 time/],
    [{ value: JSON.parse("[".repeat(200) + "]".repeat(200)) }, /^request: maximum nesting depth exceeded$/],
  ];
  for (const [json, re] of cases) {
    assert.throws(
      () => c.decode(Buffer.from(JSON.stringify(json))),
      (e: unknown) => e instanceof GrpcError && e.code === Status.INVALID_ARGUMENT && re.test(e.details),
      `${JSON.stringify(json).slice(0, 80)} should fail with ${re}`,
    );
  }
  // JSON nested too deep for the stack: INVALID_ARGUMENT too (the stack overflow is caught).
  const deep = `{"value":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  assert.throws(() => c.decode(Buffer.from(deep)), (e: unknown) => e instanceof GrpcError && e.code === Status.INVALID_ARGUMENT && /^request: /.test(e.details));
  // Top level: a Timestamp request is a JSON string.
  assert.throws(
    () => codecs['google.protobuf.Timestamp']!.json.decode(Buffer.from('{"seconds":"1"}')),
    (e: unknown) => e instanceof GrpcError && /^request: expected an RFC 3339 time .*, got \{"seconds":"1"\}$/.test(e.details),
  );
  // Null: the default for a Timestamp field, a null Value for a Value field (and in lists, maps).
  assert.deepEqual(c.decode(Buffer.from('{"timestamp":null,"value":null,"valueList":[null],"values":{"n":null}}')), c.decode(Buffer.from('{"value":null,"valueList":[null],"values":{"n":null}}')));
  const held: any = c.decode(Buffer.from('{"value":null,"valueList":[null],"values":{"n":null},"nothing":null}'));
  assert.deepEqual([held.value.nullValue, held.value_list[0].nullValue, held.values.n.nullValue, held.choice], ['NULL_VALUE', 'NULL_VALUE', 'NULL_VALUE', 'nothing']);
});

test('responses with no JSON form fail the call (INTERNAL), as protobuf-es refuses to print them', () => {
  const c = codecsOf(DESCRIPTOR)['webtest.wkt.Holder']!.json;
  for (const [o, re] of [
    [{ timestamp: { seconds: String(TS_MAX + 1) } }, /^Timestamp 253402300800s 0ns has no ProtoJSON form$/],
    [{ timestamp: { seconds: '0', nanos: -1 } }, /^Timestamp 0s -1ns has no ProtoJSON form$/],
    [{ duration: { seconds: '1', nanos: -1 } }, /^Duration 1s -1ns has no ProtoJSON form$/],
    [{ duration: { seconds: String(DUR_MAX + 1) } }, /^Duration 315576000001s 0ns has no/],
    [{ value: { numberValue: NaN } }, /^Value NaN has no ProtoJSON form$/],
    [{ value: {} }, /^a Value with no kind set has no ProtoJSON form$/],
    [{ field_mask: { paths: ['foo__bar'] } }, /^FieldMask path "foo__bar" has no ProtoJSON form$/],
    [{ field_mask: { paths: ['foo_1'] } }, /^FieldMask path "foo_1" has no/],
    [{ any: { type_url: 'type.googleapis.com/not.Loaded', value: Buffer.alloc(0) } }, /^Any of unknown type "type\.googleapis\.com\/not\.Loaded" has no ProtoJSON form$/],
  ] as [object, RegExp][]) {
    assert.throws(() => c.encode(o), (e: unknown) => e instanceof Error && re.test(e.message), `${JSON.stringify(o)} should fail with ${re}`);
  }
});

// ---- real peers over the network

/** The Wkt service: echoes, a stream, and top-level well-known types. */
const handlers = {
  Echo: (req: unknown) => req,
  Replay: async (req: { holder: any; count: number }, out: ServerWriter<unknown>) => {
    for (let i = 0; i < req.count; i++) {
      const t = req.holder?.timestamp;
      await out.write({ ...req.holder, timestamp: t ? { seconds: String(BigInt(t.seconds) + BigInt(i)), nanos: t.nanos } : null });
    }
  },
  Now: () => ({ sensor_id: 'bme280', celsius: 21.5, taken_at: { seconds: '1796180400', nanos: 250_000_000 }, period: { seconds: '-1', nanos: -500_000_000 } }),
  EchoTimestamp: (req: unknown) => req,
  EchoValue: (req: unknown) => req,
  EchoAny: (req: unknown) => req,
};

async function startWkt(): Promise<{ url: string; close(): Promise<void> }> {
  const server = new Server({ web: webProtocols() });
  server.addService(loadServices(DESCRIPTOR)['webtest.wkt.Wkt']!, handlers as never);
  const port = await server.bind('127.0.0.1:0', ServerCredentials.createInsecure());
  return { url: `http://127.0.0.1:${port}`, close: () => server.stop(500) };
}

const CLIENTS: [string, (baseUrl: string) => Transport][] = [
  ['connect-web Connect JSON (HTTP/1.1)', (baseUrl) => web.createConnectTransport({ baseUrl, useBinaryFormat: false, jsonOptions: { registry } })],
  ['connect-node Connect JSON (HTTP/2)', (baseUrl) => node.createConnectTransport({ baseUrl, httpVersion: '2', useBinaryFormat: false, jsonOptions: { registry } })],
  ['connect-web gRPC-Web JSON (HTTP/1.1)', (baseUrl) => web.createGrpcWebTransport({ baseUrl, useBinaryFormat: false, jsonOptions: { registry } })],
  ['connect-node gRPC-Web JSON (HTTP/2)', (baseUrl) => node.createGrpcWebTransport({ baseUrl, httpVersion: '2', useBinaryFormat: false, jsonOptions: { registry } })],
];

for (const [name, transport] of CLIENTS) {
  test(`${name}: messages with every well-known type round-trip exactly, unary and server streaming`, async () => {
    const s = await startWkt();
    try {
      const client: any = createClient(WktService, transport(s.url));
      const g = new Gen(SEED + 1);
      for (let i = 0; i < 40; i++) {
        const m = g.holder();
        const r = await client.echo(m);
        assert.ok(equals(Holder, r, m, { registry, unpackAny: true }), `echo ${i}: ${toJsonString(Holder, m, { registry })}\n${toJsonString(Holder, r, { registry })}`);
      }
      // Server streaming.
      const start = create(Holder, { timestamp: { seconds: BigInt(utc(2024, 2, 28, 23, 59, 59)), nanos: 1000 }, duration: { seconds: -2n, nanos: -5 } });
      const got: string[] = [];
      for await (const h of client.replay({ holder: start, count: 3 })) got.push(toJson(Holder, h, { registry }) as any);
      assert.deepEqual(got.map((h: any) => [h.timestamp, h.duration]), [
        ['2024-02-28T23:59:59.000001Z', '-2.000000005s'],
        ['2024-02-29T00:00:00.000001Z', '-2.000000005s'],
        ['2024-02-29T00:00:01.000001Z', '-2.000000005s'],
      ]);
      // Top-level: Empty in, a Reading with a Timestamp out; a Timestamp, a Value and an Any as the whole message.
      const now = await client.now({});
      assert.deepEqual(toJson(Reading, now, { registry }), { sensorId: 'bme280', celsius: 21.5, takenAt: '2026-12-02T03:00:00.250Z', period: '-1.500s' });
      const t = await client.echoTimestamp(create(G('Timestamp'), { seconds: BigInt(TS_MAX), nanos: 999_999_999 }));
      assert.deepEqual([t.seconds, t.nanos], [BigInt(TS_MAX), 999_999_999]);
      const v = await client.echoValue(fromJson(G('Value'), { a: [1, null, 'x'], b: { c: false } }));
      assert.deepEqual(toJson(G('Value'), v), { a: [1, null, 'x'], b: { c: false } });
      const a = await client.echoAny(anyPack(Reading, create(Reading, { sensorId: 'any', takenAt: { seconds: 0n, nanos: 0 } })));
      assert.deepEqual(toJson(G('Any'), a, { registry }), { '@type': 'type.googleapis.com/webtest.wkt.Reading', sensorId: 'any', takenAt: '1970-01-01T00:00:00Z' });
    } finally {
      await s.close();
    }
  });
}

test('curl-style JSON: a Timestamp sent as RFC 3339 is accepted and comes back Z-normalised; invalid ones and an unknown Any type get 400 invalid_argument', async () => {
  const s = await startWkt();
  try {
    const post = async (body: string): Promise<[number, any]> => {
      const r = await fetch(`${s.url}/webtest.wkt.Wkt/Echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return [r.status, await r.json()];
    };
    assert.deepEqual(await post('{"timestamp":"2026-12-02T04:00:00+01:00","duration":"90s","reading":{"takenAt":"2026-12-02T03:00:00.000Z","site":"shed"}}'), [
      200,
      { timestamp: '2026-12-02T03:00:00Z', duration: '90s', reading: { takenAt: '2026-12-02T03:00:00Z', where: 'shed' } },
    ]);
    // A field's json_name is its JSON name, printed and read.
    assert.deepEqual(await post('{"reading":{"where":"roof"}}'), [200, { reading: { where: 'roof' } }]);
    // Connect GET (Echo has no side effects): the message in the query, the same JSON mapping.
    const get = await fetch(`${s.url}/webtest.wkt.Wkt/Echo?connect=v1&encoding=json&message=${encodeURIComponent('{"timestamp":"2026-12-02T04:00:00.5+01:00","fieldMask":"sensorId,takenAt"}')}`);
    assert.equal(get.status, 200);
    assert.deepEqual(await get.json(), { timestamp: '2026-12-02T03:00:00.500Z', fieldMask: 'sensorId,takenAt' });
    const [status, err] = await post('{"timestamp":"tomorrow"}');
    assert.equal(status, 400);
    assert.equal(err.code, 'invalid_argument');
    assert.match(err.message, /^request\.timestamp: expected an RFC 3339 time .*, got "tomorrow"$/);
    // An Any of a type the server does not have (Connect clients refuse to send one they cannot print).
    const r = await fetch(`${s.url}/webtest.wkt.Wkt/EchoAny`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"@type":"type.googleapis.com/elsewhere.Thing","id":1}' });
    assert.equal(r.status, 400);
    const e = (await r.json()) as { code: string; message: string };
    assert.equal(e.code, 'invalid_argument');
    assert.match(e.message, /^request: expected an Any with a "@type" of this service, got "type\.googleapis\.com\/elsewhere\.Thing"$/);
  } finally {
    await s.close();
  }
});

test('application/grpc-web+json on the wire: gRPC-Web frames around ProtoJSON, the same content-type back; grpc-web-text+json is 415', async () => {
  const s = await startWkt();
  try {
    /** One gRPC-Web message frame: flags 0, length, body. */
    const frame = (body: Buffer): Buffer => {
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(body.length, 1);
      return Buffer.concat([prefix, body]);
    };
    const body = frame(Buffer.from('{"timestamp":"2026-12-02T04:00:00+01:00","duration":"-1.5s"}'));
    const r = await fetch(`${s.url}/webtest.wkt.Wkt/Echo`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+json', 'x-grpc-web': '1' }, body });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/grpc-web+json');
    const out = Buffer.from(await r.arrayBuffer());
    const n = out.readUInt32BE(1);
    assert.equal(out[0], 0);
    assert.deepEqual(JSON.parse(out.subarray(5, 5 + n).toString()), { timestamp: '2026-12-02T03:00:00Z', duration: '-1.500s' });
    const trailer = out.subarray(5 + n);
    assert.equal(trailer[0], 0x80);
    assert.match(trailer.subarray(5).toString('latin1'), /^grpc-status: 0\r\n/);
    // A bad Timestamp: INVALID_ARGUMENT in the trailer frame.
    const bad = await fetch(`${s.url}/webtest.wkt.Wkt/Echo`, { method: 'POST', headers: { 'content-type': 'application/grpc-web+json' }, body: frame(Buffer.from('{"timestamp":"noon"}')) });
    const badText = Buffer.from(await bad.arrayBuffer()).subarray(5).toString('latin1');
    assert.match(badText, /grpc-status: 3\r\n/);
    assert.match(decodeURIComponent(badText), /request\.timestamp: expected an RFC 3339 time/);
    const text = await fetch(`${s.url}/webtest.wkt.Wkt/Echo`, { method: 'POST', headers: { 'content-type': 'application/grpc-web-text+json' }, body: body.toString('base64') });
    assert.equal(text.status, 415);
    await text.arrayBuffer();
  } finally {
    await s.close();
  }
});

test('the build-time descriptor carries every google/protobuf type wkt.proto imports', () => {
  const names = Object.keys(DESCRIPTOR.nested.google.nested.protobuf.nested).sort();
  for (const n of ['Any', 'BoolValue', 'BytesValue', 'DoubleValue', 'Duration', 'Empty', 'FieldMask', 'FloatValue', 'Int32Value', 'Int64Value', 'ListValue', 'NullValue', 'StringValue', 'Struct', 'Timestamp', 'UInt32Value', 'UInt64Value', 'Value']) {
    assert.ok(names.includes(n), `google.protobuf.${n} missing from ${names.join(', ')}`);
  }
});
