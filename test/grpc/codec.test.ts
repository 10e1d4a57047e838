// Pure pieces of the gRPC layer: status, grpc-timeout, percent-encoding, metadata <-> headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcError, Status } from '../../src/grpc/status.js';
import { parseTimeout, encodeTimeout } from '../../src/grpc/timeout.js';
import { percentEncode, percentDecode } from '../../src/grpc/percent.js';
import { headersToMetadata, appendMetadata } from '../../src/grpc/metadata-headers.js';
import { Metadata } from '../../src/grpc/metadata.js';

test('GrpcError.from keeps valid numeric codes, anything else is UNKNOWN', () => {
  const e = new GrpcError(Status.NOT_FOUND, 'nope');
  assert.equal(GrpcError.from(e), e);
  const plain = Object.assign(new Error('denied'), { code: 7 });
  assert.equal(GrpcError.from(plain).code, Status.PERMISSION_DENIED);
  assert.equal(GrpcError.from(plain).details, 'denied');
  assert.equal(GrpcError.from({ code: 5, details: 'd' }).details, 'd');
  assert.equal(GrpcError.from(Object.assign(new Error('x'), { code: 'ENOENT' })).code, Status.UNKNOWN);
  assert.equal(GrpcError.from(Object.assign(new Error('x'), { code: 17 })).code, Status.UNKNOWN);
  assert.equal(GrpcError.from(Object.assign(new Error('x'), { code: 2.5 })).code, Status.UNKNOWN);
  assert.equal(GrpcError.from('boom').code, Status.UNKNOWN);
  assert.equal(GrpcError.from('boom').details, 'boom');
  assert.equal(GrpcError.from(undefined).code, Status.UNKNOWN);
  assert.equal(GrpcError.from(null).code, Status.UNKNOWN);
  const md = new Metadata();
  md.set('k', 'v');
  assert.equal(GrpcError.from({ code: 3, message: 'm', metadata: md }).metadata.get('k')[0], 'v');
});

test('grpc-timeout: every unit, at most 8 digits, errors as values', () => {
  const ok = (v: string) => {
    const r = parseTimeout(v);
    assert.ok(r.ok, v);
    return r.ms;
  };
  assert.equal(ok('1H'), 3_600_000);
  assert.equal(ok('2M'), 120_000);
  assert.equal(ok('3S'), 3000);
  assert.equal(ok('100m'), 100);
  assert.equal(ok('1500u'), 1.5);
  assert.equal(ok('2000000n'), 2);
  assert.equal(ok('99999999S'), 99_999_999_000);
  assert.equal(ok('0m'), 0);
  for (const bad of ['', 'S', '100', '123456789S', '10x', '-1S', '1.5S', ' 1S', '1 S', '１S']) {
    const r = parseTimeout(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.error, /grpc-timeout/);
  }
  for (const ms of [1, 999, 12345, 100_000_000_000]) {
    const r = parseTimeout(encodeTimeout(ms));
    assert.ok(r.ok && r.ms >= ms);
  }
});

test('grpc-message percent-encoding round-trips unicode, %, newlines', () => {
  assert.equal(percentEncode('plain text ok'), 'plain text ok');
  assert.equal(percentEncode('50%'), '50%25');
  assert.equal(percentEncode('a\nb'), 'a%0Ab');
  assert.equal(percentEncode('é'), '%C3%A9');
  for (const s of ['héllo wörld ✓ 🚀', '100% done\r\n\ttab', '%%%', '', '\u0000\u007f', 'ascii only']) {
    const enc = percentEncode(s);
    assert.match(enc, /^[\x20-\x7e]*$/);
    assert.equal(percentDecode(enc), s);
  }
  // Lenient: invalid escapes are kept, lower-case hex accepted.
  assert.equal(percentDecode('100%'), '100%');
  assert.equal(percentDecode('%zz%4'), '%zz%4');
  assert.equal(percentDecode('%c3%a9'), 'é');
});

test('headers -> metadata: reserved left out, -bin padded or not, comma-separated or repeated', () => {
  const md = headersToMetadata([
    ':method', 'POST',
    ':path', '/a.B/C',
    'content-type', 'application/grpc',
    'te', 'trailers',
    'grpc-timeout', '1S',
    'grpc-encoding', 'gzip',
    'user-agent', 'grpc-node-js/1.14',
    'x-token', 'secret',
    'x-multi', 'a',
    'x-multi', 'b,c',
    'x-data-bin', Buffer.from([1, 2, 3, 4]).toString('base64'), // AQIDBA==
    'x-data-bin', 'AQIDBA',
    'x-list-bin', 'AQ==, Ag',
    'bad key', 'dropped',
    'x-bad-value', '\x01',
  ]);
  assert.deepEqual([...md.keys()].sort(), ['user-agent', 'x-data-bin', 'x-list-bin', 'x-multi', 'x-token']);
  assert.deepEqual(md.get('x-multi'), ['a', 'b,c']);
  assert.deepEqual(md.get('x-data-bin'), [Buffer.from([1, 2, 3, 4]), Buffer.from([1, 2, 3, 4])]);
  assert.deepEqual(md.get('x-list-bin'), [Buffer.from([1]), Buffer.from([2])]);
});

test('metadata -> headers: un-padded base64, one header per value, reserved names skipped', () => {
  const md = new Metadata();
  md.add('x-a', 'one');
  md.add('x-a', 'two');
  md.set('x-b-bin', Buffer.from([0xff, 0x00]));
  md.set('grpc-status', '0');
  md.set('content-type', 'text/plain');
  md.set('grpc-status-details-bin', Buffer.from('details'));
  const out = appendMetadata([], md);
  assert.deepEqual(out, [
    'x-a', 'one', 'x-a', 'two', 'x-b-bin', '/wA', 'grpc-status-details-bin', 'ZGV0YWlscw',
  ]);
  const back = headersToMetadata(out);
  assert.deepEqual(back.get('x-b-bin'), [Buffer.from([0xff, 0x00])]);
});
