// The client of test/server/dead-peer.test.ts, run inside the network namespace the test creates
// (ip netns exec): a grpc-js ServerStream call to HOST:PORT that prints "message" when its first
// reply arrives, then waits for more until the test kills it.
import { TestClient, grpc } from '../grpc/helpers.js';

const [host, port] = process.argv.slice(2);
const client = new (TestClient())(`${host}:${port}`, grpc.credentials.createInsecure()) as any;
const call = client.ServerStream({ text: 'hold', count: 1 });
call.on('data', () => console.log('message'));
call.on('error', (e: Error) => console.log(`error ${e.message}`));
