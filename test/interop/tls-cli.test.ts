// The interop server over TLS (generated certificate, ALPN h2) and as a command-line program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { startInteropServer } from '../../examples/interop/server.js';
import { fromRoot } from '../support/paths.js';
import { clientPackage, unary, StreamReader, grpc } from './helpers.js';

const pkg = clientPackage('grpc/testing/test.proto');

test('TLS: large_unary and ping_pong with the host override interop clients use', async () => {
  const srv = await startInteropServer({ host: '127.0.0.1', port: 0, useTls: true });
  assert.ok(srv.caCert !== null);
  const client = new pkg.grpc.testing.TestService(`127.0.0.1:${srv.port}`, grpc.credentials.createSsl(srv.caCert), {
    'grpc.ssl_target_name_override': 'foo.test.google.fr',
    'grpc.default_authority': 'foo.test.google.fr',
  });
  try {
    const r = await unary(client, 'UnaryCall', { response_size: 314159, payload: { body: Buffer.alloc(271828) } });
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(r.response.payload.body.length, 314159);
    const call = client.FullDuplexCall();
    const reader = new StreamReader(call);
    for (const size of [31415, 9]) {
      call.write({ response_parameters: [{ size }] });
      assert.equal((await reader.next())?.payload.body.length, size);
    }
    call.end();
    assert.equal((await reader.status()).code, grpc.status.OK);
  } finally {
    client.close();
    srv.server.forceShutdown();
    await srv.server.terminated;
  }
});

test('command line: --port 0 prints the port, serves, exits 0 on SIGTERM; bad options exit 1', async () => {
  const script = fromRoot('build/examples/interop/server.js');
  const child = spawn(process.execPath, [script, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, 'line')) as [string];
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
    assert.ok(m, line);
    const client = new pkg.grpc.testing.TestService(`127.0.0.1:${m[1]}`, grpc.credentials.createInsecure());
    const r = await unary(client, 'EmptyCall', {});
    client.close();
    assert.equal(r.error, undefined);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const bad = spawn(process.execPath, [script, '--bogus'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  bad.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = await once(bad, 'exit');
  assert.equal(code, 1);
  assert.match(stderr, /unknown option --bogus/);
});
