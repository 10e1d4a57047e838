// The Greeter with the health service and server reflection (health-reflection.ts). Reflection
// lets grpcurl, buf curl, grpcui, Postman... list and call the Greeter without its .proto file:
//
//   node build/examples/greeter/server-reflection.js      (npm start serves this too, with more)
//   buf curl --protocol grpc --http2-prior-knowledge --list-methods http://127.0.0.1:50051
//   buf curl --protocol grpc --http2-prior-knowledge -d '{"name":"pi"}' \
//     http://127.0.0.1:50051/helloworld.Greeter/SayHello
//
// On a board: `npm run build -- --target pi4b --entry examples/greeter/server-reflection.ts
// --name greeter-reflection`. The plain Greeter bundle (server.ts) carries none of this; what
// reflection adds to a bundle is in firmware-notes.md.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runGreeter } from './greeter.js';
import { startGreeterWithReflection } from './health-reflection.js';

export { startGreeterWithReflection } from './health-reflection.js';

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runGreeter(startGreeterWithReflection);
}
