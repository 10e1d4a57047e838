// The Greeter example, imported (not spawned), with a grpc-js client from protos/helloworld.proto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fromRoot } from '../support/paths.js';
import { startGreeter } from '../../examples/greeter/server.js';

test('greeter: SayHello and SayHelloAgain answer "hello <name>"', async () => {
  const { server, port } = await startGreeter({ address: '127.0.0.1:0' });
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(fromRoot('protos/helloworld.proto'))) as any;
  const client = new pkg.helloworld.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    for (const m of ['SayHello', 'SayHelloAgain']) {
      const reply = await new Promise<{ message: string }>((resolve, reject) =>
        client[m]({ name: 'world' }, (err: Error | null, r: { message: string }) => (err ? reject(err) : resolve(r))),
      );
      assert.equal(reply.message, 'hello world');
    }
  } finally {
    client.close();
    await server.stop(1000);
  }
});
