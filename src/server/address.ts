// Bind addresses: "host:port", "[v6]:port", "unix:/path" (also "unix:///path", as grpc-js takes).
export interface BindTarget {
  host?: string;
  port?: number;
  path?: string;
}

export function parseBindAddress(address: string): BindTarget {
  if (typeof address !== 'string' || address.length === 0) throw new TypeError('bind: address must be a non-empty string');
  if (address.startsWith('unix:')) {
    let path = address.slice(5);
    if (path.startsWith('//')) path = path.slice(2);
    if (path.length === 0) throw new Error(`bind ${address}: empty unix socket path`);
    return { path };
  }
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    if (end < 0 || address[end + 1] !== ':') throw new Error(`bind ${address}: expected "[ipv6]:port"`);
    host = address.slice(1, end);
    portText = address.slice(end + 2);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon <= 0) throw new Error(`bind ${address}: expected "host:port" or "unix:/path"`);
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(':')) throw new Error(`bind ${address}: put an IPv6 address in brackets, "[::1]:port"`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new Error(`bind ${address}: port must be an integer from 0 to 65535`);
  }
  return { host, port: Number(portText) };
}
