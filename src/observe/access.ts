// Who may read /metrics and the status page. A board on a shared network should not show its
// internals to everyone:
//
//   allow   client addresses that get in without a token: "loopback", "any", an address
//           ("192.168.1.20", "::1") or a subnet ("192.168.1.0/24", "fd00::/8").
//           Default: ["loopback"] without a token, none with one.
//   token   a bearer token that lets any other client in: "Authorization: Bearer <token>", or
//           "?token=<token>" in the URL (for a browser, where no header can be typed).
//
// Refused: 401 (with WWW-Authenticate: Bearer) when a token is configured and was missing or wrong,
// else 403. A unix-socket client counts as loopback.
import { BlockList, isIP } from 'node:net';

export interface AccessOptions {
  token?: string;
  allow?: string[];
}

export type AccessResult = 200 | 401 | 403;

/** Checks a request against the options; throws at once (TypeError/RangeError) on a bad option. */
export class AccessPolicy {
  readonly #token: Buffer | null;
  readonly #list = new BlockList();
  #any = false;
  #loopback = false;
  #some = false;

  constructor(o: AccessOptions = {}) {
    if (o.token !== undefined && (typeof o.token !== 'string' || o.token.length === 0)) {
      throw new TypeError('observe: token must be a non-empty string');
    }
    this.#token = o.token === undefined ? null : Buffer.from(o.token, 'utf8');
    if (o.allow !== undefined && !Array.isArray(o.allow)) throw new TypeError('observe: allow must be an array of addresses');
    const allow = o.allow ?? (o.token === undefined ? ['loopback'] : []);
    for (const entry of allow) this.#add(entry);
  }

  #add(entry: unknown): void {
    if (typeof entry !== 'string') throw new TypeError(`observe: allow entries must be strings, got ${String(entry)}`);
    if (entry === 'any' || entry === '*') {
      this.#any = true;
      return;
    }
    if (entry === 'loopback') {
      this.#loopback = true;
      this.#list.addSubnet('127.0.0.0', 8, 'ipv4');
      this.#list.addAddress('::1', 'ipv6');
      this.#some = true;
      return;
    }
    const slash = entry.indexOf('/');
    const addr = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(addr);
    if (family === 0) throw new RangeError(`observe: allow entry "${entry}" is not an address, a subnet, "loopback" or "any"`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      this.#list.addAddress(addr, type);
    } else {
      const bits = Number(entry.slice(slash + 1));
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128) || entry.slice(slash + 1) === '') {
        throw new RangeError(`observe: allow entry "${entry}" has a bad prefix length`);
      }
      this.#list.addSubnet(addr, bits, type);
    }
    this.#some = true;
  }

  /** Whether `remoteAddress` (undefined: a unix socket) is allowed in without a token. */
  addressAllowed(remoteAddress: string | undefined): boolean {
    if (this.#any) return true;
    if (remoteAddress === undefined) return this.#loopback;
    if (!this.#some) return false;
    // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
    const a = remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
    const family = isIP(a);
    return family !== 0 && this.#list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** 200, or the status to refuse with. `token`: from the Authorization header or the URL. */
  check(remoteAddress: string | undefined, token: string | undefined): AccessResult {
    if (this.addressAllowed(remoteAddress)) return 200;
    if (this.#token === null) return 403;
    return token !== undefined && sameBytes(this.#token, Buffer.from(token, 'utf8')) ? 200 : 401;
  }

  get hasToken(): boolean {
    return this.#token !== null;
  }
}

/** Constant-time comparison for equal lengths (the length itself is not secret here). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** The token of an "Authorization: Bearer <token>" header value. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return m === null ? undefined : m[1];
}
