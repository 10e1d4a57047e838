// The Greeter with health, server reflection and the web protocols (`npm start` serves this, plus
// /metrics and the status page: start.ts). gRPC, gRPC-Web and Connect on one port, over HTTP/2 and
// HTTP/1.1, browsers from any origin allowed (an example: list your origins in a real service).
//
//   npm start
//   curl -H 'content-type: application/json' -d '{"name":"pi"}' http://127.0.0.1:50051/helloworld.Greeter/SayHello
//   npx buf curl --protocol connect -d '{"name":"pi"}' http://127.0.0.1:50051/helloworld.Greeter/SayHello
//
// On a board: `npm run build -- --target pi4b --entry examples/greeter/web.ts --name greeter-web`.
// What the web protocols add to a bundle is in firmware-notes.md.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { webProtocols } from '../../src/index.js';
import { runGreeter } from './greeter.js';
import type { GreeterOptions } from './greeter.js';
import { startGreeterWithReflection } from './health-reflection.js';

/** What server-reflection.ts serves (the Greeter, health, reflection), with gRPC-Web and Connect on. */
export function startWebGreeter(options: GreeterOptions = {}): ReturnType<typeof startGreeterWithReflection> {
  return startGreeterWithReflection({ web: webProtocols({ cors: { origins: '*' } }), ...options });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runGreeter(startWebGreeter);
}
