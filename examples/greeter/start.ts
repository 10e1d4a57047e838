// What `npm start` runs: the Greeter with the health service, server reflection and the web
// protocols (as web.ts: gRPC-Web, Connect and HTTP/1.1 on the same port), plus /metrics and the
// status page (src/observe), open to loopback clients, so that http://127.0.0.1:50051/ and
// /metrics answer right away, over HTTP/1.1 (browsers, Prometheus) and HTTP/2.
//
//   npm start                                 0.0.0.0:50051; the page and /metrics for 127.0.0.1 / ::1 only
//   METRICS_TOKEN=s3cret npm start            also for other clients with "Authorization: Bearer s3cret"
//                                             (or http://<board>:50051/?token=s3cret in a browser)
//   node build/examples/greeter/start.js 50052      or PORT=50052, HOST=127.0.0.1
//
// The Greeter bundle (server.ts) leaves all of this out; see test/build/bundle-observe.test.ts.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { webProtocols } from '../../src/index.js';
import { enableObserve } from '../../src/observe/index.js';
import { runGreeter } from './greeter.js';
import type { GreeterOptions } from './greeter.js';
import { greeterHealth, startGreeterWithReflection } from './health-reflection.js';

/** What web.ts serves (the Greeter, health, reflection, gRPC-Web and Connect), plus /metrics and the status page. */
export function startObservedGreeter(options: GreeterOptions = {}): ReturnType<typeof startGreeterWithReflection> {
  const token = process.env.METRICS_TOKEN;
  // The status page shows this health service's statuses.
  const health = greeterHealth();
  return startGreeterWithReflection(
    {
      web: webProtocols({ cors: { origins: '*' } }),
      ...options,
      setup: (server) => {
        // Loopback clients get in as they are; others only with METRICS_TOKEN, when it is set.
        enableObserve(server, { health, allow: ['loopback'], ...(token ? { token } : {}) });
        options.setup?.(server);
      },
    },
    health,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runGreeter(startObservedGreeter);
}
