// Graceful shutdown in two steps (RFC 9113 section 6.8): "A server that is attempting to gracefully
// shut down a connection SHOULD send an initial GOAWAY frame with the last stream identifier set to
// 2^31-1 and a NO_ERROR code. This signals to the client that a shutdown is imminent and that
// initiating further requests is prohibited. After allowing time for any in-flight stream creation
// (at least one round-trip time), the server MAY send another GOAWAY frame with an updated last
// stream identifier." The round trip is a PING; without its ACK a timer sends the final GOAWAY.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { echoHandler } from '../../examples/h2-echo/server.js';
import { Http2ServerConnection, peerInfoOf } from '../../src/http2/index.js';
import type { ServerStream } from '../../src/http2/index.js';
import { ErrorCode } from '../../src/http2/errors.js';
import { Flag, FrameType, MAX_WINDOW_SIZE } from '../../src/http2/frame/constants.js';
import { H2Client, POST_HEADERS, rawFrame } from '../support/h2-client.js';

interface TestServer {
  port: number;
  conns: Http2ServerConnection[];
  close(): Promise<void>;
}

/** A server whose handler is `handler(stream, conn)` (echo by default). */
async function startServer(
  handler: (s: ServerStream, conn: Http2ServerConnection) => void = (s) => echoHandler(s),
): Promise<TestServer> {
  const conns: Http2ServerConnection[] = [];
  const server = net.createServer((socket) => {
    const conn: Http2ServerConnection = new Http2ServerConnection(socket, peerInfoOf(socket), {}, (s) => handler(s, conn));
    conns.push(conn);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    conns,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of conns) c.destroy();
      }),
  };
}

const data = (id: number, payload: string, end = false) => rawFrame(FrameType.DATA, end ? Flag.END_STREAM : 0, id, Buffer.from(payload));

/** The server's shutdown PING: answer it (the round trip that ends the first step). */
async function answerPing(c: H2Client): Promise<void> {
  const p = await c.expectFrame(FrameType.PING, (f) => !f.ack);
  c.ping(Buffer.from(p.data), true);
}

describe('graceful shutdown (RFC 9113 6.8)', () => {
  test('node:http2 client: streams opened as shutdown starts all complete, none refused', async () => {
    let shutdownDone = false;
    const s = await startServer((stream, conn) => {
      if (!shutdownDone) {
        shutdownDone = true;
        conn.shutdown(); // while the client's next requests are already on the wire
      }
      echoHandler(stream);
    });
    const session = http2.connect(`http://127.0.0.1:${s.port}`);
    session.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('connect', () => resolve());
        session.once('error', reject);
      });
      const N = 20;
      const results = await Promise.all(
        Array.from(
          { length: N },
          () =>
            new Promise<string>((resolve) => {
              const req = session.request({ ':method': 'GET', ':path': '/' });
              let status = 0;
              let body = '';
              req.setEncoding('utf8');
              req.on('response', (h) => (status = Number(h[':status'])));
              req.on('data', (d: string) => (body += d));
              req.on('end', () => resolve(status === 200 && body.length > 0 ? 'ok' : `status ${status}`));
              req.on('error', (e: Error) => resolve(e.message));
              req.end();
            }),
        ),
      );
      assert.deepEqual(results, Array(N).fill('ok'));
      assert.equal(s.conns.length, 1);
      const st = s.conns[0]!.stats;
      assert.equal(st.streamsRefused, 0);
      assert.equal(st.streamsOpened, N);
      // and the server closes the connection once they are done
      await new Promise<void>((resolve) => (session.closed ? resolve() : session.once('close', () => resolve())));
    } finally {
      session.destroy();
      await s.close();
    }
  });

  test('first GOAWAY(2^31-1) + PING; a request racing it is served; after the PING ACK, GOAWAY(last id); later ones refused', async () => {
    const s = await startServer();
    const c = await H2Client.connect(s.port);
    try {
      c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }), data(1, 'abc'));
      await c.expectFrame(FrameType.DATA, (f) => f.streamId === 1 && f.data.length === 3);
      s.conns[0]!.shutdown();
      const first = await c.expectGoaway(ErrorCode.NO_ERROR);
      assert.equal(first.lastStreamId, MAX_WINDOW_SIZE); // 2^31-1
      // sent before the client saw the GOAWAY, as far as the server can tell: still served
      c.get(3);
      const r3 = await c.expectResponse(3);
      assert.equal(r3.status, '200');
      await answerPing(c);
      const last = await c.expectGoaway(ErrorCode.NO_ERROR);
      assert.equal(last.lastStreamId, 3);
      c.get(5);
      await c.expectRst(5, ErrorCode.REFUSED_STREAM);
      // the open stream still finishes, then the server closes
      c.send(data(1, 'def', true));
      const rest = await c.expectFrame(FrameType.DATA, (f) => f.streamId === 1 && f.data.length > 0);
      assert.equal(rest.data.toString(), 'def'); // 'abc' was taken above
      if (!rest.endStream) await c.expectFrame(FrameType.DATA, (f) => f.streamId === 1 && f.endStream);
      await c.expectClosed();
    } finally {
      c.close();
      await s.close();
    }
  });

  test('a client that never answers the PING still gets the final GOAWAY (timer), then the close', async () => {
    const s = await startServer();
    const c = await H2Client.connect(s.port);
    try {
      await c.expectAlive(1);
      s.conns[0]!.shutdown();
      const first = await c.expectGoaway(ErrorCode.NO_ERROR);
      assert.equal(first.lastStreamId, MAX_WINDOW_SIZE);
      await c.expectFrame(FrameType.PING, (f) => !f.ack);
      const last = await c.expectGoaway(ErrorCode.NO_ERROR, 5000);
      assert.equal(last.lastStreamId, 1);
      await c.expectClosed(5000);
    } finally {
      c.close();
      await s.close();
    }
  });

  test('shutdown() twice, or during the first step, sends no third GOAWAY', async () => {
    const s = await startServer();
    const c = await H2Client.connect(s.port);
    try {
      c.send(c.headersFrame(1, POST_HEADERS, { endStream: false }));
      await c.expectFrame(FrameType.HEADERS, (f) => f.streamId === 1);
      const conn = s.conns[0]!;
      conn.shutdown();
      conn.shutdown();
      await c.expectGoaway(ErrorCode.NO_ERROR);
      await answerPing(c);
      await c.expectGoaway(ErrorCode.NO_ERROR);
      conn.shutdown();
      await c.expectNoFrameBeforePingAck(FrameType.GOAWAY);
      c.send(rawFrame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.alloc(0)));
      await c.expectClosed();
      assert.equal(c.log.filter((l) => l.startsWith('GOAWAY')).length, 2, c.history());
    } finally {
      c.close();
      await s.close();
    }
  });
});
