// The Greeter with /metrics and the status page (src/observe) and nothing else: no web protocols.
// Prometheus, curl and browsers still reach /metrics, / and /status.json over HTTP/1.1 (http://)
// on the gRPC port: src/observe brings the HTTP/1.1 transport (src/http1) for its own routes; any
// other HTTP/1.1 request gets a short 404/405, or 505 for a gRPC call.
//
//   node build/examples/greeter/metrics.js 50052      or PORT=50052, HOST=127.0.0.1
//   curl http://127.0.0.1:50052/metrics              loopback only; METRICS_TOKEN=... for others
//
// test/build/bundle-observe.test.ts bundles it (the observe-only budget) and runs the bundle.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { enableObserve } from '../../src/observe/index.js';
import { runGreeter, startGreeter } from './greeter.js';
import type { GreeterOptions } from './greeter.js';

/** The Greeter plus enableObserve() (loopback, or METRICS_TOKEN as a bearer token). */
export function startMetricsGreeter(options: GreeterOptions = {}): ReturnType<typeof startGreeter> {
  const token = process.env.METRICS_TOKEN;
  return startGreeter({
    ...options,
    setup: (server) => {
      enableObserve(server, { allow: ['loopback'], ...(token ? { token } : {}) });
      options.setup?.(server);
    },
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runGreeter(startMetricsGreeter);
}
