// scripts/build/long-bigint.cjs replaces the `long` package in bundles. It must give the same bits,
// strings and numbers as long itself for every input protobufjs can hand it, and protobufjs must
// encode and decode 64-bit fields identically with either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs/light.js';
import { fromRoot } from '../support/paths.js';

const require = createRequire(import.meta.url);
type AnyLong = { low: number; high: number; unsigned: boolean; toString(r?: number): string; toNumber(): number; toBigInt(): bigint };
type LongCtor = {
  new (low: number, high: number, unsigned?: boolean): AnyLong;
  fromBits(l: number, h: number, u?: boolean): AnyLong;
  fromNumber(v: number, u?: boolean): AnyLong;
  fromString(s: string, u?: boolean | number, r?: number): AnyLong;
  fromValue(v: unknown, u?: boolean): AnyLong;
  isLong(v: unknown): boolean;
};
const Real = require('long') as LongCtor;
const Shim = require(fromRoot('scripts/build/long-bigint.cjs')) as LongCtor;

// A seeded generator so a failure can be replayed.
let seed = 0x2545f491;
const rand = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const randInt32 = (): number => (rand() * 4294967296) | 0;

const NUMBERS = [
  0, -0, 1, -1, 0.5, -0.5, 1.9999, -1.9999, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 32 + 1, -(2 ** 32), 2 ** 52 + 0.5, 2 ** 53, 2 ** 53 + 2,
  -(2 ** 53), 2 ** 63, -(2 ** 63), 2 ** 63 - 1024, -(2 ** 63) + 1024, 2 ** 64, 2 ** 64 - 2048, -(2 ** 64), 1e300, -1e300, NaN,
  Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 123456789.987,
];
const STRINGS = [
  '0', '-0', '1', '-1', '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809',
  '18446744073709551615', '18446744073709551616', '-18446744073709551615', '340282366920938463463374607431768211457',
  '00000000000000000000000042', 'NaN', 'Infinity', '-Infinity', '+Infinity', '+5', '12abc', '1.5', '1e3', ' 7', 'abc',
  '123456789abc', '12345678+9', '0x10', '99999999999999999999999999999999', '-', '+',
];

const same = (a: AnyLong, b: AnyLong, what: string): void => {
  assert.deepEqual({ low: b.low, high: b.high, unsigned: b.unsigned }, { low: a.low, high: a.high, unsigned: a.unsigned }, what);
  assert.equal(b.toString(), a.toString(), what + ' toString');
  assert.equal(b.toNumber(), a.toNumber(), what + ' toNumber');
  assert.equal(b.toBigInt(), a.toBigInt(), what + ' toBigInt');
};
const outcome = (f: () => AnyLong): AnyLong | string => {
  try {
    return f();
  } catch (e) {
    return 'throws ' + (e as Error).message;
  }
};
const sameOutcome = (f: (L: LongCtor) => AnyLong, what: string): void => {
  const a = outcome(() => f(Real));
  const b = outcome(() => f(Shim));
  if (typeof a === 'string' || typeof b === 'string') assert.equal(b, a, what);
  else same(a, b, what);
};

