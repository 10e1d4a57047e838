// Node built-ins that only some servers need, loaded on first use: an insecure server never loads
// node:tls or node:crypto (measured on x64: about 0.5 MB less RSS, idle and under load).
import { createRequire } from 'node:module';

type Tls = typeof import('node:tls');
type Crypto = typeof import('node:crypto');

const load = createRequire(import.meta.url);
let tls: Tls | undefined;
let crypto: Crypto | undefined;

export function nodeTls(): Tls {
  return (tls ??= load('node:tls') as Tls);
}

export function nodeCrypto(): Crypto {
  return (crypto ??= load('node:crypto') as Crypto);
}
