// Messages through the BUNDLED protobufjs: the bundle swaps parts of protobufjs/light for smaller
// stand-ins (long -> scripts/build/long-bigint.cjs, @protobufjs/float -> scripts/build/float-typed.cjs,
// the verifier and the file-loading/RPC parts -> stubs). A message with every field kind must encode
// to the same bytes and decode to the same object in a bundle as with the real packages (the
// unbundled src/proto code in this process), including what is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs';
import { fromRoot } from '../support/paths.js';
import { getProfile } from '../../src/server/profile.js';
import { loadServices } from '../../src/proto/load.js';

const PROTO = `
syntax = "proto3";
package every.v1;
import "google/protobuf/any.proto";
enum Color { COLOR_UNSET = 0; RED = 1; GREEN = 2; }
message Inner { string s = 1; int64 n = 2; repeated Inner kids = 3; }
message All {
  enum Level { LOW = 0; HIGH = 5; }
  double d = 1; float f = 2; int32 i32 = 3; int64 i64 = 4; uint32 u32 = 5; uint64 u64 = 6;
  sint32 s32 = 7; sint64 s64 = 8; fixed32 fx32 = 9; fixed64 fx64 = 10; sfixed32 sfx32 = 11;
  sfixed64 sfx64 = 12; bool b = 13; string str = 14; bytes raw = 15; Color color = 16;
  Level level = 17; Inner inner = 18;
  repeated int64 r_i64 = 20; repeated double r_d = 21; repeated float r_f = 22; repeated string r_str = 23;
  repeated bytes r_raw = 24; repeated Color r_color = 25; repeated Inner r_inner = 26;
  repeated sint32 r_s32 = 27; repeated fixed64 r_fx64 = 28; repeated bool r_b = 29;
  map<string, int64> m_str_i64 = 30; map<int32, Inner> m_i32_inner = 31; map<bool, Color> m_b_color = 32;
  map<uint64, string> m_u64_str = 33; map<sint64, bytes> m_s64_raw = 34; map<fixed32, double> m_fx32_d = 35;
  oneof pick { string p_str = 40; Inner p_inner = 41; Color p_color = 42; int64 p_i64 = 43; bytes p_raw = 44; }
  optional int32 opt = 50; optional Inner opt_inner = 51;
  google.protobuf.Any any = 60;
}
service Every { rpc Echo(All) returns (All); }
`;
const ANY_PROTO = 'syntax = "proto3"; package google.protobuf; message Any { string type_url = 1; bytes value = 2; }';

// Values that JSON cannot carry (Buffers, NaN, +-Infinity, -0) travel tagged, in both directions.
const REPLACER_SRC = `function (k, v) {
  if (v && v.type === 'Buffer' && Array.isArray(v.data)) return { $hex: Buffer.from(v.data).toString('hex') };
  if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { $num: String(Object.is(v, -0) ? '-0' : v) };
  return v;
}`;
const REVIVER_SRC = `function (k, v) {
  if (v && typeof v === 'object' && typeof v.$hex === 'string') return Buffer.from(v.$hex, 'hex');
  if (v && typeof v === 'object' && typeof v.$num === 'string') return Number(v.$num);
  return v;
}`;
const replacer = new Function(`return ${REPLACER_SRC}`)() as (k: string, v: unknown) => unknown;

const big = '-9223372036854775808';
const INPUTS: unknown[] = [
  {},
  {
    d: Math.PI, f: 1.5, i32: -2147483648, i64: big, u32: 4294967295, u64: '18446744073709551615', s32: -1, s64: '-1',
    fx32: 4294967295, fx64: '18446744073709551615', sfx32: -5, sfx64: '-9007199254740993', b: true, str: 'héllo ☃ 𝄞',
    raw: Buffer.from([0, 1, 254, 255]), color: 'GREEN', level: 'HIGH', inner: { s: 'x', n: '7', kids: [{ s: 'k' }, {}] },
    r_i64: ['1', '-1', '9007199254740993'], r_d: [0, -0, 1e308, 5e-324], r_f: [0.1, -3.4e38, 1e-45], r_str: ['', 'a'],
    r_raw: [Buffer.alloc(0), Buffer.from('zz')], r_color: ['RED', 2, 'COLOR_UNSET'], r_inner: [{ n: '1' }, { s: 'q' }],
    r_s32: [-1, 1, -2147483648], r_fx64: ['0', '1'], r_b: [true, false, true],
    m_str_i64: { a: '1', b: '-9223372036854775808' }, m_i32_inner: { '-1': { s: 'neg' }, 7: { n: '3' } },
    m_b_color: { true: 'RED', false: 'GREEN' }, m_u64_str: { '18446744073709551615': 'max' },
    m_s64_raw: { '-5': Buffer.from([5]) }, m_fx32_d: { 1: 2.5 },
    p_inner: { s: 'chosen', kids: [{ n: '-2' }] }, opt: 0, opt_inner: {},
    any: { type_url: 'type.googleapis.com/every.v1.Inner', value: Buffer.from([0x0a, 0x01, 0x41]) },
  },
  { d: NaN, f: Infinity, r_d: [-Infinity, NaN], p_color: 'RED', i64: 2 ** 53, u64: 1.9, s64: { low: -1, high: 0 } },
  { p_i64: '12', raw: 'AAEC', r_raw: ['/w=='], any: { '@type': 'type.googleapis.com/every.v1.Inner', s: 'packed in an Any' } },
  { p_raw: Buffer.alloc(300, 7), str: 'x'.repeat(70), inner: { kids: [{ kids: [{ kids: [{ s: 'deep' }] }] }] } },
  { f: 16777217, d: -0, i32: 2 ** 40, u32: -1, color: 99, level: 'LOW' },
  // Refused by Type.fromObject (the error message must be the same in the bundle):
  { r_inner: 'not a list' },
  { m_str_i64: [1] },
  { inner: 5 },
];

