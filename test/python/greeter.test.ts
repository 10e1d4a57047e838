// The classic Greeter client in Python (Debian's python3-grpcio, generic calls, protobuf bytes by
// hand) against our Greeter example, started in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGreeter } from '../../examples/greeter/server.js';
import { runPythonClient, skip } from './python.js';

const runClient = (port: number, names: string[]): Promise<string> =>
  runPythonClient('greeter_client.py', [String(port), ...names], 'python client');

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
