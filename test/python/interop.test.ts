// The interop cases driven by python3-grpcio (gRPC C-core: an HTTP/2 and gRPC stack independent of
// grpc-js) against our interop server, started in-process. Each case reports one JSON line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { startInteropServer } from '../../examples/interop/server.js';
import { fromRoot } from '../support/paths.js';
import { waitFor } from '../interop/helpers.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import grpc'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `python3-grpcio not available (${(probe.error?.message ?? probe.stderr).trim()})`;

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
    const out = await new Promise<string>((resolve, reject) => {
      execFile(PYTHON, [fromRoot('test/python/interop_client.py'), String(srv.port)], { encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(new Error(`python interop client failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
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
