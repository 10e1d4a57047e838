// An HTTP/2 echo server on grpc-edge's own codec (h2c with prior knowledge, or TLS with ALPN 'h2').
//   GET  /            a small text body
//   GET  /bytes?n=N   N octets, streamed under backpressure (write() / ondrain)
//   POST /echo (or /) the request body streamed back, trailers echoed as trailers; the request
//                     window is handed back (consume) only as fast as the response drains
//   anything else     404
// Run: node build/examples/h2-echo/server.js [--port 8080] [--host 127.0.0.1] [--key k.pem --cert c.pem]
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Duplex } from 'node:stream';
import { Http2ServerConnection, peerInfoOf } from '../../src/http2/index.js';
import type { Http2Options, ServerStream } from '../../src/http2/index.js';

const HELLO = Buffer.from('hello from grpc-edge h2-echo\n');
const NOT_FOUND = Buffer.from('not found\n');
const CHUNK = Buffer.alloc(16384, 0x61);
const MAX_BYTES = 1 << 30;

class Echo {
  private held = 0;
  constructor(private readonly s: ServerStream) {
    s.respond([':status', '200', 'content-type', 'application/octet-stream']);
    s.ondata = this.onData;
    s.onend = this.onEnd;
    s.ondrain = this.onDrain;
  }
  private readonly onData = (chunk: Buffer): void => {
    // Echo at once; give the window back only while the response side keeps up.
    if (this.s.write(chunk) && this.held === 0) this.s.consume(chunk.length);
    else this.held += chunk.length;
  };
  private readonly onDrain = (): void => {
    if (this.held > 0) {
      this.s.consume(this.held);
      this.held = 0;
    }
  };
  private readonly onEnd = (trailers: string[] | null): void => {
    this.s.end(trailers ?? undefined);
  };
}

class ByteSource {
  constructor(
    private readonly s: ServerStream,
    private left: number,
  ) {
    const headers = [':status', '200', 'content-type', 'application/octet-stream', 'content-length', String(left)];
    if (left === 0) {
      s.respond(headers, true); // nothing to send: a headers-only response ends the stream
      return;
    }
    s.respond(headers);
    s.ondrain = this.pump;
    this.pump();
  }
  private readonly pump = (): void => {
    const s = this.s;
    while (this.left > 0 && !s.closed) {
      const n = Math.min(this.left, CHUNK.length);
      this.left -= n;
      const ok = s.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
      if (this.left === 0) s.end();
      if (!ok) return;
    }
  };
}

function header(h: string[], name: string): string {
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1]!;
  return '';
}

/** The echo server's request handler, usable with any Http2ServerConnection. */
export function echoHandler(stream: ServerStream): void {
  const h = stream.headers;
  const method = header(h, ':method');
  const full = header(h, ':path');
  const q = full.indexOf('?');
  const path = q < 0 ? full : full.slice(0, q);
  if ((method === 'GET' || method === 'HEAD') && path === '/') {
    stream.respond([':status', '200', 'content-type', 'text/plain', 'content-length', String(HELLO.length)], method === 'HEAD');
    if (method === 'GET') {
      stream.write(HELLO);
      stream.end();
    }
    return;
  }
  if (method === 'POST' && (path === '/echo' || path === '/')) {
    new Echo(stream);
    return;
  }
  if (method === 'GET' && path === '/bytes') {
    const n = Number(new URLSearchParams(full.slice(q + 1)).get('n') ?? '0');
    if (Number.isInteger(n) && n >= 0 && n <= MAX_BYTES) {
      new ByteSource(stream, n);
      return;
    }
  }
  stream.respond([':status', '404', 'content-type', 'text/plain']);
  stream.write(NOT_FOUND);
  stream.end();
}

export interface EchoServerOptions {
  port?: number;
  host?: string;
  /** PEM key and certificate: serve TLS with ALPN 'h2'. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  http2?: Http2Options;
}

export interface EchoServer {
  port: number;
  /** Live connections (tests read their stats). */
  connections: Set<Http2ServerConnection>;
  close(): Promise<void>;
}

export async function startEchoServer(opts: EchoServerOptions = {}): Promise<EchoServer> {
  const connections = new Set<Http2ServerConnection>();
  const http2 = opts.http2 ?? {};
  const onSocket = (socket: Duplex): void => {
    const conn = new Http2ServerConnection(socket, peerInfoOf(socket), http2, echoHandler);
    connections.add(conn);
    conn.onclose = () => connections.delete(conn);
  };
  const server: net.Server =
    opts.tls !== undefined
      ? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert, ALPNProtocols: ['h2'] }, onSocket)
      : net.createServer(onSocket);
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of connections) c.destroy();
      }),
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const key = arg('key');
  const cert = arg('cert');
  const srv = await startEchoServer({
    port: Number(arg('port') ?? 8080),
    host: arg('host') ?? '127.0.0.1',
    tls: key !== undefined && cert !== undefined ? { key: readFileSync(key), cert: readFileSync(cert) } : undefined,
  });
  console.log(`h2-echo listening on ${arg('host') ?? '127.0.0.1'}:${srv.port}${key ? ' (TLS, ALPN h2)' : ' (h2c)'}`);
}
