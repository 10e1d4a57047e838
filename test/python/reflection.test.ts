// Server reflection with Python: Debian's python3-grpcio ships no reflection client (no
// grpc_reflection module; grpcio-reflection is not packaged), so reflection_client.py does what that
// client does, on python3-grpcio (the C-core transport) and python3-protobuf's DescriptorPool: list
// services, fetch their files, build message classes from them, and call the Greeter and health.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startGreeterWithReflection } from '../../examples/greeter/server-reflection.js';
import { PYTHON, runPythonClient, skip as noGrpc } from './python.js';

const probe = spawnSync(PYTHON, ['-c', 'import google.protobuf'], { encoding: 'utf8' });
const skip = noGrpc || (probe.status === 0 ? false : `python3-protobuf not available (${(probe.error?.message ?? probe.stderr).trim()})`);

test('python grpcio + protobuf reflection client: lists, fetches files, calls SayHello and Check with classes made from them', { skip }, async () => {
  const { server, port } = await startGreeterWithReflection({ address: '127.0.0.1:0' });
  try {
    const out = JSON.parse(await runPythonClient('reflection_client.py', [String(port)], 'python reflection client'));
    assert.deepEqual(out, {
      service_names: ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'helloworld.Greeter'],
      files: {
        'grpc.health.v1.Health': ['grpc/health/v1/health.proto'],
        'grpc.reflection.v1.ServerReflection': ['grpc/reflection/v1/reflection.proto'],
        'grpc.reflection.v1alpha.ServerReflection': ['grpc/reflection/v1alpha/reflection.proto'],
        'helloworld.Greeter': ['helloworld.proto'],
      },
      errors: [
        { code: 5, message: 'file "no/such.proto" not found' },
        { code: 5, message: 'symbol "helloworld.Nope" not found' },
        { code: 5, message: 'extension 100 of "helloworld.HelloRequest" not found' },
      ],
      extension_numbers: { base_type_name: 'helloworld.HelloRequest', numbers: [] },
      reply: 'hello python',
      health: 'SERVING',
    });
  } finally {
    server.forceShutdown();
    await server.terminated;
  }
});
