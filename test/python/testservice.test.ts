// The same server as the gRPC tests against a second client implementation: python3-grpcio (gRPC C
// core), driven by test/python/testservice_client.py. Skipped with the reason when /usr/bin/python3
// cannot import grpc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, deferred, Status, GrpcError } from '../grpc/helpers.js';
import type { Msg } from '../grpc/helpers.js';
import { Metadata } from '../../src/index.js';
import type { CallContext, ServerWriter } from '../../src/index.js';
import { runPythonClient, skip } from './python.js';

// Every class of character the percent-encoding treats differently.
const ODD = 'héllo ✓ 🚀 100% done\nline\r\n\ttab %41 \u0000\u007f ~';
const b64 = (b: Buffer): string => b.toString('base64');

test('python3-grpcio client: percent-encoded message and status details, -bin metadata with several values, deadline, UNIMPLEMENTED, gzip, error after messages', { skip }, async () => {
  const waitReason = deferred<unknown>();
  const h = await startHarness({
    Unary: async (req: Msg, ctx: CallContext) => {
      switch (req.text) {
        case 'odd': {
          const md = new Metadata();
          md.set('x-why', 'because');
          md.set('grpc-status-details-bin', Buffer.from([8, 3, 18, 1, 0x78]));
          throw new GrpcError(Status.INVALID_ARGUMENT, ODD, md);
        }
        case 'metadata': {
          const md = new Metadata();
          md.set('x-echo', String(ctx.metadata.get('x-token')[0]));
          for (const v of ctx.metadata.get('x-data-bin')) md.add('x-echo-bin', v);
          ctx.sendHeaders(md);
          ctx.trailers.add('x-trailer-bin', Buffer.from([0xff]));
          ctx.trailers.add('x-trailer-bin', Buffer.from('two'));
          return { text: 'ok' };
        }
        case 'wait':
          return new Promise((resolve) =>
            ctx.signal.addEventListener('abort', () => {
              waitReason.resolve(ctx.signal.reason);
              resolve({ text: 'late' });
            }),
          );
        case 'zip':
          ctx.setCompression('gzip');
          return { text: 'zip', data: req.data };
        default:
          return { text: req.text };
      }
    },
    ServerStream: async (req: Msg, out: ServerWriter<Partial<Msg>>) => {
      for (let i = 0; i < req.count; i++) await out.write({ count: i + 1 });
      throw new GrpcError(Status.DATA_LOSS, 'after messages');
    },
  });
  try {
    const stdout = await runPythonClient('testservice_client.py', [String(h.port)], 'testservice_client.py');
    const r = JSON.parse(stdout);
    // The C core decodes grpc-message back to exactly what the handler threw.
    assert.equal(r.odd.code, 'INVALID_ARGUMENT');
    assert.equal(r.odd.details, ODD);
    assert.deepEqual(
      r.odd.trailing.filter(([k]: [string]) => k === 'x-why' || k === 'grpc-status-details-bin'),
      [['x-why', 'because'], ['grpc-status-details-bin', b64(Buffer.from([8, 3, 18, 1, 0x78]))]],
    );
    assert.equal(r.metadata.reply, 'ok');
    const initial = r.metadata.initial.filter(([k]: [string]) => k.startsWith('x-'));
    assert.deepEqual(initial, [
      ['x-echo', 'abc'],
      ['x-echo-bin', b64(Buffer.from([0xde, 0xad, 0xbe, 0xef]))],
      ['x-echo-bin', b64(Buffer.from([0, 1]))],
    ]);
    assert.deepEqual(r.metadata.trailing.filter(([k]: [string]) => k.startsWith('x-')), [
      ['x-trailer-bin', b64(Buffer.from([0xff]))],
      ['x-trailer-bin', b64(Buffer.from('two'))],
    ]);
    assert.equal(r.deadline, 'DEADLINE_EXCEEDED');
    const why = await waitReason.promise;
    assert.ok(why instanceof GrpcError && (why.code === Status.DEADLINE_EXCEEDED || why.code === Status.CANCELLED), String(why));
    assert.deepEqual(r.unknown, ['UNIMPLEMENTED', 'unknown method Nope for service edge.test.TestService']);
    assert.deepEqual(r.gzip, ['zip', 50_000]);
    assert.deepEqual(r.stream, [[1, 2, 3], 'DATA_LOSS', 'after messages']);
  } finally {
    await h.close();
  }
});
