// The per-file echo server of the HTTP/2 conformance and flood tests: started in before() on
// 127.0.0.1 port 0, closed in after(). Call echoFixture() at the top level of a test file.
//
//   const echo = echoFixture({ http2: LIMITS });
//   const { run, serverConn } = echo;
//   test('...', run(async (c) => { ... }));           // a fresh raw client, always closed
//   const c = await H2Client.connect(echo.port);       // echo.port / echo.server once started
import { before, after } from 'node:test';
import { startEchoServer, type EchoServer, type EchoServerOptions } from '../../examples/h2-echo/server.js';
import type { Http2ServerConnection } from '../../src/http2/connection.js';
import { withClient, type ConnectOptions, type H2Client } from './h2-client.js';

export class EchoFixture {
  #server: EchoServer | undefined;

  constructor(opts: Omit<EchoServerOptions, 'port' | 'host'> = {}) {
    before(async () => {
      this.#server = await startEchoServer({ ...opts, port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await this.#server?.close();
    });
  }

  /** The running server (from before() on). */
  get server(): EchoServer {
    if (this.#server === undefined) throw new Error('echo server not started yet (use it inside a test)');
    return this.#server;
  }

  get port(): number {
    return this.server.port;
  }

  /** A test body run on a fresh raw client connected to the server; the client is always closed. */
  readonly run = (fn: (c: H2Client) => Promise<void>, opts?: ConnectOptions) => (): Promise<void> =>
    withClient(this.port, fn, opts);

  /** The server's side of a raw client's connection. */
  readonly serverConn = (c: H2Client): Http2ServerConnection => {
    for (const conn of this.server.connections) if (conn.peer.remotePort === c.socket.localPort) return conn;
    throw new Error('server connection not found');
  };
}

/** Register before()/after() hooks for one echo server shared by the tests of this file. */
export function echoFixture(opts: Omit<EchoServerOptions, 'port' | 'host'> = {}): EchoFixture {
  return new EchoFixture(opts);
}
