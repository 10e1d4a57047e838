// The Greeter with the health service and server reflection: what `npm start` runs. Reflection
// lets grpcurl, buf curl, grpcui, Postman... list and call the Greeter without its .proto file:
//
//   npm start
//   buf curl --protocol grpc --http2-prior-knowledge --list-methods http://127.0.0.1:50051
//   buf curl --protocol grpc --http2-prior-knowledge -d '{"name":"pi"}' \
//     http://127.0.0.1:50051/helloworld.Greeter/SayHello
//
// On a board: `npm run build -- --target pi4b --entry examples/greeter/server-reflection.ts
// --name greeter-reflection`. The plain Greeter bundle (server.ts) carries none of this; what
// reflection adds to a bundle is in firmware-notes.md.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HealthImplementation, healthFileDescriptors } from '../../src/services/health.js';
import { addReflection } from '../../src/services/reflection.js';
import { fileDescriptors } from './generated/helloworld.js';
import { runGreeter, startGreeter } from './greeter.js';
import type { GreeterOptions } from './greeter.js';

/** startGreeter() plus grpc.health.v1.Health and server reflection (v1 and v1alpha). */
export function startGreeterWithReflection(options: GreeterOptions = {}): ReturnType<typeof startGreeter> {
  return startGreeter({
    ...options,
    setup: (server) => {
      new HealthImplementation({ 'helloworld.Greeter': 'SERVING' }).addToServer(server);
      addReflection(server, fileDescriptors, healthFileDescriptors);
      options.setup?.(server);
    },
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runGreeter(startGreeterWithReflection);
}
