// The interop cases driven by python3-grpcio (gRPC C-core: an HTTP/2 and gRPC stack independent of
// grpc-js) against our interop server, started in-process. Each case reports one JSON line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInteropServer } from '../../examples/interop/server.js';
import { waitFor } from '../interop/helpers.js';
import { runPythonClient, skip } from './python.js';

const CASES = [
  'empty_unary',
  'large_unary',
  'client_compressed_unary',
  'server_compressed_unary',
  'client_streaming',
  'server_streaming',
  'ping_pong',
  'empty_stream',
  'custom_metadata',
  'status_code_and_message',
  'special_status_message',
  'unimplemented_method',
  'unimplemented_service',
  'cancel_after_first_response',
  'timeout_on_sleeping_server',
];

test('python grpcio (C-core) interop client: every case passes', { skip }, async () => {
  const srv = await startInteropServer({ host: '127.0.0.1', port: 0 });
  try {
    // Asynchronous on purpose: a synchronous child would block the server's event loop.
    const out = await runPythonClient('interop_client.py', [String(srv.port)], 'python interop client');
    const results = out.trim().split('\n').map((l) => JSON.parse(l) as { case: string; ok: boolean; detail: unknown });
    assert.deepEqual(
      results.map((r) => r.case),
      CASES,
    );
    for (const r of results) assert.ok(r.ok, `${r.case}: ${String(r.detail)}`);
    // Cancelled and timed-out calls have let go of their running slots.
    await waitFor(() => srv.server.stats.running === 0, 'every call to release its slot');
  } finally {
    srv.server.forceShutdown();
    await srv.server.terminated;
  }
});
