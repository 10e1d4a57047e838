// The server scripts/bench/mem.mjs measures: the Greeter service on one Server, bundled by
// scripts/build.mjs for the target (profile baked in), like the Greeter bundle. One difference:
// MAX_CONNECTIONS in the environment overrides the profile's maxConnections, so that the idle
// measurement can hold more connections than the cap (2,000 on host-x64, whose cap is 1,024).
//   node mem-server.js [port]      listens on 127.0.0.1; prints "listening <port>"
import { Server, ServerCredentials, loadServices } from '../../src/index.js';
import { descriptor, serviceNames } from '../../examples/greeter/generated/helloworld.js';
import type { GreeterHandlers } from '../../examples/greeter/generated/helloworld.js';

const greeter: GreeterHandlers = {
  SayHello: (req) => ({ message: 'hello ' + req.name }),
  SayHelloAgain: (req) => ({ message: 'hello ' + req.name }),
};

const max = process.env.MAX_CONNECTIONS;
const server = new Server(max !== undefined ? { maxConnections: Number(max) } : {});
server.addService(loadServices(descriptor)[serviceNames.Greeter]!, greeter);
server.bind('127.0.0.1:' + (process.argv[2] ?? '0'), ServerCredentials.createInsecure()).then(
  (port) => {
    server.start();
    console.log('listening ' + port);
  },
  (err: unknown) => {
    console.error('mem-server: ' + (err as Error).message);
    process.exit(1);
  },
);
const stop = (): void => {
  server.stop(1000).then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
