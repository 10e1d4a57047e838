// The classic Greeter client in Python (Debian's python3-grpcio, generic calls, protobuf bytes by
// hand) against our Greeter example, started in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { startGreeter } from '../../examples/greeter/server.js';
import { fromRoot } from '../support/paths.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import grpc'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `python3-grpcio not available (${(probe.error?.message ?? probe.stderr).trim()})`;

function runClient(port: number, names: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [fromRoot('test/python/greeter_client.py'), String(port), ...names], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python client failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

test('python grpcio client: SayHello and SayHelloAgain answer "hello <name>"; unknown method UNIMPLEMENTED', { skip }, async () => {
  const { server, port } = await startGreeter({ address: '127.0.0.1:0' });
  try {
    const out = await runClient(port, ['world', 'Zoë ☺']);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { method: 'SayHello', message: 'hello world', code: 'OK' },
      { method: 'SayHelloAgain', message: 'hello world', code: 'OK' },
      { method: 'SayHello', message: 'hello Zoë ☺', code: 'OK' },
      { method: 'SayHelloAgain', message: 'hello Zoë ☺', code: 'OK' },
      { method: 'SayGoodbye', code: 'UNIMPLEMENTED' },
    ]);
  } finally {
    server.forceShutdown();
    await server.terminated;
  }
});
