'use strict';
// Stands in for @protobufjs/float inside grpc-edge bundles (scripts/build.mjs aliases it to this
// file). That package carries two implementations: one on typed arrays and an IEEE 754 fallback for
// engines without Float32Array/Float64Array, which Node always has. This is the typed-array one
// alone: the value goes through a Float32Array/Float64Array and its bytes are copied in the asked
// order, so every bit pattern (NaN payloads, -0, denormals) comes out as with the package;
// test/build/float-shim.test.ts compares the two.

const f32 = new Float32Array(1);
const f64 = new Float64Array(1);
const b32 = new Uint8Array(f32.buffer);
const b64 = new Uint8Array(f64.buffer);
const hostLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** write(val, buf, pos) and read(buf, pos) for `n` bytes of `arr`, little-endian if `le`. */
function pair(arr, bytes, n, le) {
  const last = le === hostLE ? 0 : n - 1; // 0: copy in memory order; n - 1: reverse it
  return [
    function write(val, buf, pos) {
      arr[0] = val;
      for (let i = 0; i < n; i++) buf[pos + i] = bytes[last ? last - i : i];
    },
    function read(buf, pos) {
      for (let i = 0; i < n; i++) bytes[last ? last - i : i] = buf[pos + i];
      return arr[0];
    },
  ];
}

[exports.writeFloatLE, exports.readFloatLE] = pair(f32, b32, 4, true);
[exports.writeFloatBE, exports.readFloatBE] = pair(f32, b32, 4, false);
[exports.writeDoubleLE, exports.readDoubleLE] = pair(f64, b64, 8, true);
[exports.writeDoubleBE, exports.readDoubleBE] = pair(f64, b64, 8, false);
