'use strict';
// Stands in for the `long` package inside grpc-edge bundles (scripts/build.mjs aliases `long` to this
// file): the part of its API that protobufjs calls (new Long, fromBits, fromNumber, fromString,
// fromValue, isLong, toString, toNumber, toBigInt), written on BigInt in a tenth of the size.
// Every function returns the same bits as long 5 for every input, including its clamping of numbers,
// its wrapping of decimal strings modulo 2^64 and its chunked parseInt reading of malformed strings;
// test/build/long-shim.test.ts compares the two. Arithmetic and comparison methods are left out:
// grpc-edge decodes 64-bit fields to strings, so handlers never receive Long objects.

function Long(low, high, unsigned) {
  this.low = low | 0;
  this.high = high | 0;
  this.unsigned = !!unsigned;
}
Object.defineProperty(Long.prototype, '__isLong__', { value: true });

const TWO_32 = 4294967296;
const TWO_63 = 9223372036854775808;
const TWO_64 = 18446744073709551616;

function fromBigInt(value, unsigned) {
  const bits = BigInt.asUintN(64, value);
  return new Long(Number(bits & 0xffffffffn), Number(bits >> 32n), unsigned);
}
function bitsOf(l) {
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
}

function fromBits(low, high, unsigned) {
  return new Long(low, high, unsigned);
}

function fromNumber(value, unsigned) {
  if (isNaN(value)) return new Long(0, 0, unsigned);
  if (unsigned) {
    if (value < 0) return new Long(0, 0, true);
    if (value >= TWO_64) return new Long(-1, -1, true);
  } else {
    if (value <= -TWO_63) return new Long(0, -2147483648, false);
    if (value + 1 >= TWO_63) return new Long(-1, 2147483647, false);
  }
  return fromBigInt(BigInt(Math.trunc(value)), unsigned);
}

function fromString(str, unsigned, radix) {
  if (str.length === 0) throw Error('empty string');
  if (typeof unsigned === 'number') {
    radix = unsigned;
    unsigned = false;
  } else unsigned = !!unsigned;
  if (str === 'NaN' || str === 'Infinity' || str === '+Infinity' || str === '-Infinity') return new Long(0, 0, unsigned);
  radix = radix || 10;
  if (radix < 2 || 36 < radix) throw RangeError('radix');
  const hyphen = str.indexOf('-');
  if (hyphen > 0) throw Error('interior hyphen');
  if (hyphen === 0) return fromBigInt(-bitsOf(fromString(str.substring(1), unsigned, radix)), unsigned);
  // Eight digits at a time through parseInt, as long does, so malformed strings read the same.
  let result = 0n;
  for (let i = 0; i < str.length; i += 8) {
    const size = Math.min(8, str.length - i);
    const chunk = parseInt(str.substring(i, i + size), radix);
    result = BigInt.asUintN(64, result * BigInt(radix) ** BigInt(size) + bitsOf(fromNumber(chunk)));
  }
  return fromBigInt(result, unsigned);
}

function fromValue(val, unsigned) {
  if (typeof val === 'number') return fromNumber(val, unsigned);
  if (typeof val === 'string') return fromString(val, unsigned);
  return fromBits(val.low, val.high, typeof unsigned === 'boolean' ? unsigned : val.unsigned);
}

Long.prototype.toBigInt = function toBigInt() {
  return this.unsigned ? bitsOf(this) : BigInt.asIntN(64, bitsOf(this));
};
Long.prototype.toString = function toString(radix) {
  radix = radix || 10;
  if (radix < 2 || 36 < radix) throw RangeError('radix');
  return Long.prototype.toBigInt.call(this).toString(radix);
};
Long.prototype.toNumber = function toNumber() {
  return (this.unsigned ? this.high >>> 0 : this.high) * TWO_32 + (this.low >>> 0);
};

Long.isLong = (obj) => (obj && obj.__isLong__) === true;
Long.fromBits = fromBits;
Long.fromNumber = fromNumber;
Long.fromString = fromString;
Long.fromValue = fromValue;
Long.fromBigInt = fromBigInt;
Long.default = Long;
module.exports = Long;
