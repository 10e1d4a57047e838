// The server scripts/bench/mem.mjs measures: the Greeter service on one Server, bundled by
// scripts/build.mjs for the target (profile baked in), like the Greeter bundle. One difference:
// MAX_CONNECTIONS in the environment overrides the profile's maxConnections, so that the idle
// measurement can hold more connections than the cap (2,000 on host-x64, whose cap is 1,024).
//   node mem-server.js [port]      listens on 127.0.0.1; prints "listening <port>" (serve.ts)
import { Server, loadServices } from '../../src/index.js';
import { descriptor, serviceNames } from '../../examples/greeter/generated/helloworld.js';
import { greeter, serve } from './serve.js';

const max = process.env.MAX_CONNECTIONS;
const server = new Server(max !== undefined ? { maxConnections: Number(max) } : {});
server.addService(loadServices(descriptor)[serviceNames.Greeter]!, greeter);
serve(server, 'mem-server');