test('fromNumber, fromString, fromValue, fromBits agree with long, signed and unsigned', () => {
  for (const u of [false, true]) {
    for (const n of NUMBERS) {
      sameOutcome((L) => L.fromNumber(n, u), `fromNumber(${n}, ${u})`);
      sameOutcome((L) => L.fromValue(n, u), `fromValue(${n}, ${u})`);
    }
    for (const s of STRINGS) {
      sameOutcome((L) => L.fromString(s, u), `fromString(${JSON.stringify(s)}, ${u})`);
      sameOutcome((L) => L.fromValue(s, u), `fromValue(${JSON.stringify(s)}, ${u})`);
    }
    sameOutcome((L) => L.fromString('', u), 'empty string');
    sameOutcome((L) => L.fromString('12-3', u), 'interior hyphen');
  }
  sameOutcome((L) => L.fromString('ff', 16), 'radix as second argument');
  sameOutcome((L) => L.fromString('1', false, 37), 'bad radix');
  for (let i = 0; i < 2000; i++) {
    const lo = randInt32();
    const hi = randInt32();
    const u = rand() < 0.5;
    sameOutcome((L) => L.fromBits(lo, hi, u), `fromBits(${lo}, ${hi}, ${u})`);
    sameOutcome((L) => L.fromValue({ low: lo, high: hi, unsigned: !u }), `fromValue({${lo}, ${hi}, ${!u}})`);
    sameOutcome((L) => L.fromValue({ low: lo, high: hi, unsigned: !u }, u), `fromValue({${lo}, ${hi}}, ${u})`);
    const dec = Real.fromBits(lo, hi, u).toString();
    sameOutcome((L) => L.fromString(dec, u), `fromString(${dec}, ${u})`);
    sameOutcome((L) => L.fromString(dec, !u), `fromString(${dec}, ${!u})`);
    const n = (rand() - 0.5) * 2 ** (rand() * 70);
    sameOutcome((L) => L.fromNumber(n, u), `fromNumber(${n}, ${u})`);
    assert.equal(Shim.prototype.toString.call({ low: lo, high: hi, unsigned: u }), Real.fromBits(lo, hi, u).toString());
  }
  assert.ok(Shim.isLong(Shim.fromNumber(1)) && !Shim.isLong({ low: 1, high: 0 }) && !Shim.isLong(null));
  assert.equal(Real.fromBits(5, 1).toString(16), Shim.fromBits(5, 1).toString(16));
});

test('protobufjs encodes and decodes 64-bit fields identically with long and with the shim', () => {
  const descriptor = {
    nested: {
      t: {
        nested: {
          Wide: {
            fields: {
              i: { type: 'int64', id: 1 },
              u: { type: 'uint64', id: 2 },
              s: { type: 'sint64', id: 3 },
              f: { type: 'fixed64', id: 4 },
              sf: { type: 'sfixed64', id: 5 },
              r: { rule: 'repeated', type: 'int64', id: 6 },
              m: { keyType: 'int64', type: 'string', id: 7 },
              d: { type: 'int64', id: 8, options: { default: 42 } },
            },
          },
        },
      },
    },
  };
  const opts = { longs: String, defaults: true };
  const inputs: Record<string, unknown>[] = [
    {},
    { i: '-1', u: '18446744073709551615', s: '-9223372036854775808', f: '1', sf: '-2', r: ['1', '-1', '9007199254740993'], m: { '-5': 'a', '12345678901234': 'b' } },
    { i: 1.5, u: -1, s: 2 ** 63, f: 2 ** 64, sf: -(2 ** 63), r: [0, 2 ** 53 + 2], d: '7' },
    { i: { low: -1, high: 2147483647 }, u: { low: 5, high: -1, unsigned: true }, s: '12abc', f: '1e3', sf: ' 9' },
    { i: '99999999999999999999999', u: '-18446744073709551615' },
  ];
  for (let n = 0; n < 300; n++) {
    const v = (): string => Real.fromBits(randInt32(), randInt32(), rand() < 0.5).toString();
    inputs.push({ i: v(), u: v(), s: v(), f: v(), sf: v(), r: [v(), v()], m: { [Real.fromBits(randInt32(), randInt32()).toString()]: 'x' } });
  }
  const run = (L: unknown): unknown[] => {
    const saved = protobuf.util.Long;
    protobuf.util.Long = L as typeof protobuf.util.Long;
    protobuf.configure();
    try {
      const Wide = protobuf.Root.fromJSON(descriptor).lookupType('t.Wide');
      return inputs.map((input) => {
        const bytes = Wide.encode(Wide.fromObject(input)).finish();
        return [Buffer.from(bytes).toString('hex'), Wide.toObject(Wide.decode(bytes), opts)];
      });
    } finally {
      protobuf.util.Long = saved;
      protobuf.configure();
    }
  };
  assert.deepEqual(run(Shim), run(Real));
});
