// The Greeter example, alone (no reflection, no health): the entry `npm run build` bundles for every
// board, and the one the pi-zero-2w size budget is checked on. server-reflection.ts is the same
// Greeter with health and server reflection.
//
//   node build/examples/greeter/server.js 50052      or PORT=50052, HOST=127.0.0.1 (default 0.0.0.0:50051)
//
// Prints one line when ready. Tests import startGreeter() instead of running it.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runGreeter, startGreeter } from './greeter.js';

export { greeterHandlers, startGreeter, runGreeter } from './greeter.js';
export type { GreeterOptions } from './greeter.js';

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) runGreeter(startGreeter);
