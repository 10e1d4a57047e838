// Host-side gRPC clients (@grpc/grpc-js + @grpc/proto-loader, reading protos/) used by
// scripts/test-qemu.mjs to call bundles running under emulation over loopback. Each function makes
// real calls and throws (with what differed) when a reply is wrong.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROTOS = join(ROOT, 'protos');
const LOAD_OPTS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, includeDirs: [PROTOS] };
// Emulated servers are slow to JIT their first calls; every call still gets a deadline.
const DEADLINE_MS = 60_000;
const deadline = () => new Date(Date.now() + DEADLINE_MS);

function client(ctor, port) {
  return new ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
  });
}

const unary = (c, method, req) =>
  new Promise((resolve, reject) => c[method](req, { deadline: deadline() }, (err, res) => (err ? reject(err) : resolve(res))));

/** helloworld.Greeter: both unary methods, a non-ASCII name, and many concurrent calls on one connection. */
export async function callGreeter(port) {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(join(PROTOS, 'helloworld.proto'), LOAD_OPTS));
  const c = client(pkg.helloworld.Greeter, port);
  const done = [];
  try {
    const r1 = await unary(c, 'SayHello', { name: 'qemu' });
    assert.match(r1.message, /qemu/, 'SayHello reply names the caller');
    done.push('SayHello');
    const r2 = await unary(c, 'SayHelloAgain', { name: 'Zoë ☃' });
    assert.match(r2.message, /Zoë ☃/, 'SayHelloAgain keeps UTF-8 intact');
    done.push('SayHelloAgain');
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => unary(c, 'SayHello', { name: 'n' + i })));
    many.forEach((r, i) => assert.match(r.message, new RegExp(`n${i}\\b`)));
    done.push('20 concurrent SayHello');
  } finally {
    c.close();
  }
  return done;
}

/** grpc.testing.TestService: all four call kinds, plus a status error and an unimplemented method. */
export async function callInterop(port) {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(join(PROTOS, 'grpc/testing/test.proto'), LOAD_OPTS));
  const c = client(pkg.grpc.testing.TestService, port);
  const done = [];
  const body = (n) => Buffer.alloc(n, 0x5a);
  try {
    await unary(c, 'EmptyCall', {});
    done.push('EmptyCall');

    const u = await unary(c, 'UnaryCall', { response_size: 31415, payload: { body: body(27182) } });
    assert.equal(u.payload.body.length, 31415, 'UnaryCall response size');
    done.push('UnaryCall (large)');

    const sizes = [31415, 9, 2653, 58979];
    const out = await new Promise((resolve, reject) => {
      const got = [];
      const call = c.StreamingOutputCall({ response_parameters: sizes.map((size) => ({ size })) }, { deadline: deadline() });
      call.on('data', (m) => got.push(m.payload.body.length));
      call.on('error', reject);
      call.on('end', () => resolve(got));
    });
    assert.deepEqual(out, sizes, 'StreamingOutputCall sizes');
    done.push('StreamingOutputCall');

    const inSizes = [27182, 8, 1828, 45904];
    const agg = await new Promise((resolve, reject) => {
      const call = c.StreamingInputCall({ deadline: deadline() }, (err, res) => (err ? reject(err) : resolve(res)));
      for (const n of inSizes) call.write({ payload: { body: body(n) } });
      call.end();
    });
    assert.equal(agg.aggregated_payload_size, 74922, 'StreamingInputCall aggregate');
    done.push('StreamingInputCall');

    // Ping-pong: send one request, wait for its reply, then the next.
    const pp = await new Promise((resolve, reject) => {
      const call = c.FullDuplexCall({ deadline: deadline() });
      const got = [];
      let i = 0;
      const send = () => call.write({ response_parameters: [{ size: sizes[i] }], payload: { body: body(inSizes[i]) } });
      call.on('data', (m) => {
        got.push(m.payload.body.length);
        if (++i < sizes.length) send();
        else call.end();
      });
      call.on('error', reject);
      call.on('end', () => resolve(got));
      send();
    });
    assert.deepEqual(pp, sizes, 'FullDuplexCall ping-pong sizes');
    done.push('FullDuplexCall');

    const err = await unary(c, 'UnaryCall', { response_status: { code: 2, message: 'test status message' } }).then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'UnaryCall with response_status fails');
    assert.equal(err.code, 2, 'status code echoed');
    assert.equal(err.details, 'test status message', 'status message echoed');
    done.push('status echo');

    const un = await unary(c, 'UnimplementedCall', {}).then(
      () => null,
      (e) => e,
    );
    assert.equal(un?.code, grpc.status.UNIMPLEMENTED, 'UnimplementedCall -> UNIMPLEMENTED');
    done.push('UnimplementedCall');
  } finally {
    c.close();
  }
  return done;
}