/** For each input: [hex of the encoding, the decoded object] or "throws <message>"; JSON with the replacer. */
function run(codec: { encode(m: unknown): Uint8Array; decode(b: Uint8Array): unknown }, inputs: unknown[]): string {
  const out = inputs.map((m) => {
    try {
      const bytes = codec.encode(m);
      return [Buffer.from(bytes).toString('hex'), codec.decode(bytes)];
    } catch (e) {
      return 'throws ' + (e as Error).message;
    }
  });
  return JSON.stringify(out, replacer);
}

let tmp: string;
let descriptor: object;
let bundled: string;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'edge-bundle-codec-'));
  const root = new protobuf.Root();
  protobuf.parse(ANY_PROTO, root, { keepCase: true });
  protobuf.parse(PROTO.replace(/^import .*$/m, ''), root, { keepCase: true });
  descriptor = root.toJSON();
  // The entry is bundled like any service: it uses the public API only.
  const entry = join(tmp, 'codec-entry.ts');
  writeFileSync(
    entry,
    `import { loadServices } from ${JSON.stringify(fromRoot('src/index.ts'))};\n` +
      `const codec = loadServices(${JSON.stringify(descriptor)})['every.v1.Every'].methods.Echo.request;\n` +
      `const replacer = ${REPLACER_SRC};\nconst reviver = ${REVIVER_SRC};\n` +
      `const inputs = JSON.parse(${JSON.stringify(JSON.stringify(INPUTS, replacer))}, reviver);\n` +
      `${run.toString()}\nprocess.stdout.write(run(codec, inputs));\n`,
  );
  const { bundle } = (await import(pathToFileURL(fromRoot('scripts/build.mjs')).href)) as {
    bundle: (o: object) => Promise<{ file: string }>;
  };
  const built = await bundle({ profile: getProfile('host-x64'), entry, outdir: join(tmp, 'dist') });
  const r = spawnSync(process.execPath, [built.file], { cwd: tmp, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(r.status, 0, r.stderr);
  bundled = r.stdout;
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('every field kind encodes and decodes the same in the bundle as with the real protobufjs packages', () => {
  const codec = loadServices(descriptor)['every.v1.Every']!.methods['Echo']!.request;
  const expected = run(codec, INPUTS);
  assert.deepEqual(JSON.parse(bundled), JSON.parse(expected));
});

test('the round trip keeps what matters: 64-bit extremes, floats, maps, oneofs, bytes, Any', () => {
  const results = JSON.parse(bundled) as unknown[];
  const full = (results[1] as [string, Record<string, any>])[1];
  assert.equal(full['i64'], big);
  assert.equal(full['u64'], '18446744073709551615');
  assert.equal(full['sfx64'], '-9007199254740993');
  assert.deepEqual(full['r_d'], [0, { $num: '-0' }, 1e308, 5e-324]);
  assert.deepEqual(full['m_i32_inner'], { '-1': { s: 'neg', n: '0', kids: [] }, 7: { s: '', n: '3', kids: [] } });
  // (64-bit map keys come out as protobufjs's 8-character hash keys, and a bool map's "false" key is
  // written as true, with or without the bundle: protobufjs's own behaviour, compared above.)
  assert.equal(full['pick'], 'p_inner');
  assert.equal(full['str'], 'héllo ☃ 𝄞');
  assert.deepEqual(full['any'], { type_url: 'type.googleapis.com/every.v1.Inner', value: { $hex: '0a0141' } });
  const nan = (results[2] as [string, Record<string, any>])[1];
  assert.deepEqual(nan['d'], { $num: 'NaN' });
  assert.deepEqual(nan['r_d'], [{ $num: '-Infinity' }, { $num: 'NaN' }]);
  // An Any given with "@type" is packed by protobufjs's google.protobuf.Any wrapper.
  const packed = (results[3] as [string, Record<string, any>])[1];
  assert.equal(packed['any'].type_url, 'type.googleapis.com/every.v1.Inner');
  assert.equal(Buffer.from(packed['any'].value.$hex, 'hex').toString('latin1').slice(2), 'packed in an Any');
  assert.match(results[6] as string, /^throws /);
});
