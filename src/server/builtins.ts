// Node built-ins that only some servers need, loaded on first use: an insecure server never loads
// node:tls or node:crypto (measured on x64: about 0.5 MB less RSS, idle and under load), and only
// the first reclaim after a burst of connections loads node:v8 and node:vm.
import { createRequire } from 'node:module';

type Tls = typeof import('node:tls');
type Crypto = typeof import('node:crypto');
type GC = () => void;

const load = createRequire(import.meta.url);
let tls: Tls | undefined;
let crypto: Crypto | undefined;
let gc: GC | false | undefined;

export function nodeTls(): Tls {
  return (tls ??= load('node:tls') as Tls);
}

export function nodeCrypto(): Crypto {
  return (crypto ??= load('node:crypto') as Crypto);
}

/**
 * V8's gc() for the reclaim after a burst of connections (src/server/connections.ts), looked for
 * once: the global one when node runs with --expose-gc, else taken from a new vm context made while
 * the flag is set (V8 gives gc() only to contexts created with it on; Node 20.11, the armv7l
 * executable's, refuses --expose-gc in NODE_OPTIONS). The flag is cleared at once, so the main
 * context, and any context or worker the application makes later, get no gc(). Holding the
 * function keeps that context alive: about 155 KB of heap on x64, 81 KB on armv7l. false: V8 gave
 * none.
 */
export function v8gc(): GC | false {
  if (gc !== undefined) return gc;
  let f = (globalThis as { gc?: GC }).gc;
  if (typeof f !== 'function') {
    const v8 = load('node:v8') as typeof import('node:v8');
    v8.setFlagsFromString('--expose-gc');
    try {
      f = (load('node:vm') as typeof import('node:vm')).runInNewContext('gc') as GC;
    } catch {
      // a V8 that ignored the flag, or --expose-gc-as=<another name> on the command line
    }
    v8.setFlagsFromString('--no-expose-gc');
  }
  return (gc = typeof f === 'function' && f);
}
